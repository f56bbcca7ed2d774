package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func init() {
	register("top", "a live view of nodes read from their /metrics endpoints (sockio serve --metrics)", runTop)
}

// sample is one scrape: each series' value by its full name with labels.
type sample struct {
	at     time.Time
	series map[string]float64
	err    error
}

func runTop(args []string) error {
	fs := flag.NewFlagSet("top", flag.ContinueOnError)
	interval := fs.Duration("interval", 2*time.Second, "time between scrapes")
	count := fs.Int("n", 0, "stop after this many refreshes (0: until interrupted; 1 when the output is not a terminal)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sockio top [flags] URL...\n\nURL is a node's metrics endpoint (http://10.0.0.7:9100/metrics; /metrics is added to a bare host:port).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return fmt.Errorf("top: %w", err)
	}
	if fs.NArg() == 0 || *interval <= 0 {
		fs.Usage()
		return fmt.Errorf("top: give at least one URL, and an interval above 0")
	}
	urls := make([]string, fs.NArg())
	for i, u := range fs.Args() {
		if !strings.Contains(u, "://") {
			u = "http://" + u
		}
		if !strings.Contains(strings.SplitN(u, "://", 2)[1], "/") {
			u += "/metrics"
		}
		urls[i] = u
	}
	tty := isTerminal(os.Stdout)
	if !tty && *count == 0 {
		*count = 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hc := &http.Client{Timeout: 5 * time.Second}

	prev := scrapeAll(ctx, hc, urls)
	for n := 0; *count == 0 || n < *count; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
		cur := scrapeAll(ctx, hc, urls)
		var out strings.Builder
		renderTop(&out, urls, prev, cur)
		if tty {
			// Home and clear: the view refreshes in place.
			fmt.Print("\x1b[H\x1b[2J")
		}
		fmt.Print(out.String())
		prev = cur
	}
	return nil
}

func scrapeAll(ctx context.Context, hc *http.Client, urls []string) []sample {
	out := make([]sample, len(urls))
	done := make(chan struct{}, len(urls))
	for i, u := range urls {
		go func() {
			out[i] = scrape(ctx, hc, u)
			done <- struct{}{}
		}()
	}
	for range urls {
		<-done
	}
	return out
}

func scrape(ctx context.Context, hc *http.Client, url string) sample {
	s := sample{at: time.Now(), series: map[string]float64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		s.err = fmt.Errorf("failed to build the request: %w", err)
		return s
	}
	res, err := hc.Do(req)
	if err != nil {
		s.err = fmt.Errorf("failed to scrape: %w", err)
		return s
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		s.err = fmt.Errorf("failed to scrape: %s", res.Status)
		return s
	}
	s.series, s.err = parseExposition(io.LimitReader(res.Body, 32<<20))
	return s
}

// parseExposition reads the Prometheus text format: "name{labels} value".
// Comments and timestamps are skipped.
func parseExposition(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		// The value follows the last space outside the labels' braces.
		end := strings.LastIndexByte(line, '}')
		rest := line[end+1:]
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		name := strings.TrimSpace(line[:end+1])
		if end < 0 {
			name = fields[0]
			fields = fields[1:]
			if len(fields) == 0 {
				continue
			}
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("failed to read the metrics: %w", err)
	}
	return out, nil
}

// metricName and label split a series key.
func metricName(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		return key[:i]
	}
	return key
}

func label(key, name string) string {
	i := strings.Index(key, name+`="`)
	if i < 0 {
		return ""
	}
	v := key[i+len(name)+2:]
	if j := strings.IndexByte(v, '"'); j >= 0 {
		return v[:j]
	}
	return v
}

func sum(s map[string]float64, name string, match func(key string) bool) float64 {
	var t float64
	for k, v := range s {
		if metricName(k) == name && (match == nil || match(k)) {
			t += v
		}
	}
	return t
}

// rate is the per-second increase of a counter's sum between two samples.
func rate(prev, cur sample, name string, match func(string) bool) float64 {
	dt := cur.at.Sub(prev.at).Seconds()
	if dt <= 0 || prev.err != nil {
		return 0
	}
	d := sum(cur.series, name, match) - sum(prev.series, name, match)
	return math.Max(d, 0) / dt // a restart resets counters
}

// p99 estimates the 99th percentile of a histogram over the interval from
// its buckets' increases (all label sets together), as histogram_quantile.
func p99(prev, cur sample, name string) (float64, bool) {
	byLE := map[float64]float64{}
	for k, v := range cur.series {
		if metricName(k) != name+"_bucket" {
			continue
		}
		le, err := strconv.ParseFloat(label(k, "le"), 64)
		if err != nil {
			continue
		}
		byLE[le] += v - prev.series[k]
	}
	les := make([]float64, 0, len(byLE))
	for le := range byLE {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 || byLE[les[len(les)-1]] <= 0 {
		return 0, false
	}
	total := byLE[les[len(les)-1]]
	want := 0.99 * total
	lower, below := 0.0, 0.0
	for _, le := range les {
		if byLE[le] >= want {
			if math.IsInf(le, 1) {
				return lower, true
			}
			// Linear within the bucket.
			return lower + (le-lower)*(want-below)/math.Max(byLE[le]-below, 1e-9), true
		}
		lower, below = le, byLE[le]
	}
	return lower, true
}

func renderTop(w io.Writer, urls []string, prev, cur []sample) {
	fmt.Fprintf(w, "sockio top  %s  (%d node(s))\n\n", time.Now().Format("15:04:05"), len(urls))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tclients\tpolling\tsockets\tevents/s\tacks/s\tdrops/s\tp99 handler\t")
	namespaces := map[string]float64{}
	var tot [6]float64
	var failed []string
	for i, u := range urls {
		c, p := cur[i], prev[i]
		if c.err != nil {
			fmt.Fprintf(tw, "%s\tdown\t\t\t\t\t\t\t\n", u)
			failed = append(failed, fmt.Sprintf("%s: %v", u, c.err))
			continue
		}
		clients := sum(c.series, "sockio_engine_clients", nil)
		polling := sum(c.series, "sockio_engine_clients", func(k string) bool { return label(k, "transport") == "polling" })
		socks := sum(c.series, "sockio_sockets", nil)
		for k, v := range c.series {
			if metricName(k) == "sockio_sockets" {
				namespaces[label(k, "namespace")] += v
			}
		}
		ev := rate(p, c, "sockio_events_received_total", nil)
		acks := rate(p, c, "sockio_acks_sent_total", nil) + rate(p, c, "sockio_acks_received_total", nil)
		drops := rate(p, c, "sockio_engine_volatile_drops_total", nil) +
			rate(p, c, "sockio_engine_disconnections_total", func(k string) bool { return label(k, "reason") == "slow_consumer" })
		q := "-"
		if v, ok := p99(p, c, "sockio_event_handler_duration_seconds"); ok {
			q = time.Duration(v * float64(time.Second)).Round(time.Microsecond).String()
		}
		for j, v := range []float64{clients, polling, socks, ev, acks, drops} {
			tot[j] += v
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%s\t\n", u, clients, polling, socks, ev, acks, drops, q)
	}
	if len(urls) > 1 {
		fmt.Fprintf(tw, "all\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t\t\n", tot[0], tot[1], tot[2], tot[3], tot[4], tot[5])
	}
	_ = tw.Flush()
	for _, f := range failed {
		fmt.Fprintln(w, f)
	}
	if len(namespaces) > 0 {
		fmt.Fprintln(w, "\nsockets per namespace:")
		names := make([]string, 0, len(namespaces))
		for n := range namespaces {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %-20s %.0f\n", n, namespaces[n])
		}
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
