/* Connections, the contract's events, timers and output batching of the
 * floor server. One thread, level-triggered epoll, one read per ready
 * socket. Output is queued per connection and written once per batch of
 * epoll events (as sockio's writev batching does), then the buffer is
 * freed: an idle connection holds only its struct. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"
#include "rooms.h"

#define CONNECT_TIMEOUT 45 /* no Socket.IO CONNECT by then: closed, as the reference */
#define HEAD_TIMEOUT 10
#define CLOSING_TIMEOUT 5 /* a connection closing after its last write */

enum { ST_HTTP, ST_WS, ST_CLOSING };

struct membership {
	struct room *room;
	uint32_t pos;
};

struct conn {
	int fd;
	uint32_t gen;
	uint8_t state, sio, awaiting_pong, dirty, epollout, doomed, nrooms;
	uint32_t timer;            /* seconds: head deadline, next ping, pong deadline, closing deadline */
	uint32_t connect_deadline; /* before the Socket.IO CONNECT */
	int32_t all_pos;           /* in the list of connected sockets, -1 when not in it */
	uint32_t in_len, out_off, out_len, out_cap;
	uint8_t *in, *out;
	struct membership *rooms;
};

struct server_stats stats;

static int epfd = -1;
static struct conn **conns;
static size_t conns_cap;
static int *all;
static uint32_t n_all;
static size_t all_cap;
static int *dirty;
static size_t n_dirty, dirty_cap;
static uint32_t gen_counter;
static uint32_t last_tick;
static uint64_t rng[2];
/* Seconds; the contract's defaults, shorter only in tests (--ping-interval). */
static uint32_t ping_interval = 25, ping_timeout = 20;
static char open_tail[128]; /* the open packet after its sid */
static size_t open_tail_len;

/* Input: what is left of a partial frame, then one read. */
static uint8_t rbuf[MAX_PAYLOAD + 14 + 65536];
/* Frames built once, for one connection or a whole broadcast. */
static uint8_t obuf[MAX_PAYLOAD + 64];

uint32_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

void server_set_ping(uint32_t interval, uint32_t timeout)
{
	ping_interval = interval;
	ping_timeout = timeout;
	int n = snprintf(open_tail, sizeof open_tail,
	                 "\",\"upgrades\":[],\"pingInterval\":%u000,\"pingTimeout\":%u000,\"maxPayload\":%d}",
	                 interval, timeout, MAX_PAYLOAD);
	open_tail_len = (size_t)n;
}

int server_init(void)
{
	if (open_tail_len == 0)
		server_set_ping(ping_interval, ping_timeout);
	if (getrandom(rng, sizeof rng, 0) != sizeof rng || (rng[0] | rng[1]) == 0)
		rng[0] = (uint64_t)time(NULL) | 1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	last_tick = now_seconds();
	return epfd;
}

int server_epoll_fd(void) { return epfd; }

void *server_conn(int fd) { return fd >= 0 && (size_t)fd < conns_cap ? conns[fd] : NULL; }

/* new_id: 20 characters of base64url from xorshift128+, for the Engine.IO
 * and Socket.IO ids (unique enough for a bench; not for secrets). */
static void new_id(char out[20])
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (int i = 0; i < 20; i += 10) {
		uint64_t s1 = rng[0], s0 = rng[1];
		rng[0] = s0;
		s1 ^= s1 << 23;
		rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
		uint64_t v = rng[1] + s0;
		for (int j = 0; j < 10; j++, v >>= 6)
			out[i + j] = tab[v & 63];
	}
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * elem);
	if (n == NULL)
		return -1;
	memset((char *)n + *cap * elem, 0, (c - *cap) * elem);
	*p = n;
	*cap = c;
	return 0;
}

static void mark_dirty(struct conn *c)
{
	if (c->dirty)
		return;
	if (n_dirty == dirty_cap && grow((void **)&dirty, &dirty_cap, n_dirty + 1, sizeof *dirty) < 0) {
		c->doomed = 1; /* out of memory: better closed than silently stalled */
		return;
	}
	c->dirty = 1;
	dirty[n_dirty++] = c->fd;
}

/* queue appends bytes to the connection's output; a connection past
 * MAX_OUT is a slow consumer and is closed at the next flush. */
static void queue(struct conn *c, const void *data, size_t n)
{
	if (c->doomed || c->state == ST_CLOSING)
		return;
	if ((size_t)(c->out_len - c->out_off) + n > MAX_OUT) {
		c->doomed = 1;
		mark_dirty(c);
		return;
	}
	if (c->out_len + n > c->out_cap) {
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_len + n > c->out_cap) {
			size_t cap = c->out_cap ? (size_t)c->out_cap * 2 : 512;
			while (cap < c->out_len + n)
				cap *= 2;
			uint8_t *o = realloc(c->out, cap);
			if (o == NULL) {
				c->doomed = 1;
				mark_dirty(c);
				return;
			}
			c->out = o;
			c->out_cap = (uint32_t)cap;
		}
	}
	memcpy(c->out + c->out_len, data, n);
	c->out_len += (uint32_t)n;
	mark_dirty(c);
}

/* frame builds a text frame in obuf from up to four parts (NULL, 0 for none). */
static size_t frame(const void *a, size_t an, const void *b, size_t bn, const void *d, size_t dn,
                    const void *e, size_t en)
{
	size_t h = ws_header(obuf, WS_TEXT, an + bn + dn + en);
	uint8_t *p = obuf + h;
	if (an)
		memcpy(p, a, an);
	if (bn)
		memcpy(p + an, b, bn);
	if (dn)
		memcpy(p + an + bn, d, dn);
	if (en)
		memcpy(p + an + bn + dn, e, en);
	return h + an + bn + dn + en;
}

static void send_text(struct conn *c, const void *a, size_t an, const void *b, size_t bn, const void *d, size_t dn)
{
	queue(c, obuf, frame(a, an, b, bn, d, dn, NULL, 0));
}

/* closing queues a last message (a close frame, an HTTP answer) and closes
 * the connection once it is written. */
static void closing(struct conn *c, const void *last, size_t n)
{
	if (c->state == ST_CLOSING)
		return;
	queue(c, last, n);
	c->state = ST_CLOSING;
	c->timer = now_seconds() + CLOSING_TIMEOUT;
	mark_dirty(c);
}

static void close_frame(struct conn *c, int code)
{
	uint8_t f[4] = {0x88, 2, (uint8_t)(code >> 8), (uint8_t)code};
	stats.protocol_errors += code != 1000;
	closing(c, f, sizeof f);
}

static void leave_all(struct conn *c)
{
	for (uint8_t i = 0; i < c->nrooms; i++) {
		struct room_member moved = room_remove(c->rooms[i].room, c->rooms[i].pos);
		if (moved.fd >= 0)
			conns[moved.fd]->rooms[moved.slot].pos = c->rooms[i].pos;
	}
	c->nrooms = 0;
	free(c->rooms);
	c->rooms = NULL;
	if (c->all_pos >= 0) {
		int last = all[--n_all];
		if ((uint32_t)c->all_pos != n_all) {
			all[c->all_pos] = last;
			conns[last]->all_pos = c->all_pos;
		}
		c->all_pos = -1;
	}
	c->sio = 0;
}

static void conn_close(struct conn *c)
{
	leave_all(c);
	conns[c->fd] = NULL;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	stats.closed++;
}

void *conn_new(int fd)
{
	int one = 1;
	/* As Node.js and Go do by default: small frames go out at once. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct conn *c = NULL;
	if (grow((void **)&conns, &conns_cap, (size_t)fd + 1, sizeof *conns) < 0 || (c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return NULL;
	}
	if (++gen_counter == 0)
		gen_counter = 1;
	c->fd = fd;
	c->gen = gen_counter;
	c->all_pos = -1;
	c->state = ST_HTTP;
	c->timer = now_seconds() + HEAD_TIMEOUT;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)c->gen << 32 | (uint32_t)fd};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		close(fd);
		return NULL;
	}
	conns[fd] = c;
	stats.accepted++;
	return c;
}

static void keep_input(struct conn *c, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if ((c->in = malloc(n)) == NULL) {
		c->doomed = 1;
		mark_dirty(c);
		return;
	}
	memcpy(c->in, p, n);
	c->in_len = (uint32_t)n;
}

static void http_answer(struct conn *c, const char *status, const char *body)
{
	char buf[256];
	int n = snprintf(buf, sizeof buf,
	                 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	                 status, body[0] == '{' ? "application/json" : "text/plain", strlen(body), body);
	closing(c, buf, (size_t)n);
}

static void accept_websocket(struct conn *c, const struct http_req *req)
{
	static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	                           "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
	char key[29], sid[20];
	ws_accept_key(req->ws_key, req->ws_key_len, key);
	uint8_t buf[sizeof head + 28 + 4 + 160];
	size_t n = 0;
	memcpy(buf, head, sizeof head - 1);
	n += sizeof head - 1;
	memcpy(buf + n, key, 28);
	n += 28;
	memcpy(buf + n, "\r\n\r\n", 4);
	n += 4;
	new_id(sid);
	static const char open1[] = "0{\"sid\":\"";
	size_t fl = frame(open1, sizeof open1 - 1, sid, 20, open_tail, open_tail_len, NULL, 0);
	memcpy(buf + n, obuf, fl);
	n += fl;
	queue(c, buf, n);
	uint32_t now = now_seconds();
	c->state = ST_WS;
	c->timer = now + ping_interval;
	c->connect_deadline = now + CONNECT_TIMEOUT;
}

static void on_head(struct conn *c, const struct http_req *req)
{
	switch (req->route) {
	case ROUTE_WEBSOCKET:
		accept_websocket(c, req);
		return;
	case ROUTE_GC:
		malloc_trim(0); /* the floor's "garbage collection": freed memory back to the OS */
		http_answer(c, "200 OK", "ok");
		return;
	case ROUTE_BAD_METHOD:
		http_answer(c, "400 Bad Request", "{\"code\":2,\"message\":\"Bad handshake method\"}");
		return;
	case ROUTE_BAD_VERSION:
		http_answer(c, "400 Bad Request", "{\"code\":5,\"message\":\"Unsupported protocol version\"}");
		return;
	case ROUTE_BAD_TRANSPORT:
		/* The floor serves WebSocket only: no polling, hence no upgrade. */
		http_answer(c, "400 Bad Request", "{\"code\":0,\"message\":\"Transport unknown\"}");
		return;
	case ROUTE_BAD_UPGRADE:
		http_answer(c, "400 Bad Request", "{\"code\":3,\"message\":\"Bad request\"}");
		return;
	default:
		http_answer(c, "404 Not Found", "");
	}
}

static void join(struct conn *c, const char *name, size_t len)
{
	struct room *r = room_get(name, len, 1);
	if (r == NULL || c->nrooms == MAX_ROOMS_PER_CONN) {
		if (r != NULL)
			room_drop_if_empty(r);
		close_frame(c, 1008); /* too many rooms or too long a name: policy */
		return;
	}
	for (uint8_t i = 0; i < c->nrooms; i++)
		if (c->rooms[i].room == r)
			return;
	struct membership *m = realloc(c->rooms, ((size_t)c->nrooms + 1) * sizeof *m);
	if (m == NULL) {
		close_frame(c, 1011);
		return;
	}
	c->rooms = m;
	int64_t pos = room_add(r, c->fd, c->nrooms);
	if (pos < 0) {
		close_frame(c, 1011);
		return;
	}
	m[c->nrooms++] = (struct membership){r, (uint32_t)pos};
}

static void ack_empty(struct conn *c, int64_t id)
{
	char num[24];
	int n = snprintf(num, sizeof num, "43%lld", (long long)id);
	send_text(c, num, (size_t)n, "[]", 2, NULL, 0);
}

static int name_is(const struct sio_event *ev, const char *lit)
{
	size_t n = strlen(lit);
	return ev->name_len == n && memcmp(ev->name, lit, n) == 0;
}

static void on_event(struct conn *c, const struct sio_event *ev)
{
	if (name_is(ev, "echo")) {
		if (ev->ack >= 0) {
			char num[24];
			int n = snprintf(num, sizeof num, "43%lld[", (long long)ev->ack);
			send_text(c, num, (size_t)n, ev->args, ev->args_len, "]", 1);
		} else {
			send_text(c, "42", 2, ev->array, ev->array_len, NULL, 0);
		}
	} else if (name_is(ev, "broadcast")) {
		/* The client's array already reads ["broadcast",args...]. */
		size_t fl = frame("42", 2, ev->array, ev->array_len, NULL, 0, NULL, 0);
		for (uint32_t i = 0; i < n_all; i++)
			queue(conns[all[i]], obuf, fl);
		if (ev->ack >= 0)
			ack_empty(c, ev->ack);
	} else if (name_is(ev, "join")) {
		const char *room, *rest;
		size_t room_len, rest_len;
		if (sio_first_string(ev->args, ev->args_len, &room, &room_len, &rest, &rest_len) < 0) {
			close_frame(c, 1003); /* the floor knows string rooms only */
			return;
		}
		join(c, room, room_len);
		if (ev->ack >= 0)
			ack_empty(c, ev->ack);
	} else if (name_is(ev, "broadcast_room")) {
		const char *room, *rest;
		size_t room_len, rest_len;
		if (sio_first_string(ev->args, ev->args_len, &room, &room_len, &rest, &rest_len) < 0) {
			close_frame(c, 1003);
			return;
		}
		struct room *r = room_get(room, room_len, 0);
		if (r != NULL) {
			static const char head[] = "42[\"broadcast\"";
			size_t fl = frame(head, sizeof head - 1, ",", rest_len ? 1 : 0, rest, rest_len, "]", 1);
			for (uint32_t i = 0; i < r->n; i++)
				queue(conns[r->m[i].fd], obuf, fl);
		}
		if (ev->ack >= 0)
			ack_empty(c, ev->ack);
	}
	/* Any other event: no handler, ignored, as the reference does. */
}

/* on_message handles a Socket.IO packet (the Engine.IO message after its '4'). */
static void on_message(struct conn *c, const char *p, size_t n)
{
	if (n == 0) {
		close_frame(c, 1002);
		return;
	}
	const char *rest = p + 1;
	size_t rn = n - 1;
	switch (p[0]) {
	case '0': /* CONNECT, with an optional auth object the floor does not read */
		if (rn > 0 && rest[0] == '/' && !(rn == 1 || rest[1] == ',')) {
			const char *comma = memchr(rest, ',', rn);
			size_t ns = comma ? (size_t)(comma - rest) : rn;
			static const char msg[] = ",{\"message\":\"Invalid namespace\"}";
			send_text(c, "44", 2, rest, ns, msg, sizeof msg - 1);
			return;
		}
		if (!c->sio) {
			char sid[20];
			new_id(sid);
			if (n_all == all_cap && grow((void **)&all, &all_cap, (size_t)n_all + 1, sizeof *all) < 0) {
				close_frame(c, 1011);
				return;
			}
			c->sio = 1;
			c->all_pos = (int32_t)n_all;
			all[n_all++] = c->fd;
			send_text(c, "40{\"sid\":\"", 10, sid, 20, "\"}", 2);
		}
		return;
	case '1': /* DISCONNECT: the socket leaves, the connection stays */
		if (rn == 0 || (rn >= 2 && rest[0] == '/' && rest[1] == ','))
			leave_all(c);
		return;
	case '2': {
		struct sio_event ev;
		if (!c->sio || (rn > 0 && rest[0] == '/') || sio_parse_event(rest, rn, &ev) < 0) {
			close_frame(c, 1002); /* not connected, another namespace, or not an event */
			return;
		}
		on_event(c, &ev);
		return;
	}
	case '3': /* an ACK: the floor never asks for one */
		if (!c->sio)
			close_frame(c, 1002);
		return;
	default: /* binary packets (the bench sends none), CONNECT_ERROR, unknown */
		close_frame(c, 1003);
	}
}

/* on_text handles an Engine.IO packet. */
static void on_text(struct conn *c, const uint8_t *p, size_t n)
{
	if (n == 0) {
		close_frame(c, 1002);
		return;
	}
	switch (p[0]) {
	case '3': /* pong: the next ping is due ping_interval after the last one */
		if (c->awaiting_pong) {
			c->awaiting_pong = 0;
			c->timer = c->timer - ping_timeout + ping_interval;
		}
		return;
	case '4':
		on_message(c, (const char *)p + 1, n - 1);
		return;
	case '6': /* noop */
		return;
	case '1': /* close */
		close_frame(c, 1000);
		return;
	default: /* a ping from the client, an upgrade probe, anything else */
		close_frame(c, 1002);
	}
}

static void on_frame(struct conn *c, const struct ws_frame *f, uint8_t *p)
{
	switch (f->opcode) {
	case WS_TEXT:
		if (!f->fin) {
			close_frame(c, 1003); /* fragmented messages: not served by the floor */
			return;
		}
		on_text(c, p, f->len);
		return;
	case WS_PING: {
		uint8_t h[2 + 125];
		size_t hl = ws_header(h, WS_PONG, f->len);
		memcpy(h + hl, p, f->len);
		queue(c, h, hl + f->len);
		return;
	}
	case WS_PONG:
		return;
	case WS_CLOSE: {
		/* Echo the status code, as RFC 6455 asks, then close. */
		uint8_t h[4] = {0x88, 0};
		if (f->len >= 2) {
			h[1] = 2;
			h[2] = p[0];
			h[3] = p[1];
		}
		closing(c, h, f->len >= 2 ? 4 : 2);
		return;
	}
	default: /* binary (Engine.IO binary packets: the bench sends none), a stray continuation */
		close_frame(c, 1003);
	}
}

/* process consumes input in buf (which it may modify) and keeps what is
 * left of a partial head or frame. */
static void process(struct conn *c, uint8_t *buf, size_t n)
{
	size_t off = 0;
	if (c->state == ST_HTTP) {
		struct http_req req;
		switch (http_parse((const char *)buf, n, &req)) {
		case HTTP_NEED_MORE:
			keep_input(c, buf, n);
			return;
		case HTTP_TOO_BIG:
			http_answer(c, "431 Request Header Fields Too Large", "");
			return;
		case HTTP_BAD:
			http_answer(c, "400 Bad Request", "");
			return;
		}
		on_head(c, &req);
		if (c->state != ST_WS)
			return;
		off = req.head_len;
	}
	while (off < n && c->state == ST_WS && !c->doomed) {
		struct ws_frame f;
		int rc = ws_parse_header(buf + off, n - off, MAX_PAYLOAD, &f);
		if (rc == WS_NEED_MORE)
			break;
		if (rc == WS_BAD) {
			close_frame(c, 1002);
			return;
		}
		if (rc == WS_TOO_BIG) {
			close_frame(c, 1009);
			return;
		}
		if (n - off - f.hdr_len < f.len)
			break;
		uint8_t *pl = buf + off + f.hdr_len;
		ws_unmask(pl, f.len, f.mask);
		off += f.hdr_len + f.len;
		on_frame(c, &f, pl);
	}
	if (c->state == ST_WS)
		keep_input(c, buf + off, n - off);
}

static void readable(struct conn *c)
{
	size_t have = c->in_len;
	if (have) {
		memcpy(rbuf, c->in, have);
		free(c->in);
		c->in = NULL;
		c->in_len = 0;
	}
	ssize_t r = read(c->fd, rbuf + have, sizeof rbuf - have);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			keep_input(c, rbuf, have);
			return;
		}
		conn_close(c); /* end of stream or a reset */
		return;
	}
	if (c->state == ST_CLOSING)
		return; /* input after our last word is dropped */
	process(c, rbuf, have + (size_t)r);
}

/* conn_write writes the queued output; -1 when the connection is gone. */
static int conn_write(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (w > 0) {
			c->out_off += (uint32_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!c->epollout) {
				struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)c->gen << 32 | (uint32_t)c->fd};
				epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
				c->epollout = 1;
			}
			return 0;
		}
		conn_close(c);
		return -1;
	}
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
	if (c->epollout) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)c->gen << 32 | (uint32_t)c->fd};
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
		c->epollout = 0;
	}
	if (c->state == ST_CLOSING) {
		conn_close(c);
		return -1;
	}
	return 0;
}

void server_flush(void)
{
	/* Entries are fds: a connection closed in this batch leaves a NULL or,
	 * if its fd was reused, a connection whose own flag decides. */
	for (size_t i = 0; i < n_dirty; i++) {
		struct conn *c = conns[dirty[i]];
		if (c == NULL || !c->dirty)
			continue;
		c->dirty = 0;
		if (c->doomed) {
			conn_close(c);
			continue;
		}
		conn_write(c);
	}
	n_dirty = 0;
}

void server_handle(uint64_t tag, uint32_t events)
{
	uint32_t fd = (uint32_t)tag;
	struct conn *c = fd < conns_cap ? conns[fd] : NULL;
	if (c == NULL || c->gen != (uint32_t)(tag >> 32))
		return; /* closed earlier in this batch */
	if ((events & EPOLLOUT) && conn_write(c) < 0)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		readable(c);
}

void server_tick(uint32_t now)
{
	for (size_t fd = 0; fd < conns_cap; fd++) {
		struct conn *c = conns[fd];
		if (c == NULL)
			continue;
		switch (c->state) {
		case ST_HTTP:
		case ST_CLOSING:
			if (now >= c->timer)
				conn_close(c);
			break;
		case ST_WS:
			if (!c->sio && c->connect_deadline && now >= c->connect_deadline) {
				close_frame(c, 1000);
			} else if (now >= c->timer) {
				if (c->awaiting_pong) {
					conn_close(c); /* ping timeout */
				} else {
					static const uint8_t ping[3] = {0x81, 1, '2'};
					queue(c, ping, sizeof ping);
					c->awaiting_pong = 1;
					c->timer = now + ping_timeout;
				}
			}
			break;
		}
	}
}

int server_poll(int timeout_ms, void (*other)(uint64_t tag))
{
	struct epoll_event evs[256];
	int n = epoll_wait(epfd, evs, 256, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -1;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 >> 32 == 0) {
			if (other)
				other(evs[i].data.u64);
		} else {
			server_handle(evs[i].data.u64, evs[i].events);
		}
	}
	server_flush();
	uint32_t now = now_seconds();
	if (now != last_tick) {
		last_tick = now;
		server_tick(now);
		server_flush();
	}
	return n < 0 ? 0 : n;
}

void server_close_all(void)
{
	for (size_t fd = 0; fd < conns_cap; fd++)
		if (conns[fd] != NULL)
			conn_close(conns[fd]);
	n_dirty = 0;
}
