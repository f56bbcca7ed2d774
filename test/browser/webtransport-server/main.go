// Command webtransport-server is the sockio server of the browser tests of
// WebTransport (webtransport.test.mjs): Socket.IO over polling and HTTP/1.1
// on --addr, over WebTransport (HTTP/3) on the same port in UDP, with a self-signed
// certificate made at start whose SHA-256 it prints for the page's
// serverCertificateHashes. It serves the page's client script from
// --client (the official socket.io-client bundle in node_modules) on /, and
// our browser client (package web) on /ours/.
package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/engineio/webtransport"
	"github.com/sockio/sockio/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address (the page, the client script, polling); WebTransport listens on the same UDP port, where the client's upgrade goes")
	client := flag.String("client", "", "the socket.io-client bundle to serve at /client.js")
	flag.Parse()
	if err := run(*addr, *client); err != nil {
		log.Fatal(err)
	}
}

func run(addr, client string) error {
	io := sockio.NewServer(sockio.Options{Transports: []string{"polling", "websocket", "webtransport"}})
	io.OnConnection(func(s *sockio.Socket) {
		s.On("echo", func(v any, ack sockio.Ack) { ack(v) })
		s.On("bin", func(b []byte, ack sockio.Ack) { ack(len(b), b) })
		s.On("shout", func(msg string) { _ = io.Emit("shouted", msg) })
		// Who left and why, for the pages that watch a peer close.
		s.On("disconnect", func(reason string) { _ = io.Emit("left", s.ID(), reason) })
	})

	cert, hash, err := webtransport.SelfSignedCert([]string{"127.0.0.1", "localhost"}, 10*24*time.Hour)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", addr, err)
	}
	udp, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		return fmt.Errorf("failed to listen on UDP %s: %w", ln.Addr(), err)
	}
	h3mux := http.NewServeMux()
	wts := &wt.Server{H3: &http3.Server{
		TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
		Handler:   h3mux,
	}}
	h3mux.Handle("/socket.io/", webtransport.Handler(io.Engine(), wts))
	go func() { _ = wts.Serve(udp) }()

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("/client.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, client)
	})
	mux.Handle("GET /ours/socket.io.js", web.Client())
	mux.HandleFunc("GET /ours/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>webtransport, our client</title><script src="/ours/socket.io.js"></script>`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>webtransport</title><script src="/client.js"></script>`)
	})
	fmt.Printf("webtransport on %s hash %s\n", udp.LocalAddr(), base64.StdEncoding.EncodeToString(hash[:]))
	fmt.Printf("listening on %s\n", ln.Addr())
	hs := &http.Server{Handler: mux}
	go func() { _ = sockio.Serve(ln, hs) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = io.Shutdown(ctx)
	_ = wts.Close()
	return hs.Shutdown(ctx)
}
