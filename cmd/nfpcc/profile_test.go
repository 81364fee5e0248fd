package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/testsuite"
)

// node is an element of the profile page, parsed as XML (the page is
// well-formed XHTML).
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []node     `xml:",any"`
}

func (n *node) attr(k string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == k {
			return a.Value
		}
	}
	return ""
}

func (n *node) find(pred func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(m *node) {
		if pred(m) {
			out = append(out, m)
		}
		for i := range m.Kids {
			walk(&m.Kids[i])
		}
	}
	walk(n)
	return out
}

// TestProfilePage: `nfpcc run quic-lb.nfp quic-lb.bpf.o --packet … --profile
// out.html` over the nfp-jit cases' packets writes a well-formed page whose
// listing has one row per code word (count, cycles, heat, eBPF slot and
// instruction, NFP instruction), whose per-word cycles add up to the
// packets' published figures less the 224 firmware cycles, whose counts add
// up to the instructions run, whose hottest path is highlighted, and whose
// chart has one bar per packet.
func TestProfilePage(t *testing.T) {
	corpus := testsuite.Corpus(t, "nfp-jit")
	obj := filepath.Join(corpus, "programs", "xdp-quic-lb.bpf.o")
	dir := t.TempDir()
	img := filepath.Join(dir, "quic-lb.nfp")
	var out, errb bytes.Buffer
	if rc := Main([]string{"--xdp", obj, "-o", img}, &out, &errb); rc != 0 {
		t.Fatalf("compile: exit %d: %s", rc, errb.String())
	}
	cb, _ := os.ReadFile(filepath.Join(corpus, "cases.json"))
	var cases map[string]map[string]struct {
		Packet string `json:"packet_pattern_hex"`
	}
	if err := json.Unmarshal(cb, &cases); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", img, obj, "--profile", filepath.Join(dir, "p.html")}
	for _, k := range []string{"k_first", "i_first"} {
		args = append(args, "--packet", cases["xdp-quic-lb"][k].Packet)
	}
	args = append(args, "--packet", "00112233445566778899aabb0800") // a short frame: another path
	out.Reset()
	if rc := Main(args, &out, &errb); rc != 0 {
		t.Fatalf("run: exit %d: %s", rc, errb.String())
	}
	var cycles, insns []int64
	for _, m := range regexp.MustCompile(`(\d+) instructions, (\d+) cycles`).FindAllStringSubmatch(out.String(), -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		c, _ := strconv.ParseInt(m[2], 10, 64)
		insns, cycles = append(insns, n), append(cycles, c)
	}
	if len(cycles) != 3 {
		t.Fatalf("report:\n%s", out.String())
	}

	page, err := os.ReadFile(filepath.Join(dir, "p.html"))
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(page))
	var root node
	if err := d.Decode(&root); err != nil {
		t.Fatalf("the page is not well-formed: %v", err)
	}
	data, _ := os.ReadFile(img)
	im, err := image.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}

	tables := root.find(func(n *node) bool { return n.XMLName.Local == "table" && n.attr("id") == "listing" })
	if len(tables) != 1 {
		t.Fatalf("%d listing tables", len(tables))
	}
	rows := tables[0].find(func(n *node) bool { return n.XMLName.Local == "tr" && strings.HasPrefix(n.attr("id"), "w") })
	if len(rows) != len(im.Code) {
		t.Fatalf("%d listing rows, the image has %d words", len(rows), len(im.Code))
	}
	var sumCycles, sumCount int64
	hot, withEBPF, heat := 0, 0, 0
	for i, r := range rows {
		cells := r.find(func(n *node) bool { return n.XMLName.Local == "td" })
		if len(cells) != 9 {
			t.Fatalf("row %d: %d cells, want 9 (addr, count, cycles, %%, heat, eBPF slot, eBPF insn, C, NFP insn)", i, len(cells))
		}
		if cells[0].Text != fmt.Sprintf(".%d", i) || strings.TrimSpace(cells[8].Text) == "" {
			t.Errorf("row %d: address %q, instruction %q", i, cells[0].Text, cells[8].Text)
		}
		c, err1 := strconv.ParseInt(cells[2].Text, 10, 64)
		n, err2 := strconv.ParseInt(cells[1].Text, 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %d: count %q cycles %q", i, cells[1].Text, cells[2].Text)
		}
		sumCycles += c
		sumCount += n
		if r.attr("class") == "hot" {
			hot++
		}
		if cells[6].Text != "" {
			withEBPF++
		}
		if len(cells[4].find(func(n *node) bool { return n.XMLName.Local == "div" && n.attr("class") == "bar" })) == 1 {
			heat++
		}
	}
	var wantCycles, wantInsns int64
	for i := range cycles {
		wantCycles += cycles[i] - 224
		wantInsns += insns[i]
	}
	if sumCycles != wantCycles || sumCount != wantInsns {
		t.Errorf("listing: %d cycles, %d executions; packets: %d cycles beyond the firmware's, %d instructions", sumCycles, sumCount, wantCycles, wantInsns)
	}
	if hot == 0 || withEBPF == 0 || heat != len(rows) {
		t.Errorf("%d rows on the hottest path, %d with an eBPF instruction, %d heat bars", hot, withEBPF, heat)
	}
	svg := root.find(func(n *node) bool { return n.XMLName.Local == "svg" && n.attr("id") == "cycles" })
	if len(svg) != 1 {
		t.Fatalf("%d cycle charts", len(svg))
	}
	bars := svg[0].find(func(n *node) bool { return n.XMLName.Local == "rect" })
	if len(bars) != len(cycles) {
		t.Fatalf("%d bars, %d packets", len(bars), len(cycles))
	}
	for i, b := range bars {
		if tt := b.find(func(n *node) bool { return n.XMLName.Local == "title" }); len(tt) != 1 || !strings.HasPrefix(tt[0].Text, fmt.Sprintf("packet %d: %d cycles", i+1, cycles[i])) {
			t.Errorf("bar %d: %v", i, tt)
		}
	}
	if len(root.find(func(n *node) bool { return n.attr("id") == "summary" })) != 1 {
		t.Error("no summary")
	}
}
