package main

import (
	"strings"
	"testing"
	"time"
)

const exposition1 = `# HELP sockio_engine_clients Engine.IO connections open now, by transport.
# TYPE sockio_engine_clients gauge
sockio_engine_clients{transport="polling"} 2
sockio_engine_clients{transport="websocket"} 5
sockio_sockets{namespace="/",transport="websocket"} 5
sockio_sockets{namespace="/admin",transport="polling"} 1
sockio_events_received_total{event="message",namespace="/"} 100
sockio_acks_sent_total{namespace="/"} 10
sockio_engine_volatile_drops_total 0
sockio_engine_disconnections_total{reason="slow_consumer"} 1
sockio_event_handler_duration_seconds_bucket{event="message",namespace="/",le="0.001"} 90
sockio_event_handler_duration_seconds_bucket{event="message",namespace="/",le="0.01"} 100
sockio_event_handler_duration_seconds_bucket{event="message",namespace="/",le="+Inf"} 100
`

// Two seconds later: 200 more events, of which 100 took 1-10 ms.
const exposition2 = `sockio_engine_clients{transport="polling"} 2
sockio_engine_clients{transport="websocket"} 5
sockio_sockets{namespace="/",transport="websocket"} 5
sockio_sockets{namespace="/admin",transport="polling"} 1
sockio_events_received_total{event="message",namespace="/"} 300
sockio_acks_sent_total{namespace="/"} 30
sockio_engine_volatile_drops_total 4
sockio_engine_disconnections_total{reason="slow_consumer"} 1
sockio_event_handler_duration_seconds_bucket{event="message",namespace="/",le="0.001"} 190
sockio_event_handler_duration_seconds_bucket{event="message",namespace="/",le="0.01"} 300
sockio_event_handler_duration_seconds_bucket{event="message",namespace="/",le="+Inf"} 300
`

func TestTopRates(t *testing.T) {
	s1, err := parseExposition(strings.NewReader(exposition1))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := parseExposition(strings.NewReader(exposition2))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	prev, cur := sample{at: at, series: s1}, sample{at: at.Add(2 * time.Second), series: s2}
	if got := sum(cur.series, "sockio_engine_clients", nil); got != 7 {
		t.Errorf("clients %v, want 7", got)
	}
	if got := rate(prev, cur, "sockio_events_received_total", nil); got != 100 {
		t.Errorf("events/s %v, want 100", got)
	}
	// 200 in the interval, 100 of them up to 1 ms and the rest up to 10 ms:
	// the 198th is in the 1-10 ms bucket.
	q, ok := p99(prev, cur, "sockio_event_handler_duration_seconds")
	if !ok || q <= 0.001 || q > 0.01 {
		t.Errorf("p99 %v %v, want within (1ms, 10ms]", q, ok)
	}

	var out strings.Builder
	renderTop(&out, []string{"a", "b"}, []sample{prev, prev}, []sample{cur, {err: errTest}})
	for _, want := range []string{"100.0", "10.0", "2.0", "/admin", "b: boom", "down"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("view lacks %q:\n%s", want, out.String())
		}
	}
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errTest = testErr("boom")
