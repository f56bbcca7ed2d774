package engineio

import (
	"net/http"
	"strings"
)

// origins is AllowedOrigins, parsed once by NewServer.
type origins struct {
	any   bool // "*"
	null  bool // "null"
	rules []originRule
}

// originRule is one entry of AllowedOrigins other than "*", "null" and
// SameOrigin.
type originRule struct {
	scheme string // "" matches http and https
	host   string // host[:port], lower case; without "*." when sub
	sub    bool   // any subdomain of host, not host itself
}

// parseOrigins parses AllowedOrigins; nil means every origin is allowed.
func parseOrigins(list []string) *origins {
	if len(list) == 0 {
		return nil
	}
	o := &origins{}
	for _, e := range list {
		e = strings.ToLower(strings.TrimSpace(e))
		switch e {
		case "":
			continue
		case "*":
			o.any = true
			continue
		case "null":
			o.null = true
			continue
		case SameOrigin:
			continue // always allowed once the list is set
		}
		var r originRule
		if i := strings.Index(e, "://"); i >= 0 {
			r.scheme, e = e[:i], e[i+3:]
		}
		e = strings.TrimSuffix(e, "/") // "https://a.example/" is a common slip
		if rest, ok := strings.CutPrefix(e, "*."); ok {
			r.sub, e = true, rest
		}
		r.host = stripDefaultPort(r.scheme, e)
		o.rules = append(o.rules, r)
	}
	return o
}

// allowed reports whether r may be served: it has no Origin header, or one
// that the list allows, or one that names the host r was sent to.
func (o *origins) allowed(r *http.Request) bool {
	if o == nil || o.any {
		return true
	}
	vs := r.Header["Origin"]
	switch len(vs) {
	case 0:
		return true
	case 1:
	default:
		return false // browsers send one; two is a forgery or a broken proxy
	}
	origin := vs[0]
	if origin == "null" {
		return o.null
	}
	scheme, host, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	if strings.EqualFold(host, stripDefaultPort(scheme, r.Host)) {
		return true // same origin: the page came from this very host
	}
	return o.match(scheme, host)
}

// allowOrigin answers CORS for an Origin alone (no request at hand).
func (o *origins) allowOrigin(origin string) bool {
	if origin == "null" {
		return o.null
	}
	scheme, host, ok := splitOrigin(origin)
	return ok && o.match(scheme, host)
}

func (o *origins) match(scheme, host string) bool {
	for _, r := range o.rules {
		if r.scheme != "" && r.scheme != scheme {
			continue
		}
		if r.scheme == "" && scheme != "http" && scheme != "https" {
			continue
		}
		if r.sub {
			if len(host) > len(r.host)+1 && host[len(host)-len(r.host)-1] == '.' && strings.EqualFold(host[len(host)-len(r.host):], r.host) {
				return true
			}
		} else if strings.EqualFold(host, r.host) {
			return true
		}
	}
	return false
}

// cors is the CORS answer AllowedOrigins implies when Options.CORS is nil:
// none for same-origin pages only, which need none.
func (o *origins) cors() *CORS {
	if !o.any && !o.null && len(o.rules) == 0 {
		return nil
	}
	if o.any {
		return &CORS{Origins: []string{"*"}}
	}
	// Reflected, with credentials: these origins were named by the
	// operator, and sticky sessions behind a load balancer need the cookie.
	return &CORS{AllowOrigin: o.allowOrigin, Credentials: true}
}

// splitOrigin splits a serialized origin, "scheme://host[:port]", into its
// lower-case scheme and its host without the scheme's default port.
func splitOrigin(origin string) (scheme, host string, ok bool) {
	i := strings.Index(origin, "://")
	if i <= 0 || i+3 == len(origin) {
		return "", "", false
	}
	scheme, host = strings.ToLower(origin[:i]), origin[i+3:]
	if strings.ContainsAny(host, "/?#@ ") {
		return "", "", false // an origin has no path, query, fragment or user
	}
	return scheme, stripDefaultPort(scheme, host), true
}

// stripDefaultPort drops ":80" for http and ":443" for https (and ws, wss),
// which browsers leave out of an Origin but a Host header may carry.
func stripDefaultPort(scheme, host string) string {
	switch {
	case (scheme == "http" || scheme == "ws" || scheme == "") && strings.HasSuffix(host, ":80"):
		return host[:len(host)-3]
	case (scheme == "https" || scheme == "wss" || scheme == "") && strings.HasSuffix(host, ":443"):
		return host[:len(host)-4]
	}
	return host
}

// OriginChecker returns the check that AllowedOrigins set to allowed makes,
// for other handlers of the same site (a plain WebSocket endpoint, say),
// so that one list governs them all. An empty list allows every origin.
func OriginChecker(allowed []string) func(r *http.Request) bool {
	return parseOrigins(allowed).allowed
}
