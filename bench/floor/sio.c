/* The Socket.IO EVENT packet on "/": 42[<ack id>]["name",args...]. Enough
 * JSON to find the name, the ack id and the arguments' bytes: strings are
 * checked (closed, no control bytes, escapes of one known character or
 * \uXXXX) and brackets balanced, so that what is sent back verbatim is
 * still one JSON array; numbers and literals are not checked. */
#include <string.h>

#include "floor.h"

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* skip_string: s[i] is the opening quote; returns the index after the
 * closing quote, or 0 when the string is bad or unterminated. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (++i >= n)
				return 0;
			switch (s[i]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				break;
			case 'u':
				if (i + 4 >= n || !is_hex(s[i + 1]) || !is_hex(s[i + 2]) || !is_hex(s[i + 3]) || !is_hex(s[i + 4]))
					return 0;
				i += 4;
				break;
			default:
				return 0;
			}
		}
	}
	return 0;
}

/* array_end: s[i] is just inside an array; returns the index of its closing
 * bracket, or 0 when brackets do not balance or a string is bad. */
static size_t array_end(const char *s, size_t n, size_t i)
{
	char stack[MAX_JSON_DEPTH];
	int depth = 0;
	stack[depth++] = ']';
	while (i < n) {
		char c = s[i];
		if (c == '"') {
			if ((i = skip_string(s, n, i)) == 0)
				return 0;
			continue;
		}
		if (c == '[' || c == '{') {
			if (depth == MAX_JSON_DEPTH)
				return 0;
			stack[depth++] = c == '[' ? ']' : '}';
		} else if (c == ']' || c == '}') {
			if (stack[--depth] != c)
				return 0;
			if (depth == 0)
				return i;
		}
		i++;
	}
	return 0;
}

int sio_parse_event(const char *p, size_t n, struct sio_event *ev)
{
	size_t i = 0;
	ev->ack = -1;
	if (i < n && p[i] >= '0' && p[i] <= '9') {
		int64_t id = 0;
		for (int d = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++, d++) {
			if (d == 15)
				return -1; /* beyond 2^53: not a JavaScript integer */
			id = id * 10 + (p[i] - '0');
		}
		ev->ack = id;
	}
	if (i >= n || p[i] != '[')
		return -1;
	size_t open = i, end = array_end(p, n, i + 1);
	if (end == 0)
		return -1;
	for (size_t k = end + 1; k < n; k++)
		if (!is_ws(p[k]))
			return -1; /* bytes after the array */
	ev->array = p + open;
	ev->array_len = end - open + 1;
	i = open + 1;
	while (i < end && is_ws(p[i]))
		i++;
	if (i >= end || p[i] != '"')
		return -1; /* the first item must be the event name */
	size_t after = skip_string(p, end, i);
	if (after == 0)
		return -1;
	ev->name = p + i + 1;
	ev->name_len = after - i - 2;
	i = after;
	while (i < end && is_ws(p[i]))
		i++;
	if (i == end) {
		ev->args = p + end;
		ev->args_len = 0;
		return 0;
	}
	if (p[i] != ',')
		return -1;
	i++;
	size_t e = end;
	while (i < e && is_ws(p[i]))
		i++;
	while (e > i && is_ws(p[e - 1]))
		e--;
	if (i == e)
		return -1; /* a comma and nothing after it */
	ev->args = p + i;
	ev->args_len = e - i;
	return 0;
}

int sio_first_string(const char *s, size_t n, const char **str, size_t *str_len,
                     const char **rest, size_t *rest_len)
{
	if (n == 0 || s[0] != '"')
		return -1;
	size_t after = skip_string(s, n, 0);
	if (after == 0)
		return -1;
	*str = s + 1;
	*str_len = after - 2;
	size_t i = after;
	while (i < n && is_ws(s[i]))
		i++;
	if (i < n) {
		if (s[i] != ',')
			return -1;
		i++;
		while (i < n && is_ws(s[i]))
			i++;
	}
	*rest = s + i;
	*rest_len = n - i;
	return 0;
}
