package main

// `nfpcc run IMAGE --pcap P --profile out.html`: where the cycles go, as
// one page — perf annotate's listing (per word its executions and the
// published model's cycles over all packets, a heat column), the hottest
// path highlighted, beside each word its eBPF slot and C source line (the
// image's line table), and the cycles of every packet as a small chart
// (published and extended figures). The page is well-formed XHTML with no
// script and no external resource.

import (
	"bufio"
	"fmt"
	"html/template"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa/image"
)

// profileRow is one word of the listing.
type profileRow struct {
	Addr     int
	Count    uint64
	Cycles   int64
	Share    float64 // of all cycles, %
	Heat     int     // 0–100, relative to the hottest word
	Hot      bool    // on the hottest path
	PC       string  // eBPF slot
	EBPF     string  // the eBPF instruction there (from the object)
	Source   string  // file:line
	SrcText  string  // the C line
	Text     string  // the instruction
	Executed bool
}

type profileBar struct {
	X, Y, W, H float64
	Ext        float64 // y of the extended figure
	Index      int
	Cycles     int64
	ExtCycles  int64
}

type profilePage struct {
	Title, Object             string
	Packets, Words            int
	TotalCycles               int64
	MeanCycles, MeanExt       float64
	HotPath, HotPackets       int
	HotCycles                 int64
	HotWords, Paths           int
	Rows                      []profileRow
	Bars                      []profileBar
	ChartW, ChartH, MaxCycles float64
	ExtPoints                 string
	HasLines                  bool
}

// writeProfile renders prof for program p (lines: the image's line table,
// nil for a dump) to path.
func writeProfile(path, object, progName string, p *nfp.Program, lines []image.Line, slots map[uint32]ebpfSlot, prof *nfp.Profile) error {
	pg := profilePage{Title: progName, Object: object, Packets: len(prof.PacketCycles), Words: len(p.Code), HasLines: len(lines) > 0}
	var maxWord int64
	for i := range p.Code {
		pg.TotalCycles += prof.Cycles[i]
		maxWord = max(maxWord, prof.Cycles[i])
	}
	hot := map[uint32]bool{}
	pg.HotPath = prof.Hottest()
	if pg.HotPath >= 0 {
		hp := prof.Paths[pg.HotPath]
		for _, w := range hp.Words {
			hot[w] = true
		}
		pg.HotPackets, pg.HotCycles, pg.HotWords = hp.Packets, hp.Cycles, len(hp.Words)
	}
	pg.Paths = len(prof.Paths)
	src := sourceLines{}
	for i := range p.Code {
		r := profileRow{Addr: i, Count: prof.Counts[i], Cycles: prof.Cycles[i], Hot: hot[uint32(i)], Text: p.InstrText(uint32(i)), Executed: prof.Counts[i] > 0}
		if pg.TotalCycles > 0 {
			r.Share = 100 * float64(r.Cycles) / float64(pg.TotalCycles)
		}
		if maxWord > 0 {
			r.Heat = int(100 * r.Cycles / maxWord)
		}
		if l, ok := lineAt(lines, uint32(i)); ok {
			if l.PC != image.NoPC {
				r.PC = fmt.Sprint(l.PC)
				if s, ok := slots[l.PC]; ok {
					r.EBPF, r.Source, r.SrcText = s.Text, s.Source, s.Line
				}
			}
			if l.File != "" && l.Line > 0 {
				r.Source = fmt.Sprintf("%s:%d", l.File, l.Line)
				r.SrcText = src.text(l.File, int(l.Line))
			}
		}
		pg.Rows = append(pg.Rows, r)
	}

	// The chart: one bar per packet (published), a line for the extended.
	pg.ChartW, pg.ChartH = 720, 160
	var sum, sumExt float64
	for i, c := range prof.PacketCycles {
		pg.MaxCycles = max(pg.MaxCycles, float64(c), float64(prof.PacketExtCycles[i]))
		sum += float64(c)
		sumExt += float64(prof.PacketExtCycles[i])
	}
	if n := len(prof.PacketCycles); n > 0 {
		pg.MeanCycles, pg.MeanExt = sum/float64(n), sumExt/float64(n)
		w := pg.ChartW / float64(n)
		var pts []string
		for i, c := range prof.PacketCycles {
			h := pg.ChartH * float64(c) / pg.MaxCycles
			x := float64(i) * w
			ext := pg.ChartH - pg.ChartH*float64(prof.PacketExtCycles[i])/pg.MaxCycles
			pg.Bars = append(pg.Bars, profileBar{X: x, Y: pg.ChartH - h, W: max(w*0.8, 0.5), H: h, Ext: ext, Index: i + 1, Cycles: c, ExtCycles: prof.PacketExtCycles[i]})
			pts = append(pts, fmt.Sprintf("%.2f,%.2f", x+w/2, ext))
		}
		pg.ExtPoints = strings.Join(pts, " ")
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := profileTmpl().Execute(bw, &pg); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ebpfSlot is what the eBPF object says about one instruction slot.
type ebpfSlot struct {
	Text   string // the instruction
	Source string // file:line (BTF line info), if the object has it
	Line   string // the C line
}

// ebpfSlots reads the eBPF instructions of program name (the image's
// program) in the object at path, by slot, with their BTF source lines.
func ebpfSlots(path, name string) (map[uint32]ebpfSlot, error) {
	obj, err := loader.Load(path)
	if err != nil {
		return nil, err
	}
	for _, prog := range obj.Programs {
		if prog.Name != name && len(obj.Programs) > 1 {
			continue
		}
		out := map[uint32]ebpfSlot{}
		slot := uint32(0)
		var cur ebpfSlot
		for _, ins := range prog.Insns {
			if ln, ok := ins.Source().(*btf.Line); ok && ln != nil {
				cur = ebpfSlot{Source: fmt.Sprintf("%s:%d", ln.FileName(), ln.LineNumber()), Line: strings.TrimSpace(ln.Line())}
			}
			s := cur
			s.Text = fmt.Sprint(ins)
			out[slot] = s
			slot += uint32(ins.Size() / 8)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: no program %q", path, name)
}

// lineAt finds the line-table entry covering addr (entries apply from
// their Addr up to the next one's).
func lineAt(lines []image.Line, addr uint32) (image.Line, bool) {
	i := sort.Search(len(lines), func(i int) bool { return lines[i].Addr > addr }) - 1
	if i < 0 {
		return image.Line{}, false
	}
	return lines[i], true
}

// sourceLines reads source files once, for the C line beside a word.
type sourceLines map[string][]string

func (s sourceLines) text(file string, line int) string {
	ls, ok := s[file]
	if !ok {
		if b, err := loader.ReadCapped(file, maxTextInput); err == nil {
			ls = strings.Split(string(b), "\n")
		}
		s[file] = ls
	}
	if line >= 1 && line <= len(ls) {
		return strings.TrimSpace(ls[line-1])
	}
	return ""
}

// profileTmpl is parsed on first use: a package-level template would be
// parsed at the start of every command (issue 12: start-up).
var profileTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("profile").Funcs(template.FuncMap{
		"f1": func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"f2": func(v float64) string { return fmt.Sprintf("%.2f", v) },
	}).Parse(`<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" lang="en">
<head>
<meta charset="utf-8"/>
<title>nfpcc profile: {{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 1em 2em; }
table { border-collapse: collapse; font-family: monospace; font-size: 12px; }
th, td { padding: 1px 6px; text-align: left; white-space: pre; }
th { background: #eee; position: sticky; top: 0; }
td.n { text-align: right; }
td.heat { width: 120px; }
div.bar { height: 10px; background: #d33; }
tr.hot td.insn { background: #ffe9a8; font-weight: bold; }
tr.cold { color: #999; }
td.src { color: #264; }
td.ebpf { color: #555; }
svg rect.pub { fill: #36c; }
svg polyline.ext { fill: none; stroke: #d33; stroke-width: 1.5; }
</style>
</head>
<body>
<h1>nfpcc profile: {{.Title}}</h1>
<p id="summary">{{.Object}}: {{.Packets}} packets, {{.Words}} words; model cycles per packet mean {{f1 .MeanCycles}} published (Krude et al., CoNEXT 2021), {{f1 .MeanExt}} extended (+ firmware helpers, DRAM atomics). Hottest path: path {{.HotPath}} of {{.Paths}}, taken by {{.HotPackets}} packets, {{.HotCycles}} cycles, {{.HotWords}} words executed (highlighted).</p>
<h2>Cycles per packet</h2>
<svg id="cycles" xmlns="http://www.w3.org/2000/svg" width="{{.ChartW}}" height="{{.ChartH}}" viewBox="0 0 {{.ChartW}} {{.ChartH}}">
{{range .Bars}}<rect class="pub" x="{{f2 .X}}" y="{{f2 .Y}}" width="{{f2 .W}}" height="{{f2 .H}}"><title>packet {{.Index}}: {{.Cycles}} cycles, extended {{.ExtCycles}}</title></rect>
{{end}}<polyline class="ext" points="{{.ExtPoints}}"/>
</svg>
<p>bars: published model; line: extended figure; scale 0–{{f1 .MaxCycles}} cycles.</p>
<h2>Listing</h2>
<table id="listing">
<thead><tr><th>addr</th><th>count</th><th>cycles</th><th>%</th><th>heat</th><th>eBPF</th><th>eBPF instruction</th><th>C source</th><th>NFP instruction</th></tr></thead>
<tbody>
{{range .Rows}}<tr id="w{{.Addr}}" class="{{if .Hot}}hot{{else if not .Executed}}cold{{else}}run{{end}}"><td class="n">.{{.Addr}}</td><td class="n count">{{.Count}}</td><td class="n cycles">{{.Cycles}}</td><td class="n">{{f1 .Share}}</td><td class="heat"><div class="bar" style="width: {{.Heat}}%"></div></td><td class="n pc">{{.PC}}</td><td class="ebpf">{{.EBPF}}</td><td class="src" title="{{.Source}}">{{.SrcText}}</td><td class="insn">{{.Text}}</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`))
})
