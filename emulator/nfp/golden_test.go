package nfp_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/asm"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestGolden runs the cases of testdata/run: each archive holds a program
// in NFP assembly (prog.s, load-time targets as @out/@abort/@next_pkt/
// @helper), optional maps ("name type key_size value_size max_entries" per
// line) and initial state (state.json), the packets as hex lines, and the
// expected report (want). go test -update rewrites want.
func TestGolden(t *testing.T) {
	golden.Run(t, filepath.Join("testdata", "run", "*.txtar"), func(t *testing.T, a *golden.Archive) {
		a.Check(t, "want", runGolden(t, a))
	})
}

var mapTypes = map[string]emulator.MapType{
	"hash": emulator.MapHash, "array": emulator.MapArray, "lru_hash": emulator.MapLRUHash,
	"perf_event_array": emulator.MapPerfEventArray,
}

func runGolden(t *testing.T, a *golden.Archive) string {
	t.Helper()
	p, err := asm.Assemble("prog.s", []byte(a.Section("prog.s")), asm.Options{Mode: isa.Ctx4})
	if err != nil {
		return fmt.Sprintf("assemble: %v\n", err)
	}
	img := &image.Image{Program: image.Program{Name: "prog", Type: image.ProgXDP}}
	for _, w := range p.Words {
		img.Code = append(img.Code, uint64(w))
	}
	for _, r := range p.Relocs {
		img.Relocs = append(img.Relocs, image.Reloc{Index: uint32(r.Word), Kind: image.RelocKind(r.Kind), Value: uint32(r.Value)})
	}
	var maps []emulator.Map
	for _, l := range strings.Split(strings.TrimSpace(a.Section("maps")), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) != 5 {
			t.Fatalf("maps line %q: want name type key_size value_size max_entries", l)
		}
		var n [3]uint32
		for i := range n {
			v, err := strconv.ParseUint(f[2+i], 10, 32)
			if err != nil {
				t.Fatalf("maps line %q: %v", l, err)
			}
			n[i] = uint32(v)
		}
		m, err := emulator.NewMap(emulator.MapSpec{Name: f[0], Type: mapTypes[f[1]], KeySize: n[0], ValueSize: n[1], MaxEntries: n[2]})
		if err != nil {
			t.Fatal(err)
		}
		maps = append(maps, m)
	}
	if st, ok := a.Lookup("state.json"); ok {
		s, err := emulator.ParseState([]byte(st))
		if err == nil {
			err = s.Apply(maps)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	prog, err := nfp.LoadImage(img)
	if err != nil {
		fmt.Fprintf(&b, "load: %v\n", err)
		return b.String()
	}
	fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: maps, Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(a.Section("packets"), "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		n++
		pkt, err := nfp.ParsePacketHex(l)
		if err != nil {
			t.Fatalf("packet %d: %v", n, err)
		}
		r, err := fw.RunPacket(pkt)
		if err != nil {
			fmt.Fprintf(&b, "packet %d: error: %v\n", n, err)
			continue
		}
		fmt.Fprintf(&b, "packet %d: %s stat=%s return=%#x cycles=%d dram=%.4f insns=%d", n, r.Action, r.Stat, r.Return, r.Cycles, r.DRAMCycles, r.Instructions)
		if r.HelperCalls > 0 {
			fmt.Fprintf(&b, " helpers=%d", r.HelperCalls)
		}
		fmt.Fprintln(&b)
		if !bytes.Equal(r.Packet, pkt) {
			fmt.Fprintf(&b, "  packet now %x\n", []byte(r.Packet))
		}
		for _, e := range r.Events {
			fmt.Fprintf(&b, "  event %s cpu %d %x\n", e.Map, e.CPU, []byte(e.Data))
		}
	}
	if len(maps) > 0 {
		js, err := fw.MapState().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		b.Write(js)
	}
	return b.String()
}
