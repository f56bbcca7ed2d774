/* RFC 6455 frames, server side: parse a client frame's header, unmask its
 * payload, write an unmasked header. No extensions (RSV bits must be 0). */
#include <string.h>

#include "floor.h"

int ws_parse_header(const uint8_t *b, size_t n, uint64_t max_payload, struct ws_frame *f)
{
	if (n < 2)
		return WS_NEED_MORE;
	if (b[0] & 0x70)
		return WS_BAD; /* RSV1-3: no extension was negotiated */
	f->fin = b[0] >> 7;
	f->opcode = b[0] & 0x0f;
	switch (f->opcode) {
	case WS_CONT:
	case WS_TEXT:
	case WS_BINARY:
		break;
	case WS_CLOSE:
	case WS_PING:
	case WS_PONG:
		if (!f->fin || (b[1] & 0x7f) > 125)
			return WS_BAD; /* control frames: unfragmented, at most 125 bytes */
		break;
	default:
		return WS_BAD;
	}
	if (!(b[1] & 0x80))
		return WS_BAD; /* a client must mask */
	uint64_t len = b[1] & 0x7f;
	size_t h = 2;
	if (len == 126) {
		if (n < 4)
			return WS_NEED_MORE;
		len = (uint64_t)b[2] << 8 | b[3];
		h = 4;
	} else if (len == 127) {
		if (n < 10)
			return WS_NEED_MORE;
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | b[i];
		if (len >> 63)
			return WS_BAD;
		h = 10;
	}
	if (len > max_payload)
		return WS_TOO_BIG;
	if (n < h + 4)
		return WS_NEED_MORE;
	memcpy(f->mask, b + h, 4);
	f->hdr_len = h + 4;
	f->len = len;
	return WS_OK;
}

void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4])
{
	uint64_t m8;
	uint8_t mb[8];
	memcpy(mb, mask, 4);
	memcpy(mb + 4, mask, 4);
	memcpy(&m8, mb, 8);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		v ^= m8;
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] ^= mask[i & 3];
}

size_t ws_header(uint8_t *dst, int opcode, size_t len)
{
	dst[0] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		dst[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		dst[1] = 126;
		dst[2] = (uint8_t)(len >> 8);
		dst[3] = (uint8_t)len;
		return 4;
	}
	dst[1] = 127;
	for (int i = 0; i < 8; i++)
		dst[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	return 10;
}
