package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestFloorTable(t *testing.T) {
	rec := func(target, scenario string, params map[string]any, metrics map[string]float64) record {
		return record{Scenario: scenario, Target: target, Params: params, Metrics: metrics}
	}
	echo := map[string]any{"clients": 100.0, "proto": "socket.io", "transport": "websocket"}
	fast := map[string]any{"n": 1000.0, "room": "bench", "rate": 0.0}
	paced := map[string]any{"n": 1000.0, "room": "bench", "rate": 100.0}
	conn := map[string]any{"n": 2000.0}
	runs := []record{
		rec("floor", "echo", echo, map[string]float64{"server_cpu_us_per_ack": 4}),
		rec("floor", "echo", echo, map[string]float64{"server_cpu_us_per_ack": 6}),
		rec("sockio", "echo", echo, map[string]float64{"server_cpu_us_per_ack": 7.5}),
		rec("node", "echo", echo, map[string]float64{"server_cpu_us_per_ack": 15}),
		rec("floor", "broadcast", fast, map[string]float64{"server_cpu_us_per_delivery": 2}),
		rec("sockio", "broadcast", fast, map[string]float64{"server_cpu_us_per_delivery": 3}),
		rec("floor", "broadcast", paced, map[string]float64{"server_cpu_us_per_delivery": 1}),
		rec("node", "broadcast", paced, map[string]float64{"server_cpu_us_per_delivery": 4}),
		rec("floor", "connect", conn, map[string]float64{"rss_per_conn_kib": -0.1, "server_cpu_us_per_conn": 50}),
		rec("sockio", "connect", conn, map[string]float64{"rss_per_conn_kib": 5, "server_cpu_us_per_conn": 100}),
		rec("sockio", "echo", map[string]any{"clients": 10.0, "proto": "socket.io", "transport": "websocket"}, map[string]float64{"server_cpu_us_per_ack": 9}),
	}
	var b bytes.Buffer
	writeFloorTable(&b, runs)
	out := b.String()
	for _, want := range []string{
		"| server CPU µs per echo ack, 100 clients | 5.00 (4.00–6.00) | 7.50 | 15.0 | 1.50× | 3.00× |",
		"| server CPU µs per broadcast delivery, 1000 clients, as fast as allowed | 2.00 | 3.00 | – | 1.50× | – |",
		"| server CPU µs per broadcast delivery, 1000 clients, 100 broadcasts/s | 1.00 | – | 4.00 | – | 4.00× |",
		"| server CPU µs per accepted connection, 2000 conns | 50.0 | 100 | – | 2.00× | – |",
		"| RSS per idle WebSocket connection KiB, 2000 conns | -0.100 | 5.00 | – | – | – |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing row %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "10 clients") {
		t.Errorf("a figure without a floor run is in the table:\n%s", out)
	}
	b.Reset()
	writeFloorTable(&b, runs[2:4])
	if b.Len() != 0 {
		t.Errorf("no floor runs, yet a table:\n%s", b.String())
	}
}

// The set-rate broadcasts of the floor table must not mix into the Node.js
// table's broadcast figures, which are as fast as the window allows.
func TestBroadcastFiguresIgnoreSetRates(t *testing.T) {
	fast := map[string]any{"n": 1000.0, "room": "bench", "rate": 0.0}
	paced := map[string]any{"n": 1000.0, "room": "bench", "rate": 100.0}
	runs := []record{
		{Scenario: "broadcast", Target: "node", Params: fast, Metrics: map[string]float64{"delivered_per_s": 50000}},
		{Scenario: "broadcast", Target: "node", Params: paced, Metrics: map[string]float64{"delivered_per_s": 100000}},
		{Scenario: "broadcast", Target: "sockio", Params: fast, Metrics: map[string]float64{"delivered_per_s": 200000}},
		{Scenario: "broadcast", Target: "sockio", Params: paced, Metrics: map[string]float64{"delivered_per_s": 100000}},
	}
	for _, r := range rows(runs, figures()) {
		if r.f.metric == "delivered_per_s" && (r.base.median != 50000 || r.cand.median != 200000 || r.base.n != 1) {
			t.Errorf("%s: node %v, sockio %v: set-rate runs mixed in", r.f.name, r.base, r.cand)
		}
	}
}
