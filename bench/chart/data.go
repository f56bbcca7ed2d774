package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// record is one line of `sockio-bench -out`: the fields the report reads.
type record struct {
	Scenario string             `json:"scenario"`
	Target   string             `json:"target"`
	Params   map[string]any     `json:"params"`
	Metrics  map[string]float64 `json:"metrics"`
	LoadAvg  [2]float64         `json:"loadavg"`
}

// param returns a parameter as text, so that 100 and 100.0 compare equal.
func (r *record) param(name string) string {
	v, ok := r.Params[name]
	if !ok {
		return ""
	}
	return fmt.Sprint(v)
}

func readRuns(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open results: %w", err)
	}
	defer f.Close()
	var out []record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	return out, nil
}

// stat is the median of one metric over the repeats, with its spread.
type stat struct {
	median, min, max float64
	n                int
}

func (s stat) ok() bool { return s.n > 0 }

// median of the values; the mean of the middle two for an even count.
func median(vs []float64) stat {
	if len(vs) == 0 {
		return stat{}
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{median: m, min: s[0], max: s[len(s)-1], n: len(s)}
}

// selector picks the runs of one measurement point.
type selector struct {
	scenario string
	params   map[string]string // params that must match
}

func (sel selector) matches(r *record) bool {
	if r.Scenario != sel.scenario {
		return false
	}
	for k, v := range sel.params {
		if r.param(k) != v {
			return false
		}
	}
	return true
}

// metricOf returns the median of metric over the runs of target that sel picks.
func metricOf(runs []record, target string, sel selector, metric string) stat {
	var vs []float64
	for i := range runs {
		r := &runs[i]
		if r.Target != target || !sel.matches(r) {
			continue
		}
		if v, ok := r.Metrics[metric]; ok {
			vs = append(vs, v)
		}
	}
	return median(vs)
}

// paramValues lists the distinct values of param among the runs sel picks
// (ignoring the param itself in sel), sorted numerically.
func paramValues(runs []record, sel selector, param string) []float64 {
	seen := map[float64]bool{}
	var out []float64
	for i := range runs {
		r := &runs[i]
		if !sel.matches(r) {
			continue
		}
		v, ok := r.Params[param].(float64)
		if ok && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Float64s(out)
	return out
}
