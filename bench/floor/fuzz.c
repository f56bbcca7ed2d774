/* Fuzzing of the whole connection: each input is written into one end of a
 * socketpair whose other end is a floor connection, so the real read path
 * runs (HTTP head, frames, Engine.IO and Socket.IO packets, rooms, output
 * queueing), built with AddressSanitizer and UBSan. Each input runs twice:
 * in one write, and in small chunks (partial heads and frames); half the
 * time the timers are run an hour ahead before the end of stream.
 *
 * Input format, so that mutations reach the packets behind the masks and
 * lengths: pieces separated by 0xFF. The first piece (the HTTP head) is
 * sent as is; each later one becomes a masked text frame, unless it starts
 * with 0xFE: then the rest of it is sent as is (raw frames).
 *
 *   floor-fuzz DIR [N]   # the seeds in DIR, then N mutations of them
 *
 * No libFuzzer here (gcc only), so the mutations are ours: bit flips, byte
 * changes, inserts, deletes, duplicated and spliced ranges, from a seed set
 * by FLOOR_FUZZ_SEED (printed, so a failure can be replayed). A failing
 * input is written to crash-<n> before the sanitizer report. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

#define FUZZ_MAX 131072

static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void drain(int fd)
{
	char buf[65536];
	while (read(fd, buf, sizeof buf) > 0) {
	}
}

static void pump(int peer)
{
	/* Until the server has nothing left to do for this connection. */
	for (int i = 0; i < 64 && server_poll(0, NULL) > 0; i++)
		drain(peer);
	drain(peer);
}

static void run_once(const uint8_t *data, size_t n, size_t chunk, int timers)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
	int fd = sv[0];
	if (conn_new(fd) == NULL) {
		close(sv[1]);
		return;
	}
	for (size_t off = 0; off < n && server_conn(fd) != NULL;) {
		size_t k = n - off < chunk ? n - off : chunk;
		ssize_t w = write(sv[1], data + off, k);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN)
			break;
		pump(sv[1]);
	}
	if (timers && server_conn(fd) != NULL) {
		server_tick(now_seconds() + 3600);
		pump(sv[1]);
	}
	close(sv[1]);
	pump(sv[1]);
	/* The end of stream must close it; anything else is a leak. */
	if (server_conn(fd) != NULL) {
		fprintf(stderr, "floor-fuzz: connection still open after the end of stream\n");
		abort();
	}
}

static const uint8_t *cur;
static size_t cur_n;
static unsigned long crash_id;

/* stream turns an input into the bytes a client sends (see the top). */
static size_t stream(const uint8_t *in, size_t n, uint8_t *out)
{
	static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
	size_t o = 0, i = 0;
	for (int first = 1; i <= n; first = 0) {
		const uint8_t *sep = memchr(in + i, 0xff, n - i);
		size_t end = sep ? (size_t)(sep - in) : n;
		const uint8_t *p = in + i;
		size_t k = end - i;
		if (first || (k > 0 && p[0] == 0xfe)) {
			if (!first) {
				p++;
				k--;
			}
			memcpy(out + o, p, k);
			o += k;
		} else {
			o += ws_header(out + o, WS_TEXT, k);
			out[o - (k < 126 ? 1 : k < 65536 ? 3 : 9)] |= 0x80; /* the mask bit */
			memcpy(out + o, key, 4);
			o += 4;
			for (size_t j = 0; j < k; j++)
				out[o + j] = p[j] ^ key[j & 3];
			o += k;
		}
		i = end + 1;
	}
	return o;
}

static void run(const uint8_t *input, size_t in_n)
{
	static uint8_t data[FUZZ_MAX * 15 + 16];
	size_t n = stream(input, in_n, data);
	cur = input;
	cur_n = in_n;
	run_once(data, n, n ? n : 1, 0);
	/* Small chunks, but at most about 64 of them for a long input. */
	size_t chunk = 1 + n % 13;
	if (chunk < n / 64)
		chunk = n / 64;
	run_once(data, n, chunk, n & 1);
}

static void save_current(void)
{
	char name[64];
	snprintf(name, sizeof name, "crash-%lu", crash_id);
	FILE *f = fopen(name, "wb");
	if (f) {
		fwrite(cur, 1, cur_n, f);
		fclose(f);
	}
}

/* The sanitizers abort the process: keep the input that did it. */
void __sanitizer_set_death_callback(void (*cb)(void));

struct seed {
	uint8_t *d;
	size_t n;
};

static size_t mutate(uint8_t *out, const struct seed *seeds, size_t nseeds)
{
	const struct seed *s = &seeds[rnd() % nseeds];
	size_t n = s->n;
	memcpy(out, s->d, n);
	int rounds = 1 + (int)(rnd() % 4);
	for (int r = 0; r < rounds; r++) {
		size_t pos = n ? rnd() % n : 0;
		switch (rnd() % 7) {
		case 0: /* flip a bit */
			if (n)
				out[pos] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: { /* an interesting byte */
			static const uint8_t b[] = {0, 0xff, 0x7f, 0x80, '"', '\\', '[', ']', '{', '}', ',', '\r', '\n', '4', '2', '0', 126, 127};
			if (n)
				out[pos] = b[rnd() % sizeof b];
			break;
		}
		case 2: /* insert a random byte */
			if (n < FUZZ_MAX) {
				memmove(out + pos + 1, out + pos, n - pos);
				out[pos] = (uint8_t)rnd();
				n++;
			}
			break;
		case 3: { /* delete a range */
			size_t k = n - pos ? 1 + rnd() % (n - pos < 16 ? n - pos : 16) : 0;
			memmove(out + pos, out + pos + k, n - pos - k);
			n -= k;
			break;
		}
		case 4: { /* duplicate a range */
			size_t k = n - pos ? 1 + rnd() % (n - pos < 64 ? n - pos : 64) : 0;
			if (n + k <= FUZZ_MAX) {
				memmove(out + pos + k, out + pos, n - pos);
				n += k;
			}
			break;
		}
		case 5: { /* splice the tail of another seed */
			const struct seed *o = &seeds[rnd() % nseeds];
			size_t from = o->n ? rnd() % o->n : 0, k = o->n - from;
			if (pos + k > FUZZ_MAX)
				k = FUZZ_MAX - pos;
			memcpy(out + pos, o->d + from, k);
			n = pos + k;
			break;
		}
		case 6: /* cut */
			n = pos;
			break;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: floor-fuzz DIR [mutations]\n");
		return 2;
	}
	long mutations = argc > 2 ? atol(argv[2]) : 100000;
	const char *env = getenv("FLOOR_FUZZ_SEED");
	rs = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
	if (rs == 0)
		rs = 1;
	fprintf(stderr, "floor-fuzz: FLOOR_FUZZ_SEED=%llu\n", (unsigned long long)rs);
	__sanitizer_set_death_callback(save_current);
	if (server_init() < 0) {
		perror("epoll");
		return 1;
	}

	struct seed *seeds = NULL;
	size_t nseeds = 0;
	DIR *d = opendir(argv[1]);
	if (d == NULL) {
		perror(argv[1]);
		return 1;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.' || strstr(e->d_name, ".py"))
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			continue;
		struct seed s = {malloc(FUZZ_MAX), 0};
		s.n = fread(s.d, 1, FUZZ_MAX, f);
		fclose(f);
		seeds = realloc(seeds, (nseeds + 1) * sizeof *seeds);
		seeds[nseeds++] = s;
	}
	closedir(d);
	if (nseeds == 0) {
		fprintf(stderr, "floor-fuzz: no seeds in %s\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < nseeds; i++)
		run(seeds[i].d, seeds[i].n);
	uint8_t *buf = malloc(FUZZ_MAX);
	time_t start = time(NULL);
	long i = 0;
	for (; i < mutations && time(NULL) - start < 120; i++) {
		crash_id = (unsigned long)i;
		run(buf, mutate(buf, seeds, nseeds));
	}
	fprintf(stderr, "floor-fuzz: %zu seeds, %ld mutations, accepted %llu, protocol errors %llu: ok\n", nseeds, i,
	        (unsigned long long)stats.accepted, (unsigned long long)stats.protocol_errors);
	for (size_t k = 0; k < nseeds; k++)
		free(seeds[k].d);
	free(seeds);
	free(buf);
	return 0;
}
