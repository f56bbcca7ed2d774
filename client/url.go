package client

import (
	"fmt"
	"net/url"
	"strings"
)

// parseURL splits a server URL such as "http://host:3000/chat?k=v" into
// the server's origin (scheme http or https), the namespace ("/chat") and
// the query. ws and wss are accepted as http and https.
func parseURL(raw string) (origin *url.URL, nsp string, query url.Values, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", nil, fmt.Errorf("failed to parse URL: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "http", "https":
	case "ws":
		scheme = "http"
	case "wss":
		scheme = "https"
	default:
		return nil, "", nil, fmt.Errorf("failed to parse URL %q: scheme must be http, https, ws or wss", raw)
	}
	if u.Host == "" {
		return nil, "", nil, fmt.Errorf("failed to parse URL %q: no host", raw)
	}
	nsp = u.Path
	if nsp == "" {
		nsp = "/"
	}
	return &url.URL{Scheme: scheme, Host: u.Host, User: u.User}, nsp, u.Query(), nil
}

// normalizeNamespace gives a namespace its leading slash.
func normalizeNamespace(nsp string) string {
	if !strings.HasPrefix(nsp, "/") {
		return "/" + nsp
	}
	return nsp
}
