package engineio

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CORS configures cross-origin access, like the reference's cors option.
type CORS struct {
	// Origins lists the allowed origins; "*" allows any. Empty allows any
	// origin by echoing it back (needed with Credentials).
	Origins []string
	// AllowOrigin, when set, decides instead of Origins.
	AllowOrigin func(origin string) bool
	// Methods allowed in preflight (default GET,HEAD,PUT,PATCH,POST,DELETE).
	Methods []string
	// AllowedHeaders for preflight; empty echoes Access-Control-Request-Headers.
	AllowedHeaders []string
	// ExposedHeaders lists headers the browser may read.
	ExposedHeaders []string
	// Credentials sends Access-Control-Allow-Credentials: true.
	Credentials bool
	// MaxAge caches the preflight answer.
	MaxAge time.Duration
}

// apply adds the CORS headers for r to w and reports whether r was a
// preflight request that is now fully answered.
func (c *CORS) apply(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	origin := r.Header.Get("Origin")
	if c.wildcard() && !c.Credentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		// The answer depends on the Origin, so caches must key on it, even
		// when this request has none.
		h.Add("Vary", "Origin")
		if origin != "" && c.allowed(origin) {
			h.Set("Access-Control-Allow-Origin", origin)
		}
	}
	if c.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposedHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposedHeaders, ","))
	}
	if r.Method != http.MethodOptions {
		return false
	}
	methods := c.Methods
	if len(methods) == 0 {
		methods = []string{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"}
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(methods, ","))
	if len(c.AllowedHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowedHeaders, ","))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge/time.Second)))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (c *CORS) wildcard() bool {
	for _, o := range c.Origins {
		if o == "*" {
			return true
		}
	}
	return false
}

func (c *CORS) allowed(origin string) bool {
	if c.AllowOrigin != nil {
		return c.AllowOrigin(origin)
	}
	if len(c.Origins) == 0 {
		return true
	}
	for _, o := range c.Origins {
		if o == "*" || o == origin {
			return true
		}
	}
	return false
}
