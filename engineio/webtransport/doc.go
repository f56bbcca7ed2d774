// Package webtransport serves Engine.IO (and so Socket.IO) over
// WebTransport, the reference's opt-in transport since Socket.IO 4.7, with
// quic-go's HTTP/3 and webtransport-go.
//
// It is a package of its own so that a program that does not import it
// does not link QUIC. To offer the transport, list it in the server's
// transports and mount Handler on an HTTP/3 server, at the Engine.IO path:
//
//	io := sockio.NewServer(sockio.Options{Transports: []string{"polling", "websocket", "webtransport"}})
//	mux := http.NewServeMux()
//	mux.Handle("/socket.io/", io)
//	h3 := &http3.Server{Addr: ":443", TLSConfig: http3.ConfigureTLSConfig(tlsConf), Handler: http.NewServeMux()}
//	wts := &wt.Server{H3: h3}
//	h3.Handler.(*http.ServeMux).Handle("/socket.io/", webtransport.Handler(io.Engine(), wts))
//	go wts.ListenAndServe() // UDP, beside the TCP server of mux
//
// Browsers then connect with transports ["webtransport"], or upgrade to
// it from polling (the open packet lists "webtransport" in its upgrades).
// For a development certificate, see SelfSignedCert: browsers accept it
// through serverCertificateHashes when it is valid for at most 14 days.
package webtransport
