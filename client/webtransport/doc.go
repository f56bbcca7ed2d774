// Package webtransport gives the Go client the "webtransport" transport
// (Engine.IO over an HTTP/3 WebTransport session, the reference's opt-in
// transport since Socket.IO 4.7), with quic-go's webtransport-go.
//
// It is a package of its own so that a program that does not import it
// does not link QUIC. Pass a Dialer in the client's options and list the
// transport:
//
//	sock, err := client.Connect(ctx, "https://example.com", client.Options{
//		Transports:   []string{"webtransport"}, // or {"polling", "webtransport"} to upgrade
//		WebTransport: &webtransport.Dialer{},
//	})
//
// For a server with a self-signed development certificate (see
// engineio/webtransport.SelfSignedCert), pin it by its hash in
// CertificateHashes, as a browser's serverCertificateHashes, or trust it
// with RootCAs in TLSClientConfig.
package webtransport
