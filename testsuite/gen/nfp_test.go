package gen

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa/image"
)

var nfpSeeds = flag.Int("gen.nfp", 0, "compile this many programs for the NFP and compare emulator and interpreter")
var nfpFirst = flag.Int("gen.nfp-first", 0, "first seed of -gen.nfp")
var nfpRegs = flag.Int("gen.regs", 0, "compiler.Options.Regs for -gen.nfp (0: all registers)")
var nfpRefused = flag.Float64("gen.refused", -1, "NFPRefusedProb for -gen.nfp (default: DefaultConfig's)")

// TestNFPSanity compiles generated programs with compiler.Compile and
// compares the NFP emulator with the interpreter on their packets. It is
// a sanity check of the generator's usefulness, not of the compiler (the
// fuzz harness owns that): it logs the compile rate, the refusal reasons
// and mismatching seeds, and fails only on a compiler BUG panic.
func TestNFPSanity(t *testing.T) {
	if *nfpSeeds == 0 {
		t.Skip("no -gen.nfp")
	}
	cfg := DefaultConfig()
	if *nfpRefused >= 0 {
		cfg.NFPRefusedProb = *nfpRefused
	}
	reasons := map[string][]uint64{}
	compiled, mismatched := 0, 0
	var bad []string
	for s := *nfpFirst; s < *nfpFirst+*nfpSeeds; s++ {
		seed := uint64(s)
		p := Generate(seed, cfg)
		obj := p.Object()
		imgs, _, err := compiler.Compile(obj, compiler.Options{Regs: *nfpRegs})
		if err != nil {
			if strings.Contains(err.Error(), "BUG") {
				t.Errorf("seed %d: %v", seed, firstLine(err.Error()))
			}
			r := refusalReason(err)
			reasons[r] = append(reasons[r], seed)
			continue
		}
		compiled++
		if msg := compareNFP(p, imgs[0]); msg != "" {
			mismatched++
			bad = append(bad, fmt.Sprintf("seed %d: %s", seed, msg))
		}
	}
	t.Logf("%d programs: %d compiled (%.0f%%), %d mismatched", *nfpSeeds, compiled, 100*float64(compiled)/float64(*nfpSeeds), mismatched)
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(reasons[keys[i]]) > len(reasons[keys[j]]) })
	for _, k := range keys {
		ex := reasons[k]
		if len(ex) > 4 {
			ex = ex[:4]
		}
		t.Logf("  refused %4d× %s  (seeds %v)", len(reasons[k]), k, ex)
	}
	for _, b := range bad {
		t.Log(b)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// refusalReason groups a compile error: the message after the slot, with
// numbers blanked.
func refusalReason(err error) string {
	s := firstLine(err.Error())
	if i := strings.Index(s, "eBPF slot "); i >= 0 {
		if j := strings.Index(s[i:], ": "); j >= 0 {
			s = s[i+j+2:]
		}
	} else if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	var b strings.Builder
	digits := false
	for _, c := range s {
		if c >= '0' && c <= '9' {
			if !digits {
				b.WriteByte('N')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(c)
	}
	s = b.String()
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// compareNFP runs p's image on the NFP emulator and p on the interpreter
// over Packets(p); it returns the first difference, or "".
func compareNFP(p *Program, img *image.Image) string {
	var buf bytes.Buffer
	if err := img.Write(&buf); err != nil {
		return "writing the image: " + err.Error()
	}
	back, err := image.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return "reading the image: " + err.Error()
	}
	prog, err := nfp.LoadImage(back)
	if err != nil {
		return "NFP load: " + err.Error()
	}
	nmaps, err := nfp.MapsFor(back)
	if err != nil {
		return "maps: " + err.Error()
	}
	fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: nmaps})
	if err != nil {
		return "firmware: " + err.Error()
	}
	ref, err := ebpfemu.FromObject(p.Object(), 0, ebpfemu.Options{})
	if err != nil {
		return "interpreter load: " + err.Error()
	}
	hook, maxCode := emulator.HookXDP, uint64(3)
	if img.Program.Type == image.ProgTC {
		hook, maxCode = emulator.HookTC, 7
	}
	pkts := Packets(p, p.Seed, 64)
	for i, pkt := range pkts {
		want, err := ref.Run(0, ebpfemu.Input{Packet: append([]byte(nil), pkt...)})
		if err != nil {
			return fmt.Sprintf("packet %d: interpreter: %v", i, err)
		}
		got, err := fw.RunPacket(append([]byte(nil), pkt...))
		if err != nil {
			return fmt.Sprintf("packet %d (%x): NFP: %v", i, pkt, err)
		}
		var bad []string
		if wantAct := nfp.OffloadAction(hook, want.Return); got.Action != wantAct {
			bad = append(bad, fmt.Sprintf("action %s, reference %s (r0 %#x)", got.Action, wantAct, want.Return))
		}
		if uint32(got.Return) != uint32(want.Return) && want.Return <= maxCode {
			bad = append(bad, fmt.Sprintf("r0 %#x, reference %#x", got.Return, want.Return))
		}
		if !reflect.DeepEqual(got.Events, want.Events) {
			gj, _ := json.Marshal(got.Events)
			wj, _ := json.Marshal(want.Events)
			bad = append(bad, fmt.Sprintf("events NFP %s ref %s", gj, wj))
		}
		if !bytes.Equal(got.Packet, want.Packet) {
			bad = append(bad, fmt.Sprintf("packet NFP %x ref %x", []byte(got.Packet), []byte(want.Packet)))
		}
		if g, w := fw.MapState(), ref.Snapshot(); !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			bad = append(bad, fmt.Sprintf("maps NFP %s ref %s", gj, wj))
		}
		if len(bad) > 0 {
			return fmt.Sprintf("packet %d (%x): %s", i, pkt, strings.Join(bad, "; "))
		}
	}
	return ""
}

// TestNFPDebug prints the compile error of one seed (-gen.debug).
func TestNFPDebug(t *testing.T) {
	if *debugSeed < 0 {
		t.Skip("no -gen.debug")
	}
	p := Generate(uint64(*debugSeed), DefaultConfig())
	_, _, err := compiler.Compile(p.Object(), compiler.Options{})
	t.Logf("compile: %v", err)
}
