package passes

import (
	"fmt"
	"html"
	"strings"

	"github.com/nfpcc/nfpcc/ir"
)

// Snapshot is one function after one pass, for the HTML view (in the
// manner of Go's GOSSAFUNC ssa.html).
type Snapshot struct {
	Pass    string
	Text    string // the function's IR text
	Blocks  []snapBlock
	Remarks []Remark
}

type snapBlock struct {
	Name   string
	Instrs int
	Succs  []int // indexes into Blocks
}

// Snap records f as it is after pass (remarks: that pass's, for f).
func Snap(pass string, f *ir.Func, remarks []Remark) Snapshot {
	s := Snapshot{Pass: pass, Text: f.String()}
	idx := map[*ir.Block]int{}
	for i, b := range f.Blocks {
		idx[b] = i
	}
	for _, b := range f.Blocks {
		sb := snapBlock{Name: fmt.Sprintf("b%d", b.ID), Instrs: len(b.Instrs)}
		for _, c := range b.Succs() {
			sb.Succs = append(sb.Succs, idx[c])
		}
		s.Blocks = append(s.Blocks, sb)
	}
	for _, r := range remarks {
		if r.Func == f.Name || r.Func == "" {
			s.Remarks = append(s.Remarks, r)
		}
	}
	return s
}

// HTML is one page with the function after every pass side by side: each
// column the IR text (lines not in the previous column marked), the CFG
// drawn as SVG, and the pass's remarks.
func HTML(title string, snaps []Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", html.EscapeString(title))
	b.WriteString(`<style>
body { font-family: sans-serif; font-size: 12px; margin: 8px; }
table { border-collapse: collapse; }
td.pass { vertical-align: top; border: 1px solid #ccc; padding: 4px; min-width: 30em; max-width: 44em; }
td.pass h2 { font-size: 13px; margin: 0 0 4px 0; }
pre { font-size: 11px; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.changed { background: #fff2a8; }
.remarks { color: #205080; font-size: 11px; }
svg text { font-size: 10px; font-family: monospace; }
</style></head><body>
`)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<table><tr>\n", html.EscapeString(title))
	prev := map[string]bool{}
	for i, s := range snaps {
		fmt.Fprintf(&b, "<td class=\"pass\" id=\"%s\"><h2>%d. %s</h2>\n", html.EscapeString(s.Pass), i, html.EscapeString(s.Pass))
		b.WriteString(cfgSVG(s.Blocks))
		b.WriteString("<pre>")
		cur := map[string]bool{}
		for _, l := range strings.Split(strings.TrimRight(s.Text, "\n"), "\n") {
			cur[l] = true
			esc := html.EscapeString(l)
			if i > 0 && !prev[l] {
				fmt.Fprintf(&b, "<span class=\"changed\">%s</span>\n", esc)
			} else {
				b.WriteString(esc + "\n")
			}
		}
		b.WriteString("</pre>\n")
		if len(s.Remarks) > 0 {
			b.WriteString("<ul class=\"remarks\">\n")
			for _, r := range s.Remarks {
				fmt.Fprintf(&b, "<li>%s</li>\n", html.EscapeString(r.String()))
			}
			b.WriteString("</ul>\n")
		}
		b.WriteString("</td>\n")
		prev = cur
	}
	b.WriteString("</tr></table>\n</body></html>\n")
	return b.String()
}

// cfgSVG draws blocks as boxes in layout order, top to bottom, with edges:
// forward ones on the right, back edges (to an earlier block) on the left.
func cfgSVG(blocks []snapBlock) string {
	const bw, bh, gap, margin = 90, 18, 12, 60
	h := len(blocks)*(bh+gap) + gap
	w := bw + 2*margin
	var b strings.Builder
	fmt.Fprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" class=\"cfg\">\n", w, h)
	b.WriteString(`<defs><marker id="arrow" markerWidth="6" markerHeight="6" refX="5" refY="3" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>` + "\n")
	y := func(i int) int { return gap + i*(bh+gap) }
	for i, blk := range blocks {
		fmt.Fprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#eef\" stroke=\"#557\"/>", margin, y(i), bw, bh)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\">%s (%d)</text>\n", margin+4, y(i)+13, blk.Name, blk.Instrs)
	}
	for i, blk := range blocks {
		for k, s := range blk.Succs {
			y1, y2 := y(i)+bh/2, y(s)+bh/2
			switch {
			case s == i+1 && k == len(blk.Succs)-1:
				fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\n", margin+bw/2, y(i)+bh, margin+bw/2, y(s))
			case s > i:
				bend := margin + bw + 8 + 6*(s-i)%(margin-10)
				fmt.Fprintf(&b, "<path d=\"M%d,%d C%d,%d %d,%d %d,%d\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\n", margin+bw, y1, bend, y1, bend, y2, margin+bw, y2)
			default:
				bend := margin - 8 - 6*(i-s)%(margin-10)
				fmt.Fprintf(&b, "<path d=\"M%d,%d C%d,%d %d,%d %d,%d\" fill=\"none\" stroke=\"#a33\" marker-end=\"url(#arrow)\"/>\n", margin, y1, bend, y1, bend, y2, margin, y2)
			}
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}
