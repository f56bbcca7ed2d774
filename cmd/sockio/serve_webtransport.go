package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/engineio/webtransport"
)

// devCertValidity is the validity of the certificate made when
// --webtransport has no --tls-cert: under the 14 days browsers accept
// for serverCertificateHashes, with a day of margin.
const devCertValidity = 13 * 24 * time.Hour

// registerWebTransportFlags adds --webtransport to the flags of serve.
func registerWebTransportFlags(fs *flag.FlagSet) *string {
	return fs.String("webtransport", "", "also serve WebTransport (HTTP/3 over QUIC) on this UDP address (:3000: the same port as --addr, where a polling client's upgrade goes); uses --tls-cert, or without it a self-signed development certificate whose hash is logged for serverCertificateHashes")
}

// checkWebTransportAddr validates --webtransport; flagRef names the flag
// as parseServe does.
func checkWebTransportAddr(addr string, flagRef func(string) string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad %s %q: want host:port or :port", flagRef("webtransport"), addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("bad %s %q: the port must be a number up to 65535", flagRef("webtransport"), addr)
	}
	return nil
}

// withWebTransport adds WebTransport to the transports offered.
func withWebTransport(transports []string) []string {
	for _, t := range transports {
		if t == engineio.WebTransport {
			return transports
		}
	}
	return append(transports, engineio.WebTransport)
}

// startWebTransport serves io's Engine.IO path over HTTP/3 on a UDP
// listener; the returned function stops it.
func startWebTransport(addr, path string, tlsConf *tls.Config, io *sockio.Server) (func(), error) {
	if tlsConf == nil {
		cert, hash, err := webtransport.SelfSignedCert([]string{"localhost", "127.0.0.1", "::1"}, devCertValidity)
		if err != nil {
			return nil, fmt.Errorf("failed to make a development certificate: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}}
		slog.Warn("webtransport: self-signed development certificate; pages pass its hash in serverCertificateHashes",
			"sha256", base64.StdEncoding.EncodeToString(hash[:]), "expires", cert.Leaf.NotAfter.Format(time.RFC3339))
	} else if c := tlsConf.Certificates; len(c) > 0 && len(c[0].Certificate) > 0 {
		hash := sha256.Sum256(c[0].Certificate[0])
		slog.Info("webtransport: certificate", "sha256", base64.StdEncoding.EncodeToString(hash[:]))
	}
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen for webtransport: %w", err)
	}
	mux := http.NewServeMux()
	wts := &wt.Server{H3: &http3.Server{
		TLSConfig: http3.ConfigureTLSConfig(tlsConf.Clone()),
		Handler:   mux,
	}}
	mux.Handle(path, webtransport.Handler(io.Engine(), wts))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := wts.Serve(udp); err != nil && !isClosedErr(err) {
			slog.Error("webtransport stopped", "err", err)
		}
	}()
	slog.Info("webtransport serving", "addr", udp.LocalAddr().String(), "path", path)
	return func() {
		_ = wts.Close()
		_ = udp.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}, nil
}

func isClosedErr(err error) bool {
	return errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, quic.ErrServerClosed)
}
