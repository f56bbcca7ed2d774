package metrics_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/metrics"
)

// BenchmarkScrape10k measures one scrape of a server holding 10,000
// connected polling sockets: the collector visits every session and
// socket (a lock each) for the gauges, then encodes the text format.
func BenchmarkScrape10k(b *testing.B) {
	const n = 10_000
	io_ := sockio.NewServer(sockio.Options{PingInterval: time.Hour})
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.New(io_, metrics.Options{Events: []string{"a", "b", "c"}}))
	for range n {
		rec := httptest.NewRecorder()
		io_.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
		var open struct{ SID string }
		if err := json.Unmarshal(rec.Body.Bytes()[1:], &open); err != nil {
			b.Fatalf("handshake: %q", rec.Body.String())
		}
		io_.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/socket.io/?EIO=4&transport=polling&sid="+open.SID, strings.NewReader("40")))
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(io_.Of("/").Sockets()) < n {
		if time.Now().After(deadline) {
			b.Fatal("sockets did not connect")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
		}
	}
}
