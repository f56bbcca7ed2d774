/* Rooms: a chained hash table from the room's name (its raw JSON string
 * bytes) to the connections in it. Joining and leaving are O(1): members
 * know their position, and a leave moves the last member into the gap.
 * A room is freed when its last member leaves, so memory follows the
 * connections, whatever names clients make up. */
#include <stdlib.h>
#include <string.h>

#include "rooms.h"

#define BUCKETS 16384 /* a power of two */

static struct room *table[BUCKETS];

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

struct room *room_get(const char *name, size_t len, int create)
{
	uint32_t b = hash(name, len) & (BUCKETS - 1);
	for (struct room *r = table[b]; r; r = r->next)
		if (r->name_len == len && memcmp(r->name, name, len) == 0)
			return r;
	if (!create || len > MAX_ROOM_NAME)
		return NULL;
	struct room *r = calloc(1, sizeof *r + len);
	if (r == NULL)
		return NULL;
	memcpy(r->name, name, len);
	r->name_len = (uint16_t)len;
	r->bucket = b;
	r->next = table[b];
	table[b] = r;
	return r;
}

int64_t room_add(struct room *r, int fd, uint32_t slot)
{
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 4;
		struct room_member *m = realloc(r->m, cap * sizeof *m);
		if (m == NULL)
			return -1;
		r->m = m;
		r->cap = cap;
	}
	r->m[r->n] = (struct room_member){fd, slot};
	return r->n++;
}

void room_drop_if_empty(struct room *r)
{
	if (r->n > 0)
		return;
	struct room **pp = &table[r->bucket];
	while (*pp != r)
		pp = &(*pp)->next;
	*pp = r->next;
	free(r->m);
	free(r);
}

struct room_member room_remove(struct room *r, uint32_t pos)
{
	struct room_member moved = {-1, 0};
	uint32_t last = --r->n;
	if (pos != last) {
		r->m[pos] = r->m[last];
		moved = r->m[pos];
	}
	room_drop_if_empty(r);
	return moved;
}
