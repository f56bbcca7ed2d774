// Command summarize reads the JSON lines written by run.sh (one object per
// load-generator run, each with "label" = lib[/profile] and "round") and
// prints the per-configuration medians as Markdown tables.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"
)

type rec map[string]any

func (r rec) f(k string) (float64, bool) {
	v, ok := r[k].(float64)
	return v, ok
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		log.Fatal("usage: summarize raw.jsonl [probe.jsonl]")
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	groups := map[string][]rec{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r rec
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		key := fmt.Sprintf("%v|%v|%v", r["mode"], r["label"], r["size"])
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], r)
	}
	med := func(rs []rec, k string) string {
		var xs []float64
		for _, r := range rs {
			if v, ok := r.f(k); ok {
				xs = append(xs, v)
			}
		}
		if len(xs) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.6g", median(xs))
	}
	all := func(rs []rec, k string) string {
		var p []string
		for _, r := range rs {
			if v, ok := r.f(k); ok {
				p = append(p, fmt.Sprintf("%.4g", v))
			}
		}
		return strings.Join(p, " ")
	}
	section := func(mode, title string, cols []string) {
		fmt.Printf("\n### %s (median of rounds; per-round values in brackets for the first column)\n\n", title)
		fmt.Printf("| config | runs | %s |\n|---|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
		for _, key := range order {
			if !strings.HasPrefix(key, mode+"|") {
				continue
			}
			rs := groups[key]
			parts := strings.SplitN(key, "|", 3)
			name := parts[1]
			if parts[2] != "<nil>" {
				name += " " + parts[2] + "B"
			}
			var cells []string
			for i, c := range cols {
				cell := med(rs, c)
				if i == 0 {
					cell += " [" + all(rs, c) + "]"
				}
				cells = append(cells, cell)
			}
			fmt.Printf("| %s | %d | %s |\n", name, len(rs), strings.Join(cells, " | "))
		}
	}
	section("echo", "Echo, 100 closed-loop clients", []string{"msgs_per_s", "msgs_per_server_cpu_s", "p50_us", "p99_us", "server_cpu_us_per_msg", "server_cpu_pct", "client_cpu_pct", "errors"})
	section("idle", "Idle connections (5,000)", []string{"bytes_per_conn_rss", "bytes_per_conn_rss_raw", "bytes_per_conn_heap", "bytes_per_conn_stack", "goroutines_per_conn", "rss_before", "rss_after"})
	section("bcast", "Broadcast to 1,000 connections", []string{"server_write_all_us_p50", "server_write_all_us_min", "e2e_last_recv_us_p50", "timeouts", "bad_frames"})
	if len(os.Args) == 3 {
		probeTable(os.Args[2])
	}
}

// probeTable prints cmd/probe results: one row per case, one column per label.
func probeTable(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var labels []string
	cols := map[string]map[string]string{}
	var cases []string
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]string
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		l := m["label"]
		labels = append(labels, l)
		cols[l] = m
		for k := range m {
			if k != "label" && !seen[k] {
				seen[k] = true
				cases = append(cases, k)
			}
		}
	}
	if len(labels) == 0 {
		return
	}
	sort.Strings(cases)
	fmt.Printf("\n### RFC 6455 edge-case probe (server's first reaction within 300 ms)\n\n")
	fmt.Printf("| case | %s |\n|---|%s\n", strings.Join(labels, " | "), strings.Repeat("---|", len(labels)))
	for _, c := range cases {
		var cells []string
		for _, l := range labels {
			cells = append(cells, strings.ReplaceAll(cols[l][c], "|", "\\|"))
		}
		fmt.Printf("| %s | %s |\n", c, strings.Join(cells, " | "))
	}
}
