// Package web serves the browser side of sockio from files embedded in the
// binary: our own Socket.IO client (Client) and the chat pages (Pages).
//
// Every file is served with an ETag, "Cache-Control: public, max-age=0"
// (the browser keeps it and revalidates, so a new binary is picked up at
// once) and, when the browser accepts it, gzip compressed once at start.
package web
