/* floor: the cost floor of a Socket.IO server (issue #18). A single-threaded
 * epoll server in C that speaks just enough Engine.IO 4 / Socket.IO 5 over
 * WebSocket to serve bench/contract.md, so that compare.sh can show what
 * the kernel costs with next to no user-space work. Not a general server:
 * WebSocket only (no polling, no upgrade), namespace "/" only, text frames
 * only, event arguments checked for balanced JSON structure but otherwise
 * sent back verbatim. See README.md beside this file. */
#ifndef FLOOR_H
#define FLOOR_H

#include <stddef.h>
#include <stdint.h>

/* Limits, as the contract's defaults (maxHttpBufferSize 1e6) and sockio's
 * (16 KiB request head). */
#define MAX_HEAD 16384
#define MAX_PAYLOAD 1000000
#define MAX_OUT (16u << 20)  /* pending output per connection; past it: slow consumer, closed */
#define MAX_ROOMS_PER_CONN 16
#define MAX_ROOM_NAME 256
#define MAX_JSON_DEPTH 64

/* wskey.c: Sec-WebSocket-Accept = base64(SHA-1(key + GUID)). */
void sha1(const uint8_t *data, size_t n, uint8_t out[20]);
size_t base64_encode(const uint8_t *in, size_t n, char *out); /* returns chars written, no NUL */
void ws_accept_key(const char *key, size_t n, char out[29]);  /* 28 chars + NUL */

/* http.c: the request head of a WebSocket upgrade or GET /debug/gc. */
enum http_route {
	ROUTE_WEBSOCKET,    /* /socket.io/?EIO=4&transport=websocket, a valid upgrade */
	ROUTE_GC,           /* GET /debug/gc */
	ROUTE_NOT_FOUND,    /* any other path: 404 */
	ROUTE_BAD_METHOD,   /* not GET: 400 code 2 */
	ROUTE_BAD_VERSION,  /* EIO missing or not 4: 400 code 5 */
	ROUTE_BAD_TRANSPORT,/* polling or unknown transport, or a sid (an upgrade): 400 code 0 */
	ROUTE_BAD_UPGRADE,  /* websocket without a valid upgrade request: 400 code 3 */
};
enum { HTTP_NEED_MORE = 0, HTTP_DONE = 1, HTTP_BAD = -1, HTTP_TOO_BIG = -2 };
struct http_req {
	size_t head_len; /* bytes of the head, the blank line included */
	int route;
	const char *ws_key;
	size_t ws_key_len;
};
int http_parse(const char *buf, size_t len, struct http_req *req);

/* ws.c: RFC 6455 frames, server side (client frames are masked). */
enum { WS_NEED_MORE = 0, WS_OK = 1, WS_BAD = -1, WS_TOO_BIG = -2 };
enum { WS_CONT = 0, WS_TEXT = 1, WS_BINARY = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };
struct ws_frame {
	int fin, opcode;
	uint64_t len;   /* payload length */
	size_t hdr_len; /* header bytes, mask included */
	uint8_t mask[4];
};
int ws_parse_header(const uint8_t *b, size_t n, uint64_t max_payload, struct ws_frame *f);
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4]);
size_t ws_header(uint8_t *dst, int opcode, size_t len); /* unmasked, FIN set; 2, 4 or 10 bytes */

/* sio.c: the Socket.IO EVENT packet, after its "42". */
struct sio_event {
	int64_t ack;            /* -1: no acknowledgement asked */
	const char *array;      /* the JSON array, '[' to ']' */
	size_t array_len;
	const char *name;       /* the event name's raw bytes, between its quotes */
	size_t name_len;
	const char *args;       /* the arguments after the name, without the comma; may be empty */
	size_t args_len;
};
int sio_parse_event(const char *p, size_t n, struct sio_event *ev); /* 0 ok, -1 bad */
/* sio_first_string reads a JSON string at the start of s (the room of
 * join/broadcast_room): its raw content and what follows it, after a comma
 * when there is one. 0 ok, -1 not a string. */
int sio_first_string(const char *s, size_t n, const char **str, size_t *str_len,
                     const char **rest, size_t *rest_len);

/* server.c: connections, events, rooms, timers. */
struct server_stats {
	uint64_t accepted, closed, protocol_errors;
};
extern struct server_stats stats;
int server_init(void);                 /* the epoll instance; -1 on failure */
void server_set_ping(uint32_t interval, uint32_t timeout); /* seconds; before server_init */
int server_epoll_fd(void);
/* conn_new registers an accepted socket in HTTP state; NULL on failure (fd closed). */
void *conn_new(int fd);
void *server_conn(int fd);             /* the live connection on fd, or NULL */
/* server_poll waits up to timeout_ms, handles the ready connections, hands
 * events whose tag has no generation (tag >> 32 == 0: the listener, the
 * signals) to other, writes what was queued and runs the second's timers.
 * It returns the number of events, -1 on an epoll failure. */
int server_poll(int timeout_ms, void (*other)(uint64_t tag));
void server_tick(uint32_t now_s);      /* the timers, as at second now_s (server_poll calls it) */
void server_close_all(void);
uint32_t now_seconds(void);

#endif
