/* The HTTP/1.1 request head: just enough to route a WebSocket upgrade on
 * /socket.io/ and GET /debug/gc. Strict: a line with a control byte, a bare
 * CR or LF, a folded header or a missing colon makes the head bad. */
#define _GNU_SOURCE
#include <string.h>
#include <strings.h>

#include "floor.h"

static int ieq(const char *a, size_t n, const char *lit)
{
	size_t m = strlen(lit);
	return n == m && strncasecmp(a, lit, m) == 0;
}

/* has_token: a comma-separated header value holds tok (case-insensitive). */
static int has_token(const char *v, size_t n, const char *tok)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (ieq(v + s, e - s, tok))
			return 1;
	}
	return 0;
}

static int is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_b64(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* valid_key: 16 bytes in base64, as RFC 6455 asks of Sec-WebSocket-Key. */
static int valid_key(const char *k, size_t n)
{
	if (n != 24 || k[22] != '=' || k[23] != '=')
		return 0;
	for (size_t i = 0; i < 22; i++)
		if (!is_b64((unsigned char)k[i]))
			return 0;
	return 1;
}

/* query_param finds name=value in a query string; -1 when absent. */
static long query_param(const char *q, size_t n, const char *name, const char **val)
{
	size_t nl = strlen(name), i = 0;
	while (i < n) {
		size_t s = i;
		while (i < n && q[i] != '&')
			i++;
		if (i - s > nl && memcmp(q + s, name, nl) == 0 && q[s + nl] == '=') {
			*val = q + s + nl + 1;
			return (long)(i - s - nl - 1);
		}
		i++;
	}
	return -1;
}

int http_parse(const char *buf, size_t len, struct http_req *req)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		return len >= MAX_HEAD ? HTTP_TOO_BIG : HTTP_NEED_MORE;
	size_t head_len = (size_t)(end - buf) + 4;
	if (head_len > MAX_HEAD)
		return HTTP_TOO_BIG;
	memset(req, 0, sizeof *req);
	req->head_len = head_len;

	/* Every line ends in CRLF; no other control byte but HTAB inside. */
	const char *lim = end + 2;
	for (const char *p = buf; p < lim; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r') {
			if (p[1] != '\n')
				return HTTP_BAD;
			p++;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return HTTP_BAD;
		}
	}

	/* Request line: METHOD SP target SP HTTP/1.x */
	const char *eol = memchr(buf, '\r', (size_t)(lim - buf));
	const char *sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (sp1 == NULL || sp1 == buf)
		return HTTP_BAD;
	const char *tgt = sp1 + 1;
	const char *sp2 = memchr(tgt, ' ', (size_t)(eol - tgt));
	if (sp2 == NULL || sp2 == tgt)
		return HTTP_BAD;
	const char *ver = sp2 + 1;
	if (!(eol - ver == 8 && (memcmp(ver, "HTTP/1.1", 8) == 0 || memcmp(ver, "HTTP/1.0", 8) == 0)))
		return HTTP_BAD;
	int is_get = sp1 - buf == 3 && memcmp(buf, "GET", 3) == 0;
	const char *q = memchr(tgt, '?', (size_t)(sp2 - tgt));
	size_t path_len = (size_t)((q ? q : sp2) - tgt);
	const char *query = q ? q + 1 : sp2;
	size_t query_len = (size_t)(sp2 - query);

	/* Headers. */
	const char *upgrade = NULL, *connection = NULL, *version = NULL;
	size_t upgrade_len = 0, connection_len = 0, version_len = 0;
	for (const char *p = eol + 2; p < lim;) {
		const char *e = memchr(p, '\r', (size_t)(lim - p));
		if (e == NULL)
			return HTTP_BAD;
		const char *colon = memchr(p, ':', (size_t)(e - p));
		if (colon == NULL || colon == p)
			return HTTP_BAD; /* also rejects obs-fold: a line starting with SP has no token before ':' */
		for (const char *t = p; t < colon; t++)
			if (!is_tchar((unsigned char)*t))
				return HTTP_BAD;
		const char *v = colon + 1, *ve = e;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t nl = (size_t)(colon - p), vl = (size_t)(ve - v);
		if (ieq(p, nl, "upgrade")) {
			upgrade = v;
			upgrade_len = vl;
		} else if (ieq(p, nl, "connection")) {
			connection = v;
			connection_len = vl;
		} else if (ieq(p, nl, "sec-websocket-key")) {
			req->ws_key = v;
			req->ws_key_len = vl;
		} else if (ieq(p, nl, "sec-websocket-version")) {
			version = v;
			version_len = vl;
		}
		p = e + 2;
	}

	if (path_len == 9 && memcmp(tgt, "/debug/gc", 9) == 0) {
		req->route = is_get ? ROUTE_GC : ROUTE_NOT_FOUND;
		return HTTP_DONE;
	}
	if (!(path_len == 11 && memcmp(tgt, "/socket.io/", 11) == 0)) {
		req->route = ROUTE_NOT_FOUND;
		return HTTP_DONE;
	}
	if (!is_get) {
		req->route = ROUTE_BAD_METHOD;
		return HTTP_DONE;
	}
	const char *val;
	long vl = query_param(query, query_len, "EIO", &val);
	if (vl != 1 || val[0] != '4') {
		req->route = ROUTE_BAD_VERSION;
		return HTTP_DONE;
	}
	vl = query_param(query, query_len, "transport", &val);
	if (vl != 9 || memcmp(val, "websocket", 9) != 0 || query_param(query, query_len, "sid", &val) >= 0) {
		req->route = ROUTE_BAD_TRANSPORT;
		return HTTP_DONE;
	}
	if (upgrade == NULL || !ieq(upgrade, upgrade_len, "websocket") || connection == NULL ||
	    !has_token(connection, connection_len, "upgrade") || version == NULL ||
	    !(version_len == 2 && memcmp(version, "13", 2) == 0) || req->ws_key == NULL ||
	    !valid_key(req->ws_key, req->ws_key_len)) {
		req->route = ROUTE_BAD_UPGRADE;
		return HTTP_DONE;
	}
	req->route = ROUTE_WEBSOCKET;
	return HTTP_DONE;
}
