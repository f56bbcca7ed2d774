package web

import (
	_ "embed"
	"net/http"
	"path"
)

// clientSource is our browser client as plain script code; client.js says
// why it has no import or export of its own.
//
//go:embed client/client.js
var clientSource string

const clientBanner = "/*! sockio client: Socket.IO v5 / Engine.IO v4 for browsers (github.com/sockio/sockio) */\n"

// The two builds, made from the one source at start: a classic script that
// defines the global io (or module.exports under CommonJS), and an ES module.
var (
	classicClient = newAsset("socket.io.js", []byte(clientBanner+
		"(function () {\n\"use strict\";\n"+clientSource+
		"\nif (typeof module === \"object\" && module && module.exports) module.exports = io;\n"+
		"else (typeof globalThis !== \"undefined\" ? globalThis : self).io = io;\n})();\n"))
	esmClient = newAsset("socket.io.esm.js", []byte(clientBanner+clientSource+
		"\nexport { io, io as connect, Manager, Socket, protocol };\nexport default io;\n"))
)

// ClientFiles are the file names Client serves, as the reference server
// names them; mount each under the Socket.IO path, for example
// mux.Handle("GET /socket.io/socket.io.js", web.Client()). The .min names
// serve the same (unminified) code, so pages written for the reference
// server work unchanged.
var ClientFiles = []string{"socket.io.js", "socket.io.min.js", "socket.io.esm.js", "socket.io.esm.min.js"}

// Client returns the handler of the browser client script: it serves the
// file named by the last element of the request path (see ClientFiles)
// and answers 404 to anything else.
func Client() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path.Base(r.URL.Path) {
		case "socket.io.js", "socket.io.min.js":
			classicClient.ServeHTTP(w, r)
		case "socket.io.esm.js", "socket.io.esm.min.js":
			esmClient.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
