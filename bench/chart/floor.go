package main

import (
	"fmt"
	"io"
	"math"
)

// The floor table: each server's cost per operation against bench/floor, a
// minimal single-threaded C epoll server (what the kernel costs, with next
// to no user-space work), measured in the same run (issue #18).

// floorTargets are the servers compared with the floor, in column order.
var floorTargets = []string{"sockio", "node"}

// floorRow is one figure of the floor table.
type floorRow struct {
	name   string
	sel    selector
	metric string
}

// floorRows lists the figures the runs hold for the floor: server CPU per
// operation, RSS per idle connection, and, beside them, the rates and the
// load generator's CPU share (near 100 %, the generator set the pace).
func floorRows(runs []record) []floorRow {
	var cost, rates, gen []floorRow
	ws := echoSel("", "socket.io", "websocket")
	for _, c := range paramValues(runs, ws, "clients") {
		sel := echoSel(fmt.Sprint(c), "socket.io", "websocket")
		cost = append(cost, floorRow{fmt.Sprintf("server CPU µs per echo ack, %d clients", int(c)), sel, "server_cpu_us_per_ack"})
		rates = append(rates, floorRow{fmt.Sprintf("echo acks/s, %d clients", int(c)), sel, "acks_per_s"})
		gen = append(gen, floorRow{fmt.Sprintf("load generator CPU %%, echo %d clients", int(c)), sel, "client_cpu_pct"})
	}
	for _, n := range paramValues(runs, selector{scenario: "broadcast"}, "n") {
		nsel := selector{scenario: "broadcast", params: map[string]string{"n": fmt.Sprint(n)}}
		for _, rate := range paramValues(runs, nsel, "rate") {
			sel := selector{scenario: "broadcast", params: map[string]string{"n": fmt.Sprint(n), "rate": fmt.Sprint(rate)}}
			how := "as fast as allowed"
			if rate > 0 {
				how = fmt.Sprintf("%g broadcasts/s", rate)
			}
			cost = append(cost, floorRow{fmt.Sprintf("server CPU µs per broadcast delivery, %d clients, %s", int(n), how), sel, "server_cpu_us_per_delivery"})
			rates = append(rates, floorRow{fmt.Sprintf("broadcast deliveries/s, %d clients, %s", int(n), how), sel, "delivered_per_s"})
			gen = append(gen, floorRow{fmt.Sprintf("load generator CPU %%, broadcast to %d, %s", int(n), how), sel, "client_cpu_pct"})
		}
	}
	if ns := paramValues(runs, selector{scenario: "connect"}, "n"); len(ns) > 0 {
		n := ns[len(ns)-1]
		sel := selector{scenario: "connect", params: map[string]string{"n": fmt.Sprint(n)}}
		cost = append(cost,
			floorRow{fmt.Sprintf("server CPU µs per accepted connection, %d conns", int(n)), sel, "server_cpu_us_per_conn"},
			floorRow{fmt.Sprintf("RSS per idle WebSocket connection KiB, %d conns", int(n)), sel, "rss_per_conn_kib"},
			floorRow{fmt.Sprintf("RSS per idle connection after a forced GC KiB, %d conns", int(n)), sel, "rss_per_conn_after_gc_kib"})
		rates = append(rates, floorRow{fmt.Sprintf("accepted connections/s, %d conns", int(n)), sel, "accept_per_s"})
		gen = append(gen, floorRow{fmt.Sprintf("load generator CPU %%, connect %d", int(n)), sel, "client_cpu_pct"})
	}
	return append(append(cost, rates...), gen...)
}

// writeFloorTable prints the floor table when the runs include the floor.
func writeFloorTable(w io.Writer, runs []record) {
	var lines []string
	for _, r := range floorRows(runs) {
		floor := metricOf(runs, "floor", r.sel, r.metric)
		if !floor.ok() {
			continue
		}
		line := fmt.Sprintf("| %s | %s", r.name, cell(floor))
		for _, t := range floorTargets {
			line += " | " + cell(metricOf(runs, t, r.sel, r.metric))
		}
		for _, t := range floorTargets {
			line += " | " + ratioText(floorRatio(metricOf(runs, t, r.sel, r.metric), floor))
		}
		lines = append(lines, line+" |")
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\nRatios to the floor (bench/floor: minimal C epoll server; median (min–max) over the repeats; server on one core)\n\n| figure | floor | sockio | node | sockio ÷ floor | node ÷ floor |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// floorRatio is s over the floor; none when the floor's figure is not
// positive (an RSS growth within the noise, say).
func floorRatio(s, floor stat) float64 {
	if !s.ok() || floor.median <= 0 {
		return math.NaN()
	}
	return s.median / floor.median
}
