package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// series is one line of a panel.
type series struct {
	name   string
	color  string
	dashed bool
	xs, ys []float64
}

// panel is one plot: x is logarithmic (client counts), y linear from 0.
type panel struct {
	title, ylabel string
	series        []series
}

var targetStyle = map[string]struct {
	label, color string
	dashed       bool
}{
	"node":   {"Node.js socket.io 4.8.1", "#d9822b", false},
	"sockio": {"sockio", "#2b6cd9", false},
	"raw":    {"raw gorilla echo (no protocol)", "#888888", true},
}

// echoPanels builds throughput and p99 against client count from the
// medians of the WebSocket echo runs.
func echoPanels(runs []record) []panel {
	tp := panel{title: "Echo throughput (acks/s, median)", ylabel: "acks/s"}
	lat := panel{title: "Echo latency p99 (ms, median)", ylabel: "ms"}
	for _, target := range []string{"node", "sockio", "raw"} {
		proto := "socket.io"
		if target == "raw" {
			proto = "raw-websocket"
		}
		sel := echoSel("", proto, "websocket")
		st := targetStyle[target]
		a := series{name: st.label, color: st.color, dashed: st.dashed}
		b := a
		for _, c := range paramValues(runs, sel, "clients") {
			s := sel
			s.params = copyMap(sel.params)
			s.params["clients"] = fmt.Sprint(c)
			if m := metricOf(runs, target, s, "acks_per_s"); m.ok() {
				a.xs, a.ys = append(a.xs, c), append(a.ys, m.median)
			}
			if m := metricOf(runs, target, s, "p99_ms"); m.ok() {
				b.xs, b.ys = append(b.xs, c), append(b.ys, m.median)
			}
		}
		if len(a.xs) > 0 {
			tp.series = append(tp.series, a)
			lat.series = append(lat.series, b)
		}
	}
	return []panel{tp, lat}
}

const (
	panelW, panelH                     = 460, 320
	marginL, marginR, marginT, marginB = 70, 20, 40, 50
)

// writeSVG draws the panels side by side, with a shared legend below.
func writeSVG(w io.Writer, title string, panels []panel) error {
	width := panelW * len(panels)
	legendH := 24 * (len(targetStyle) + 1)
	height := panelH + legendH + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="15" text-anchor="middle">%s</text>`+"\n", width/2, esc(title))
	for i, p := range panels {
		drawPanel(&b, p, float64(i*panelW), 24)
	}
	// Legend, from the first panel's series.
	y := panelH + 40
	if len(panels) > 0 {
		for _, s := range panels[0].series {
			dash := ""
			if s.dashed {
				dash = ` stroke-dasharray="6,4"`
			}
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"%s/>`, marginL, y, marginL+30, y, s.color, dash)
			fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", marginL+40, y, esc(s.name))
			y += 22
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func drawPanel(b *strings.Builder, p panel, ox, oy float64) {
	x0, x1 := ox+marginL, ox+panelW-marginR
	y0, y1 := oy+panelH-marginB, oy+marginT
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="13" text-anchor="middle">%s</text>`+"\n", (x0+x1)/2, oy+22, esc(p.title))
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range p.series {
		for i := range s.xs {
			xmin, xmax, ymax = math.Min(xmin, s.xs[i]), math.Max(xmax, s.xs[i]), math.Max(ymax, s.ys[i])
		}
	}
	if math.IsInf(xmin, 0) {
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">no data</text>`+"\n", (x0+x1)/2, (y0+y1)/2)
		return
	}
	lx0, lx1 := math.Log10(xmin), math.Log10(xmax)
	if lx1-lx0 < 1e-9 {
		lx0, lx1 = lx0-0.5, lx1+0.5
	} else {
		pad := (lx1 - lx0) * 0.08
		lx0, lx1 = lx0-pad, lx1+pad
	}
	ystep := niceStep(ymax / 5)
	ytop := math.Ceil(ymax*1.05/ystep) * ystep
	if ytop == 0 {
		ytop = 1
	}
	px := func(x float64) float64 { return x0 + (math.Log10(x)-lx0)/(lx1-lx0)*(x1-x0) }
	py := func(y float64) float64 { return y0 - y/ytop*(y0-y1) }

	// Grid and axes.
	for y := 0.0; y <= ytop+ystep/2; y += ystep {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e6e6e6"/>`, x0, py(y), x1, py(y))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", x0-6, py(y), shortNum(y))
	}
	// x ticks at the client counts measured (those of the first series).
	for _, x := range p.series[0].xs {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#f0f0f0"/>`, px(x), y0, px(x), y1)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", px(x), y0+16, shortNum(x))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`, x0, y0, x1, y0)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", x0, y0, x0, y1)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">clients (log scale)</text>`+"\n", (x0+x1)/2, y0+36)
	fmt.Fprintf(b, `<text transform="translate(%.1f,%.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", ox+16, (y0+y1)/2, esc(p.ylabel))

	for _, s := range p.series {
		var pts []string
		for i := range s.xs {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.xs[i]), py(s.ys[i])))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6,4"`
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>`+"\n", strings.Join(pts, " "), s.color, dash)
		for i := range s.xs {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s at %s clients</title></circle>`+"\n",
				px(s.xs[i]), py(s.ys[i]), s.color, esc(s.name), num(s.ys[i]), shortNum(s.xs[i]))
		}
	}
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// shortNum prints axis labels: 150000 → 150k, 0.5 → 0.5.
func shortNum(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e6), ".0") + "M"
	case v >= 1e3:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e3), ".0") + "k"
	default:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
	}
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
