package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func TestNiceStepAndLabels(t *testing.T) {
	for raw, want := range map[float64]float64{0.7: 1, 1.3: 2, 3: 5, 7: 10, 23000: 50000, 0: 1} {
		if got := niceStep(raw); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", raw, got, want)
		}
	}
	for v, want := range map[float64]string{150000: "150k", 2500000: "2.5M", 1000: "1k", 0.5: "0.5", 10: "10"} {
		if got := shortNum(v); got != want {
			t.Errorf("shortNum(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSVGIsWellFormed(t *testing.T) {
	runs := []record{
		{Scenario: "echo", Target: "node", Params: map[string]any{"clients": 10.0, "proto": "socket.io", "transport": "websocket"}, Metrics: map[string]float64{"acks_per_s": 1000, "p99_ms": 2}},
		{Scenario: "echo", Target: "node", Params: map[string]any{"clients": 100.0, "proto": "socket.io", "transport": "websocket"}, Metrics: map[string]float64{"acks_per_s": 1500, "p99_ms": 9}},
		{Scenario: "echo", Target: "sockio", Params: map[string]any{"clients": 10.0, "proto": "socket.io", "transport": "websocket"}, Metrics: map[string]float64{"acks_per_s": 5000, "p99_ms": 1}},
		{Scenario: "echo", Target: "raw", Params: map[string]any{"clients": 10.0, "proto": "raw-websocket", "transport": "websocket"}, Metrics: map[string]float64{"acks_per_s": 9000, "p99_ms": 0.5}},
	}
	var b bytes.Buffer
	if err := writeSVG(&b, "a <title> & more", echoPanels(runs)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	d := xml.NewDecoder(strings.NewReader(out))
	lines := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 6 { // 3 targets × 2 panels
		t.Fatalf("%d polylines, want 6", lines)
	}
	if !strings.Contains(out, ">sockio<") || !strings.Contains(out, "a &lt;title&gt; &amp; more") {
		t.Fatal("legend or escaped title missing")
	}
}

func TestRatioVerdict(t *testing.T) {
	r := row{f: figure{goal: 5, atLeast: true}, base: stat{median: 10, n: 1}, cand: stat{median: 60, n: 1}, ratio: 6}
	if r.verdict() != "yes" {
		t.Fatal("6× meets ≥5×")
	}
	r = row{f: figure{goal: 0.25}, base: stat{median: 400, n: 1}, cand: stat{median: 200, n: 1}, ratio: 0.5}
	if r.verdict() != "**no**" {
		t.Fatal("0.5× does not meet ≤0.25×")
	}
}
