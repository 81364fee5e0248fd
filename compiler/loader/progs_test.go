package loader

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/testsuite"
)

// TestProgs loads the project's own test programs (testdata/progs, built
// by build.sh, objects committed) and checks what each must contain.
func TestProgs(t *testing.T) {
	dir := filepath.Join(testsuite.ProjectRoot(), "testdata", "progs")
	// Per object: its programs as "name section type funcs…" and its maps
	// as "name type key value max".
	want := map[string]struct{ progs, maps []string }{
		"xdp_drop.o": {progs: []string{"xdp_drop xdp XDP xdp_drop"}},
		"xdp_fw.o": {
			progs: []string{"xdp_fw xdp XDP xdp_fw"},
			maps:  []string{"blocked_ports Hash 2 8 1024"},
		},
		"xdp_router.o": {
			progs: []string{"xdp_router xdp XDP xdp_router"},
			maps:  []string{"routes Array 4 24 256"},
		},
		"xdp_lb.o": {
			progs: []string{"xdp_lb xdp XDP xdp_lb"},
			maps: []string{".bss Array 4 16 1", ".data Array 4 4 1", ".rodata Array 4 8 1",
				"backends Array 4 12 4"},
		},
		"xdp_count.o": {
			progs: []string{"xdp_count xdp XDP xdp_count"},
			maps:  []string{"proto_stats Array 4 16 256"},
		},
		"xdp_calls.o": {
			// The subprograms are appended in call order; .text functions
			// are also listed as programs of their own (see Object).
			progs: []string{
				"parse_l3 .text UnspecifiedProgram parse_l3",
				"account .text UnspecifiedProgram account",
				"icmp_verdict .text UnspecifiedProgram icmp_verdict",
				"xdp_calls xdp XDP xdp_calls account icmp_verdict parse_l3",
			},
			maps: []string{"verdicts Array 4 8 8"},
		},
		"xdp_loop.o": {
			progs: []string{"xdp_loop xdp XDP xdp_loop"},
			maps:  []string{"vlan_depth Array 4 8 5"},
		},
		"tc_classify.o": {progs: []string{"tc_classify tc SchedCLS tc_classify"}},
		"legacy_maps.o": {
			progs: []string{"legacy_maps xdp XDP legacy_maps"},
			maps:  []string{"flow_tables ArrayOfMaps 4 4 4", "flows Hash 4 4 128", "pkt_count PerCPUArray 4 8 1"},
		},
	}
	objs, _ := filepath.Glob(filepath.Join(dir, "*.o"))
	if len(objs) != len(want) {
		t.Errorf("%d objects in %s, want %d", len(objs), dir, len(want))
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		w := want[name]
		obj, err := Load(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		var progs, maps []string
		for _, p := range obj.Programs {
			s := fmt.Sprintf("%s %s %v", p.Name, p.Section, p.Type)
			for _, f := range p.Funcs {
				s += " " + f.Name
			}
			progs = append(progs, s)
			if p.License != "GPL" {
				t.Errorf("%s: %s: license %q", name, p.Name, p.License)
			}
		}
		for _, m := range obj.Maps {
			maps = append(maps, fmt.Sprintf("%s %v %d %d %d", m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries))
		}
		if strings.Join(progs, "\n") != strings.Join(w.progs, "\n") {
			t.Errorf("%s: programs\n%s\nwant\n%s", name, strings.Join(progs, "\n"), strings.Join(w.progs, "\n"))
		}
		if strings.Join(maps, "\n") != strings.Join(w.maps, "\n") {
			t.Errorf("%s: maps\n%s\nwant\n%s", name, strings.Join(maps, "\n"), strings.Join(w.maps, "\n"))
		}
	}
}

// TestProgsGlobals: xdp_lb's configuration and seed arrive as the initial
// contents of its global-data maps.
func TestProgsGlobals(t *testing.T) {
	obj, err := Load(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "xdp_lb.o"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		".rodata": "fe00000a0100000a", // lb_vip, lb_self (little-endian)
		".data":   "b979379e",         // lb_seed
		".bss":    "00000000000000000000000000000000",
	}
	for _, m := range obj.Maps {
		if w, ok := want[m.Name]; ok && fmt.Sprintf("%x", m.Contents) != w {
			t.Errorf("%s: contents %x, want %s", m.Name, m.Contents, w)
		}
	}
}

// TestProgsSourceLines: BTF line info survives linking, for entry points,
// appended subprograms and .text functions loaded as programs.
func TestProgsSourceLines(t *testing.T) {
	obj, err := Load(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "xdp_calls.o"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range obj.Programs {
		withLine := 0
		for _, ins := range p.Insns {
			if ins.Source() != nil {
				withLine++
			}
		}
		// clang -g gives a line to most instructions, and always to the
		// first of a function.
		if withLine*2 < len(p.Insns) || p.Insns[0].Source() == nil {
			t.Errorf("%s: %d of %d instructions have a source line", p.Name, withLine, len(p.Insns))
		}
	}
	p := obj.Programs[len(obj.Programs)-1]
	if src := fmt.Sprint(p.Insns[0].Source()); !strings.Contains(src, "xdp_calls") {
		t.Errorf("%s: first line %q", p.Name, src)
	}
}

// TestProgsLegacyMaps: 36-byte iproute2 definitions; the map-in-map finds
// its template by inner_id.
func TestProgsLegacyMaps(t *testing.T) {
	obj, err := Load(progsObject(t, "legacy_maps.o"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range obj.Maps {
		if m.Section != "maps" {
			t.Errorf("%v: section %q", m, m.Section)
		}
		if (m.Name == "flow_tables") != (m.InnerMap != nil) {
			t.Errorf("%v: inner map", m)
		}
		if m.InnerMap != nil && (m.InnerMap.Name != "flows" || m.InnerMap.Type != ebpf.Hash) {
			t.Errorf("%v: want inner map flows", m)
		}
	}
}

// TestProgsGCC: an object from GCC's BPF back end (no BTF, a 20-byte
// legacy map, globals, a static call through the .text section symbol).
func TestProgsGCC(t *testing.T) {
	obj, err := Load(progsObject(t, "gcc/xdp_gcc_count.o"))
	if err != nil {
		t.Fatal(err)
	}
	var maps []string
	for _, m := range obj.Maps {
		maps = append(maps, fmt.Sprintf("%s %v %d %d %d %s", m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Section))
	}
	want := []string{".bss Array 4 8 1 .bss", ".data Array 4 16 1 .data", "counters Array 4 8 4 maps"}
	if strings.Join(maps, "\n") != strings.Join(want, "\n") {
		t.Errorf("maps\n%s\nwant\n%s", strings.Join(maps, "\n"), strings.Join(want, "\n"))
	}
	var p *Program
	for _, q := range obj.Programs {
		if q.Type == ebpf.XDP {
			p = q
		}
	}
	if p == nil || p.Name != "xdp_gcc_count" || len(p.Funcs) != 2 || p.Funcs[1].Name != "bucket" {
		t.Fatalf("programs %v", obj.Programs)
	}
	calls := 0
	slot := 0
	for _, ins := range p.Insns {
		if ins.IsFunctionCall() {
			calls++
			if slot+1+int(ins.Constant) != p.Funcs[1].Slot {
				t.Errorf("pc %d: call to %d, bucket is at %d", slot, slot+1+int(ins.Constant), p.Funcs[1].Slot)
			}
		}
		slot += int(ins.Size() / 8)
	}
	if calls != 1 {
		t.Errorf("%d calls", calls)
	}
}
