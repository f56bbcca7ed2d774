package webtransport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// MaxHashCertValidity is the longest validity browsers accept for a
// certificate pinned by serverCertificateHashes (W3C WebTransport: two
// weeks).
const MaxHashCertValidity = 14 * 24 * time.Hour

// SelfSignedCert makes a self-signed ECDSA P-256 certificate for hosts
// (names or IP addresses), valid from a minute ago for validity, and
// returns it with the SHA-256 hash of its DER form: the value a browser
// page passes in serverCertificateHashes. For development and tests:
// browsers refuse such a certificate if validity exceeds
// MaxHashCertValidity, or if its key is not ECDSA.
func SelfSignedCert(hosts []string, validity time.Duration) (tls.Certificate, [32]byte, error) {
	if validity <= 0 || validity > MaxHashCertValidity {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("failed to make a certificate: validity %v not in (0, %v]", validity, MaxHashCertValidity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("failed to generate a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("failed to make a serial number: %w", err)
	}
	// A minute of slack for clocks; it counts in the validity, which the
	// browser measures from NotBefore to NotAfter.
	now := time.Now().Add(-time.Minute)
	tmpl := x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sockio development"},
		NotBefore:             now,
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("failed to create a certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, [32]byte{}, fmt.Errorf("failed to parse the certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, sha256.Sum256(der), nil
}
