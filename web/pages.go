package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFiles embed.FS

// contentSecurityPolicy lets the pages run only their own scripts and
// styles and talk only to their own origin: even if a message's text
// reached the DOM as markup, no script in it would run.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'"

// pages maps a URL path to its file.
var pages = map[string]*asset{}

func init() {
	err := fs.WalkDir(staticFiles, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(name)
		if err != nil {
			return err
		}
		addPage("/"+strings.TrimPrefix(name, "static/"), body)
		return nil
	})
	if err != nil {
		panic("web: reading embedded files: " + err.Error())
	}
	pages["/"] = pages["/index.html"]
}

func addPage(urlPath string, body []byte) {
	a := newAsset(urlPath, body)
	if path.Ext(urlPath) == ".html" {
		a.header = map[string]string{
			"Content-Security-Policy": contentSecurityPolicy,
			"Referrer-Policy":         "no-referrer",
		}
	}
	pages[urlPath] = a
}

// Pages returns the handler of the chat pages: "/" is the Socket.IO chat,
// "/plain.html" its plain-WebSocket twin; it serves their scripts, styles
// and icons, and answers 404 to anything else.
func Pages() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := pages[r.URL.Path]
		if a == nil {
			http.NotFound(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
}
