package load

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one scenario run: written as one JSON line for tooling and
// printed as a table for people.
type Result struct {
	Scenario string             `json:"scenario"`
	Target   string             `json:"target"`
	Time     time.Time          `json:"time"`
	Params   map[string]any     `json:"params"`
	Metrics  map[string]float64 `json:"metrics"`
	Failures map[string]int     `json:"failures,omitempty"`
	// LoadAvg is the machine's 1-minute load average at the start and end:
	// a loaded machine makes every figure noisier.
	LoadAvg [2]float64 `json:"loadavg"`
	Notes   []string   `json:"notes,omitempty"`

	order []string // metric names in the order they were set
}

func newResult(scenario string, cfg *Config, params map[string]any) *Result {
	return &Result{
		Scenario: scenario, Target: cfg.Target, Time: time.Now().UTC(),
		Params: params, Metrics: map[string]float64{}, LoadAvg: [2]float64{loadAvg(), -1},
	}
}

// set records a metric; names carry their unit (acks_per_s, p99_ms, ...).
func (r *Result) set(name string, v float64) {
	if _, ok := r.Metrics[name]; !ok {
		r.order = append(r.order, name)
	}
	r.Metrics[name] = v
}

// setLatency records p50/p90/p99/max of h in milliseconds under prefix.
func (r *Result) setLatency(prefix string, h *Histogram, qs ...float64) {
	for _, q := range qs {
		r.set(fmt.Sprintf("%sp%s_ms", prefix, trimFloat(q*100)), ms(h.Quantile(q)))
	}
	r.set(prefix+"max_ms", ms(h.Max()))
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *Result) finish() { r.LoadAvg[1] = loadAvg() }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func trimFloat(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%g", v), ".0") }

// WriteJSON writes r as one JSON line.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("failed to encode the result: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable prints r for a person: parameters, metrics, failures, notes.
func (r *Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "\n%s against %s (load average %.2f → %.2f)\n", r.Scenario, r.Target, r.LoadAvg[0], r.LoadAvg[1])
	keys := make([]string, 0, len(r.Params))
	for k := range r.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ps []string
	for _, k := range keys {
		ps = append(ps, fmt.Sprintf("%s=%v", k, r.Params[k]))
	}
	fmt.Fprintf(w, "  %s\n", strings.Join(ps, " "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, k := range r.order {
		fmt.Fprintf(tw, "  %s\t%s\t\n", k, formatValue(r.Metrics[k]))
	}
	_ = tw.Flush()
	if len(r.Failures) > 0 {
		fk := make([]string, 0, len(r.Failures))
		for k := range r.Failures {
			fk = append(fk, k)
		}
		sort.Strings(fk)
		for _, k := range fk {
			fmt.Fprintf(w, "  failures %s: %d\n", k, r.Failures[k])
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// formatValue prints large counts without decimals and small ones with three.
func formatValue(v float64) string {
	switch {
	case v >= 1000 || v <= -1000:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// headline metrics per scenario, for Brief.
var headline = map[string][]string{
	"connect":   {"connected", "failed", "accept_per_s", "connect_p99_ms", "rss_per_conn_kib", "rss_per_conn_after_gc_kib", "server_cpu_pct"},
	"echo":      {"acks_per_s", "p99_ms", "acks_per_server_cpu_s", "server_cpu_pct", "client_cpu_pct"},
	"broadcast": {"clients_ok", "delivered_per_s", "fanout_p99_ms", "single_all_p99_ms", "lost", "deliveries_per_server_cpu_s", "server_cpu_pct", "client_cpu_pct"},
	"crossnode": {"clients_ok", "broadcasts_per_s", "delivered_per_s", "fanout_p50_ms", "fanout_p99_ms", "lost", "server_cpu_pct", "a_cpu_pct", "broker_cpu_pct", "client_cpu_pct", "saturated"},
	"recover":   {"k", "recovered", "missed_received", "connect_ms", "recovery_ms", "publish_s"},
}

// Brief is a one-line summary: scenario, target and its headline metrics.
func (r *Result) Brief() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s:", r.Scenario, r.Target)
	if _, ok := r.Params["step"]; ok {
		fmt.Fprintf(&b, " rate=%v", r.Params["rate"])
	}
	for _, k := range headline[r.Scenario] {
		if v, ok := r.Metrics[k]; ok {
			fmt.Fprintf(&b, " %s=%s", k, formatValue(v))
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, " (%d note(s))", len(r.Notes))
	}
	return b.String()
}
