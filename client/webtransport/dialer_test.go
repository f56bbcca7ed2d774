package webtransport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	sockiowt "github.com/sockio/sockio/engineio/webtransport"
)

// TestVerifyHash: the pin, and the validity rules browsers apply to a
// certificate pinned by its hash.
func TestVerifyHash(t *testing.T) {
	cert, hash, err := sockiowt.SelfSignedCert([]string{"127.0.0.1"}, 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw := cert.Certificate
	now := time.Now()
	if err := verifyHash(raw, [][32]byte{{1}, hash}, now); err != nil {
		t.Errorf("pinned: %v", err)
	}
	if err := verifyHash(raw, [][32]byte{{1}}, now); !errors.Is(err, errCertNotPinned) {
		t.Errorf("other pin: %v", err)
	}
	if err := verifyHash(nil, [][32]byte{hash}, now); !errors.Is(err, errCertNotPinned) {
		t.Errorf("no certificate: %v", err)
	}
	if err := verifyHash(raw, [][32]byte{hash}, now.Add(11*24*time.Hour)); err == nil || !strings.Contains(err.Error(), "not valid now") {
		t.Errorf("expired: %v", err)
	}
	// SelfSignedCert refuses more than two weeks; a pin of a longer-lived
	// certificate must still be refused, as browsers do.
	long := longLivedCert(t, 30*24*time.Hour)
	if err := verifyHash([][]byte{long}, [][32]byte{sha256.Sum256(long)}, now); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("30-day certificate: %v", err)
	}
}

func longLivedCert(t *testing.T, validity time.Duration) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Minute)
	tmpl := x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: now, NotAfter: now.Add(validity)}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
