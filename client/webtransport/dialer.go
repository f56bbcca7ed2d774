package webtransport

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"

	"github.com/sockio/sockio/client"
)

// MaxHashCertValidity is the longest validity of a certificate accepted
// through CertificateHashes, as browsers do (W3C WebTransport: two weeks).
const MaxHashCertValidity = 14 * 24 * time.Hour

// linger is how long a session the client closes waits for the server to
// end it, after FIN, so that the last packets (a Socket.IO disconnect)
// arrive before the session's end resets the stream.
const linger = time.Second

// Dialer opens WebTransport sessions for the client; its zero value
// verifies the server's certificate with the system roots. One QUIC
// connection per session, as browsers do for a dedicated session.
type Dialer struct {
	// TLSClientConfig configures TLS (roots, server name, client
	// certificates); nil is the default. The h3 ALPN is added when
	// NextProtos is empty.
	TLSClientConfig *tls.Config
	// CertificateHashes, when set, replace the verification of the
	// certificate chain: the server's certificate must have one of these
	// SHA-256 hashes of its DER form, be valid now, and for at most
	// MaxHashCertValidity (a browser's serverCertificateHashes).
	CertificateHashes [][32]byte
	// QUICConfig configures QUIC; nil is webtransport-go's default.
	// Datagrams and stream reset partial delivery must be enabled.
	QUICConfig *quic.Config
}

// DialWebTransport opens a session to url and its first bidirectional
// stream; it implements client.WebTransportDialer.
func (d *Dialer) DialWebTransport(ctx context.Context, url string, header http.Header) (client.WebTransportStream, error) {
	tr := &wt.Transport{TLSClientConfig: d.tlsConfig(), QUICConfig: d.QUICConfig}
	rsp, sess, err := tr.Dial(ctx, url, header)
	_ = tr.Close() // it only ends session establishment, now over
	if err != nil {
		if rsp != nil && rsp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("failed to open a webtransport session: HTTP %d: %w", rsp.StatusCode, err)
		}
		return nil, fmt.Errorf("failed to open a webtransport session: %w", err)
	}
	st, err := sess.OpenStreamSync(ctx)
	if err != nil {
		_ = sess.CloseWithError(0, "")
		return nil, fmt.Errorf("failed to open a webtransport stream: %w", err)
	}
	return &stream{Stream: st, sess: sess}, nil
}

func (d *Dialer) tlsConfig() *tls.Config {
	conf := &tls.Config{}
	if d.TLSClientConfig != nil {
		conf = d.TLSClientConfig.Clone()
	}
	if len(conf.NextProtos) == 0 {
		conf.NextProtos = []string{http3.NextProtoH3}
	}
	if len(d.CertificateHashes) > 0 {
		hashes := slices.Clone(d.CertificateHashes)
		// The hash is the trust: the chain is not verified (it is
		// self-signed), VerifyPeerCertificate checks the pin instead.
		conf.InsecureSkipVerify = true
		conf.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyHash(raw, hashes, time.Now())
		}
	}
	return conf
}

var errCertNotPinned = errors.New("webtransport: server certificate matches no CertificateHashes")

// verifyHash checks the server's leaf certificate against the pins.
func verifyHash(raw [][]byte, hashes [][32]byte, now time.Time) error {
	if len(raw) == 0 {
		return errCertNotPinned
	}
	if !slices.Contains(hashes, sha256.Sum256(raw[0])) {
		return errCertNotPinned
	}
	cert, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return fmt.Errorf("failed to parse the server certificate: %w", err)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Errorf("webtransport: pinned certificate not valid now (%v to %v)", cert.NotBefore, cert.NotAfter)
	}
	if cert.NotAfter.Sub(cert.NotBefore) > MaxHashCertValidity {
		return fmt.Errorf("webtransport: pinned certificate valid for %v, more than %v", cert.NotAfter.Sub(cert.NotBefore), MaxHashCertValidity)
	}
	return nil
}

// stream is the session's stream; Close ends the session as
// client.WebTransportStream says.
type stream struct {
	*wt.Stream
	sess *wt.Session
}

func (s *stream) Close() error {
	err := s.Stream.Close()
	// The server ends the session when it reads the FIN; the timer bounds
	// the wait, and the session's end stops the goroutine early.
	go func() {
		t := time.NewTimer(linger)
		defer t.Stop()
		select {
		case <-s.sess.Context().Done():
		case <-t.C:
		}
		_ = s.sess.CloseWithError(0, "")
	}()
	return err
}
