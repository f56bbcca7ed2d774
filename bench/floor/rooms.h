#ifndef FLOOR_ROOMS_H
#define FLOOR_ROOMS_H

#include "floor.h"

struct room_member {
	int fd;
	uint32_t slot; /* index in the connection's list of rooms */
};

struct room {
	struct room *next;
	struct room_member *m;
	uint32_t n, cap, bucket;
	uint16_t name_len;
	char name[];
};

/* room_get finds a room by name; with create, makes it (NULL past
 * MAX_ROOM_NAME or out of memory). */
struct room *room_get(const char *name, size_t len, int create);
/* room_add returns the member's position, -1 when out of memory. */
int64_t room_add(struct room *r, int fd, uint32_t slot);
/* room_remove takes out the member at pos and returns the member moved into
 * its place (fd -1 when none), whose position is now pos. The room is freed
 * when it is left empty. */
struct room_member room_remove(struct room *r, uint32_t pos);
/* room_drop_if_empty frees a room nobody is in (one made by a failed join). */
void room_drop_if_empty(struct room *r);

#endif
