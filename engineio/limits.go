package engineio

import (
	"maps"
	"net/http"
	"slices"
	"strings"
)

// checkHead refuses a request whose target is over MaxURLBytes (414) or
// whose head is over MaxHeaderBytes (431), before anything of it is
// parsed or kept, and reports whether it did. The answer is Node.js's: the
// status, "Connection: close" and no body; net/http then drops the
// connection, as Node.js does.
func (srv *Server) checkHead(w http.ResponseWriter, r *http.Request) bool {
	status := 0
	switch {
	case len(requestURI(r)) > srv.opts.MaxURLBytes:
		status = http.StatusRequestURITooLong
	case headBytes(r, srv.opts.MaxHeaderBytes) > srv.opts.MaxHeaderBytes:
		status = http.StatusRequestHeaderFieldsTooLarge
	default:
		return false
	}
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Content-Length", "0")
	w.WriteHeader(status)
	return true
}

// headBytes is the size of r's head as sent over HTTP/1.1: request line,
// Host, the other fields and the blank line. It stops counting past limit.
func headBytes(r *http.Request, limit int) int {
	n := len(r.Method) + 1 + len(requestURI(r)) + 1 + len(r.Proto) + 2 + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2 // net/http moves it out of Header
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
		if n > limit {
			break
		}
	}
	return n
}

// fieldCost is what a kept header field or query parameter is counted for
// beyond the bytes of its name and value: about what its map slot and
// value slice cost (measured on amd64 with Go 1.26: 73 to 103 bytes a
// field, depending on how full the map's table is). Without it, a head of
// a thousand tiny fields would cost ten times its size.
const fieldCost = 96

// keptHeaders are kept first when a handshake's headers are over the
// budget: those that Socket.IO applications read (sessions, auth, the
// client's address behind a proxy, its language). The others follow in
// name order, each kept whole or not at all.
var keptHeaders = []string{
	"Cookie", "Authorization", "User-Agent", "Origin", "Referer",
	"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-Ip", "Forwarded",
	"Accept-Language",
}

// keptQuery are the query parameters kept first: the protocol's own.
var keptQuery = []string{"EIO", "transport"}

// keepValues returns a compact copy of m (a header or a query) for a
// session to keep for its whole life: at most budget bytes, counted as
// names, values and fieldCost a value, with the names in first kept first
// and the others in name order; a name that does not fit is left out,
// values and all, never cut. All names and values share one allocation,
// so the copy holds neither the request's buffers nor its spare capacity.
func keepValues(m map[string][]string, budget int, first []string) map[string][]string {
	cost := func(k string, vs []string) int {
		n := len(k)
		for _, v := range vs {
			n += len(v) + fieldCost
		}
		return n
	}
	total, bytes, values := 0, 0, 0
	for k, vs := range m {
		total += cost(k, vs)
		bytes += len(k)
		for _, v := range vs {
			bytes += len(v)
		}
		values += len(vs)
	}
	if total <= budget {
		// The usual case: all of it, in no particular order.
		return compactCopy(m, slices.Collect(maps.Keys(m)), bytes, values)
	}
	bytes, values = 0, 0
	order := make([]string, 0, len(m))
	for _, k := range first {
		if _, ok := m[k]; ok {
			order = append(order, k)
		}
	}
	rest := len(order)
	for k := range m {
		if !slices.Contains(first, k) {
			order = append(order, k)
		}
	}
	slices.Sort(order[rest:])

	used := 0
	kept := order[:0]
	for _, k := range order {
		c := cost(k, m[k])
		if used+c > budget {
			continue
		}
		used += c
		kept = append(kept, k)
		bytes += len(k)
		for _, v := range m[k] {
			bytes += len(v)
		}
		values += len(m[k])
	}
	return compactCopy(m, kept, bytes, values)
}

// compactCopy copies the names keys of m and their values, bytes and
// values in all, into one string and one slice.
func compactCopy(m map[string][]string, keys []string, bytes, values int) map[string][]string {
	var b strings.Builder
	b.Grow(bytes)
	for _, k := range keys {
		b.WriteString(k)
		for _, v := range m[k] {
			b.WriteString(v)
		}
	}
	all, vals := b.String(), make([]string, values)
	out := make(map[string][]string, len(keys))
	for _, k := range keys {
		vs := m[k]
		key := all[:len(k)]
		all = all[len(k):]
		dst := vals[:len(vs):len(vs)] // capped: an append copies, never overwrites the next name's
		vals = vals[len(vs):]
		for i, v := range vs {
			dst[i] = all[:len(v)]
			all = all[len(v):]
		}
		out[key] = dst
	}
	return out
}
