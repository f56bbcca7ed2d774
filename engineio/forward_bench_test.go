package engineio

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// echoBack sends each message back on its session.
type echoBack struct{ s *Session }

func (h echoBack) OnMessage(data []byte, _ bool) {
	_ = h.s.Send(SendOptions{}, msgPacket(string(data)))
}
func (echoBack) OnClose(string, error) {}

// BenchmarkPollingEcho measures one polling round trip (a POST with a
// message, then the GET that carries its echo) with sticky routing (every
// request to the session's node) and without (every request to the other
// node, which forwards it): the cost of forwarding, in one run. Both
// nodes run in this process, so cpu-ns/op counts both, and the client's
// work too.
func BenchmarkPollingEcho(b *testing.B) {
	peers := &staticPeers{}
	var urls []string
	for _, name := range []string{"a", "b"} {
		srv := NewServer(Options{PingInterval: time.Hour, Forwarding: &Forwarding{Node: name, Peers: peers}})
		srv.OnConnection(func(s *Session) { s.SetHandler(echoBack{s}) })
		hs := httptest.NewServer(srv)
		b.Cleanup(hs.Close)
		peers.set(name, hs.URL)
		urls = append(urls, hs.URL)
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	res, err := c.Get(urls[0] + "/?EIO=4&transport=polling")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	sid := strings.SplitN(strings.SplitN(string(body), `"sid":"`, 2)[1], `"`, 2)[0]
	for _, bc := range []struct {
		name string
		url  string
	}{{"sticky", urls[0]}, {"forwarded", urls[1]}} {
		b.Run(bc.name, func(b *testing.B) {
			q := bc.url + "/?EIO=4&transport=polling&sid=" + sid
			lat := make([]time.Duration, 0, b.N)
			cpu0 := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				res, err := c.Post(q, "text/plain;charset=UTF-8", strings.NewReader("4hello"))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				res, err = c.Get(q)
				if err != nil {
					b.Fatal(err)
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(got) != "4hello" {
					b.Fatalf("echo %q", got)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
