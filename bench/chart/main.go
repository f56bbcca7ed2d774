// Command chart reads the JSON lines of `sockio-bench -out` written by
// bench/compare.sh and prints the ratio table (medians over the repeats,
// with their spread) and draws the SVG chart of echo throughput and p99
// against the client count, and, when the runs include bench/floor, the
// table of ratios to the floor. With -baseline it also flags every sockio
// figure more than 10 % worse than in the baseline run.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	in := flag.String("in", "", "results (JSON lines from sockio-bench -out)")
	tableOut := flag.String("table", "", "also write the tables (Markdown) to this file")
	svgOut := flag.String("svg", "", "write the echo chart (SVG) to this file")
	baseline := flag.String("baseline", "", "earlier results to compare sockio's figures with")
	title := flag.String("title", "sockio vs Node.js socket.io: echo, server on one core", "chart title")
	flag.Parse()
	if err := run(*in, *tableOut, *svgOut, *baseline, *title); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(in, tableOut, svgOut, baseline, title string) error {
	if in == "" {
		return fmt.Errorf("-in is required")
	}
	runs, err := readRuns(in)
	if err != nil {
		return err
	}
	var out io.Writer = os.Stdout
	var tf *os.File
	if tableOut != "" {
		if tf, err = os.Create(tableOut); err != nil {
			return fmt.Errorf("failed to create %s: %w", tableOut, err)
		}
		defer tf.Close()
		out = io.MultiWriter(os.Stdout, tf)
	}
	writeTable(out, "Ratios to Node.js (median (min–max) over the repeats; server on one core)", "node", "sockio", rows(runs, figures()))
	writeTable(out, "Protocol overhead: sockio against a raw echo on the same WebSocket library", "base", "candidate", rows(runs, overhead()))
	writeFloorTable(out, runs)
	if baseline != "" {
		base, err := readRuns(baseline)
		if err != nil {
			return err
		}
		if n := writeRegressions(out, runs, base); n > 0 {
			fmt.Fprintf(out, "\n%d figure(s) regressed by more than 10%%: each needs a note saying why.\n", n)
		}
	}
	if svgOut != "" {
		f, err := os.Create(svgOut)
		if err != nil {
			return fmt.Errorf("failed to create %s: %w", svgOut, err)
		}
		if err := writeSVG(f, title, echoPanels(runs)); err != nil {
			f.Close()
			return fmt.Errorf("failed to write %s: %w", svgOut, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if tf != nil {
		return tf.Close()
	}
	return nil
}
