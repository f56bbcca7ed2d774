package main

import "testing"

func TestMedian(t *testing.T) {
	if s := median([]float64{3, 1, 2}); s.median != 2 || s.min != 1 || s.max != 3 || s.n != 3 {
		t.Fatalf("odd: %+v", s)
	}
	if s := median([]float64{4, 1, 3, 2}); s.median != 2.5 {
		t.Fatalf("even: %+v", s)
	}
	if median(nil).ok() {
		t.Fatal("empty median reported as ok")
	}
}

func TestMetricOfSelects(t *testing.T) {
	runs := []record{
		{Scenario: "echo", Target: "node", Params: map[string]any{"clients": 100.0, "proto": "socket.io"}, Metrics: map[string]float64{"acks_per_s": 10}},
		{Scenario: "echo", Target: "node", Params: map[string]any{"clients": 100.0, "proto": "socket.io"}, Metrics: map[string]float64{"acks_per_s": 30}},
		{Scenario: "echo", Target: "node", Params: map[string]any{"clients": 10.0, "proto": "socket.io"}, Metrics: map[string]float64{"acks_per_s": 99}},
		{Scenario: "echo", Target: "sockio", Params: map[string]any{"clients": 100.0, "proto": "socket.io"}, Metrics: map[string]float64{"acks_per_s": 50}},
	}
	sel := selector{scenario: "echo", params: map[string]string{"clients": "100", "proto": "socket.io"}}
	if s := metricOf(runs, "node", sel, "acks_per_s"); s.median != 20 || s.n != 2 {
		t.Fatalf("node: %+v", s)
	}
	if got := paramValues(runs, selector{scenario: "echo"}, "clients"); len(got) != 2 || got[0] != 10 || got[1] != 100 {
		t.Fatalf("paramValues: %v", got)
	}
}
