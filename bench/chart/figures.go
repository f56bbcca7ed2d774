package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// figure is one row of the ratio table: a metric of cand over base.
type figure struct {
	name         string // %d is replaced by the size parameter's value
	sel          selector
	sizeParam    string // when set, the largest value present is used
	metric       string
	higherBetter bool
	base, cand   string
	goal         float64 // required ratio cand/base; 0 = shown only
	atLeast      bool    // goal is a minimum (else a maximum)
}

func echoSel(clients, proto, transport string) selector {
	p := map[string]string{"proto": proto, "transport": transport}
	if clients != "" {
		p["clients"] = clients
	}
	return selector{scenario: "echo", params: p}
}

// figures are the targets (goal set) and the figures that explain them.
func figures() []figure {
	// Broadcasts as fast as the window allows (rate 0); compare.sh's set-rate
	// runs are for the floor table.
	ws, bc, cn := echoSel("100", "socket.io", "websocket"), selector{scenario: "broadcast", params: map[string]string{"rate": "0"}}, selector{scenario: "connect"}
	return []figure{
		{name: "echo acks/s, 100 clients", sel: ws, metric: "acks_per_s", higherBetter: true, base: "node", cand: "sockio", goal: 5, atLeast: true},
		{name: "echo acks per server-CPU-second, 100 clients", sel: ws, metric: "acks_per_server_cpu_s", higherBetter: true, base: "node", cand: "sockio", goal: 5, atLeast: true},
		{name: "echo p99 ms, 100 clients", sel: ws, metric: "p99_ms", base: "node", cand: "sockio"},
		{name: "echo server read syscalls per ack, 100 clients", sel: ws, metric: "server_reads_per_ack", base: "node", cand: "sockio"},
		{name: "echo server write syscalls per ack, 100 clients", sel: ws, metric: "server_writes_per_ack", base: "node", cand: "sockio"},
		{name: "broadcast deliveries/s, %d clients", sel: bc, sizeParam: "n", metric: "delivered_per_s", higherBetter: true, base: "node", cand: "sockio", goal: 8, atLeast: true},
		{name: "broadcast deliveries per server-CPU-second, %d clients", sel: bc, sizeParam: "n", metric: "deliveries_per_server_cpu_s", higherBetter: true, base: "node", cand: "sockio", goal: 8, atLeast: true},
		{name: "broadcast fan-out p99 ms, %d clients", sel: bc, sizeParam: "n", metric: "fanout_p99_ms", base: "node", cand: "sockio"},
		{name: "broadcast server write syscalls per delivery, %d clients", sel: bc, sizeParam: "n", metric: "server_writes_per_delivery", base: "node", cand: "sockio"},
		{name: "one broadcast to %d clients, p99 ms", sel: bc, sizeParam: "n", metric: "single_all_p99_ms", base: "node", cand: "sockio", goal: 0.25},
		{name: "RSS per idle WebSocket connection KiB, %d conns", sel: cn, sizeParam: "n", metric: "rss_per_conn_kib", base: "node", cand: "sockio", goal: 0.5},
		{name: "RSS per idle connection after a forced GC KiB, %d conns", sel: cn, sizeParam: "n", metric: "rss_per_conn_after_gc_kib", base: "node", cand: "sockio", goal: 0.5},
		{name: "accepted connections/s, %d conns", sel: cn, sizeParam: "n", metric: "accept_per_s", higherBetter: true, base: "node", cand: "sockio", goal: 5, atLeast: true},
		{name: "connections per server-CPU-second, %d conns", sel: cn, sizeParam: "n", metric: "conns_per_server_cpu_s", higherBetter: true, base: "node", cand: "sockio", goal: 5, atLeast: true},
		{name: "connect p99 ms, %d conns", sel: cn, sizeParam: "n", metric: "connect_p99_ms", base: "node", cand: "sockio"},
		{name: "polling echo acks/s, %d clients", sel: echoSel("", "socket.io", "polling"), sizeParam: "clients", metric: "acks_per_s", higherBetter: true, base: "node", cand: "sockio"},
		{name: "polling echo acks per server-CPU-second, %d clients", sel: echoSel("", "socket.io", "polling"), sizeParam: "clients", metric: "acks_per_server_cpu_s", higherBetter: true, base: "node", cand: "sockio"},
	}
}

// overhead rows compare sockio with the raw echo of the same WebSocket library.
func overhead() []figure {
	return []figure{
		{name: "echo acks/s, 100 clients: raw ÷ sockio", sel: echoSel("100", "", "websocket"), metric: "acks_per_s", higherBetter: true, base: "sockio", cand: "raw", goal: 2},
		{name: "echo per server-CPU-second, 100 clients: raw ÷ sockio", sel: echoSel("100", "", "websocket"), metric: "acks_per_server_cpu_s", higherBetter: true, base: "sockio", cand: "raw", goal: 2},
	}
}

// resolve fixes the size parameter of f to the largest value in runs.
func (f figure) resolve(runs []record) (figure, bool) {
	f.sel.params = copyMap(f.sel.params)
	if f.sizeParam != "" {
		vs := paramValues(runs, f.sel, f.sizeParam)
		if len(vs) == 0 {
			return f, false
		}
		v := vs[len(vs)-1]
		f.sel.params[f.sizeParam] = fmt.Sprint(v)
		f.name = fmt.Sprintf(f.name, int(v))
	}
	// The overhead rows mix protocols: match the target's own.
	if p, ok := f.sel.params["proto"]; ok && p == "" {
		delete(f.sel.params, "proto")
	}
	return f, true
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// row is a resolved figure with its numbers.
type row struct {
	f          figure
	base, cand stat
	ratio      float64
}

func (r row) verdict() string {
	if r.f.goal == 0 || !r.base.ok() || !r.cand.ok() || math.IsNaN(r.ratio) {
		return ""
	}
	if (r.f.atLeast && r.ratio >= r.f.goal) || (!r.f.atLeast && r.ratio <= r.f.goal) {
		return "yes"
	}
	return "**no**"
}

func (r row) goalText() string {
	switch {
	case r.f.goal == 0:
		return ""
	case r.f.atLeast:
		return fmt.Sprintf("≥ %g×", r.f.goal)
	default:
		return fmt.Sprintf("≤ %g×", r.f.goal)
	}
}

func rows(runs []record, fs []figure) []row {
	var out []row
	for _, f := range fs {
		f, ok := f.resolve(runs)
		if !ok {
			continue
		}
		r := row{f: f, base: metricOf(runs, f.base, f.sel, f.metric), cand: metricOf(runs, f.cand, f.sel, f.metric)}
		if !r.base.ok() && !r.cand.ok() {
			continue
		}
		r.ratio = math.NaN()
		if r.base.ok() && r.cand.ok() && r.base.median != 0 {
			r.ratio = r.cand.median / r.base.median
		}
		out = append(out, r)
	}
	return out
}

// writeTable prints rows as Markdown: median (min–max over the repeats).
func writeTable(w io.Writer, title, baseName, candName string, rs []row) {
	fmt.Fprintf(w, "\n%s\n\n| figure | %s | %s | ratio | goal | met |\n| --- | --- | --- | --- | --- | --- |\n", title, baseName, candName)
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.f.name, cell(r.base), cell(r.cand), ratioText(r.ratio), r.goalText(), r.verdict())
	}
}

func cell(s stat) string {
	if !s.ok() {
		return "–"
	}
	if s.n == 1 {
		return num(s.median)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.median), num(s.min), num(s.max))
}

func ratioText(r float64) string {
	if math.IsNaN(r) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", r)
}

// num prints a figure with three significant digits, grouped thousands.
func num(v float64) string {
	a := math.Abs(v)
	var s string
	switch {
	case a >= 1000:
		s = fmt.Sprintf("%.0f", v)
		return group(s)
	case a >= 100:
		s = fmt.Sprintf("%.0f", v)
	case a >= 10:
		s = fmt.Sprintf("%.1f", v)
	case a >= 1:
		s = fmt.Sprintf("%.2f", v)
	default:
		s = fmt.Sprintf("%.3f", v)
	}
	return s
}

func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// writeRegressions compares sockio's figures with a baseline run and lists
// every one more than 10 % worse: the issue asks for a note on each.
func writeRegressions(w io.Writer, runs, baseline []record) int {
	n := 0
	fmt.Fprintf(w, "\nChange of sockio's figures against the baseline (worse by more than 10%% is flagged)\n\n| figure | baseline | now | change | flag |\n| --- | --- | --- | --- | --- |\n")
	for _, f := range figures() {
		f, ok := f.resolve(runs)
		if !ok {
			continue
		}
		now, before := metricOf(runs, "sockio", f.sel, f.metric), metricOf(baseline, "sockio", f.sel, f.metric)
		if !now.ok() || !before.ok() || before.median == 0 {
			continue
		}
		change := now.median/before.median - 1
		worse := (f.higherBetter && change < -0.10) || (!f.higherBetter && change > 0.10)
		flag := ""
		if worse {
			flag = "**regression: needs a note**"
			n++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %+.1f%% | %s |\n", f.name, num(before.median), num(now.median), change*100, flag)
	}
	return n
}
