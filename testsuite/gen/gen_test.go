package gen

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"reflect"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/verifier"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
)

var seeds = flag.Int("gen.seeds", 2000, "programs the generator tests check")

// TestVerifierAccepts checks that nfpcc's verifier accepts every program,
// with the facts the compiler uses and with the kernel's pruning that
// nfpcc verify uses (Options.VerdictOnly, which forgets what the kernel
// forgets): a rejection is a generator bug, or a verdict-only mode that
// lost a program.
func TestVerifierAccepts(t *testing.T) {
	cfg := DefaultConfig()
	bad, total, most, verdictTotal := 0, 0, 0, 0
	for s := 0; s < *seeds; s++ {
		p := Generate(uint64(s), cfg)
		obj := p.Object()
		res, err := verifier.Verify(obj.Programs[0], obj.Maps, &verifier.Options{Type: p.Type})
		if err != nil {
			bad++
			if bad <= 5 {
				t.Errorf("seed %d: %v\n%s", s, err, p)
			}
			continue
		}
		total += res.Processed
		most = max(most, res.Processed)
		vres, err := verifier.Verify(obj.Programs[0], obj.Maps, &verifier.Options{Type: p.Type, VerdictOnly: true})
		if err != nil {
			t.Errorf("seed %d: the verdict-only mode rejects: %v\n%s", s, err, p)
			continue
		}
		verdictTotal += vres.Processed
	}
	t.Logf("%d programs, %d rejected; verifier processed %d instructions on average, %d at most (verdict-only mode: %d on average)",
		*seeds, bad, total/max(*seeds-bad, 1), most, verdictTotal/max(*seeds-bad, 1))
}

// TestRefusedShapesVerify checks the configuration that also generates
// what the NFP refuses: the kernel's rules still hold.
func TestRefusedShapesVerify(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NFPRefusedProb = 1
	cfg.CPUv4Prob = 1
	for s := 0; s < *seeds/4; s++ {
		p := Generate(uint64(s), cfg)
		obj := p.Object()
		if _, err := verifier.Verify(obj.Programs[0], obj.Maps, &verifier.Options{Type: p.Type}); err != nil {
			t.Fatalf("seed %d: %v\n%s", s, err, p)
		}
	}
}

// TestInterpreterRuns runs every program on its packets: no run-time error
// (out-of-bounds access, bad helper argument) may happen in a program the
// verifier accepted.
func TestInterpreterRuns(t *testing.T) {
	cfg := DefaultConfig()
	refused := cfg
	refused.NFPRefusedProb, refused.CPUv4Prob = 1, 1
	for s := 0; s < *seeds; s++ {
		cfg := cfg
		if s%4 == 3 {
			cfg = refused
		}
		p := Generate(uint64(s), cfg)
		m, err := ebpfemu.FromObject(p.Object(), 0, ebpfemu.Options{})
		if err != nil {
			t.Fatalf("seed %d: load: %v", s, err)
		}
		for i, pkt := range Packets(p, uint64(s), 16) {
			if _, err := m.Run(0, ebpfemu.Input{Packet: pkt}); err != nil {
				t.Fatalf("seed %d: packet %d (%x): %v\n%s", s, i, pkt, err, p)
			}
		}
	}
}

// TestDeterministic: the same seed and config give the same program and
// the same packets.
func TestDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	for s := uint64(0); s < 200; s++ {
		a, b := Generate(s, cfg), Generate(s, cfg)
		if encode(t, a) != encode(t, b) || !reflect.DeepEqual(a.Funcs, b.Funcs) || !reflect.DeepEqual(a.Maps, b.Maps) || !reflect.DeepEqual(a.Hints, b.Hints) {
			t.Fatalf("seed %d: two generations differ", s)
		}
		if !reflect.DeepEqual(Packets(a, s, 20), Packets(b, s, 20)) {
			t.Fatalf("seed %d: two packet sets differ", s)
		}
	}
}

// encode is the program's encoding plus every instruction's fields (the
// encoding alone could hide what an encoder drops).
func encode(t *testing.T, p *Program) string {
	var b bytes.Buffer
	if err := p.Insns.Marshal(&b, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	for _, ins := range p.Insns {
		fmt.Fprintf(&b, "|%x %d %d %d %d", uint32(ins.OpCode), ins.Dst, ins.Src, ins.Offset, ins.Constant)
	}
	return b.String()
}

// TestTextRoundTrip: Parse(p.String()) is p, and printing it again gives
// the same text.
func TestTextRoundTrip(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NFPRefusedProb, cfg.CPUv4Prob = 0.3, 0.7
	for s := uint64(0); s < 300; s++ {
		p := Generate(s, cfg)
		text := p.String()
		q, err := Parse(text)
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", s, err, text)
		}
		if encode(t, p) != encode(t, q) {
			t.Fatalf("seed %d: instructions differ after parsing\n%s", s, text)
		}
		if !reflect.DeepEqual(p.Funcs, q.Funcs) || !reflect.DeepEqual(p.Maps, q.Maps) || !reflect.DeepEqual(p.Hints, q.Hints) || p.Type != q.Type || p.Seed != q.Seed {
			t.Fatalf("seed %d: funcs, maps, hints, type or seed differ after parsing\n%s", s, text)
		}
		if again := q.String(); again != text {
			t.Fatalf("seed %d: printing the parsed program differs\n%s\n---\n%s", s, text, again)
		}
	}
}

// TestCoverage checks that every feature appears over the seeds.
func TestCoverage(t *testing.T) {
	cfg := DefaultConfig()
	var all Features
	for s := 0; s < *seeds; s++ {
		f := Coverage(Generate(uint64(s), cfg))
		all.Union(&f)
	}
	var missing []string
	for _, f := range AllFeatures() {
		if !all.Has(f) {
			missing = append(missing, f.String())
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d features never generated over %d seeds: %v", len(missing), len(AllFeatures()), *seeds, missing)
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := DefaultConfig()
	insns := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		insns += len(Generate(uint64(i), cfg).Insns)
	}
	b.ReportMetric(float64(insns)/float64(b.N), "insns/op")
}

var debugSeed = flag.Int64("gen.debug", -1, "print the program of this seed and its verification")

// TestDebugSeed prints one program and its verdict (-gen.debug N).
func TestDebugSeed(t *testing.T) {
	if *debugSeed < 0 {
		t.Skip("no -gen.debug")
	}
	p := Generate(uint64(*debugSeed), DefaultConfig())
	obj := p.Object()
	t.Logf("%s\n%s", p, obj.Programs[0])
	_, err := verifier.Verify(obj.Programs[0], obj.Maps, &verifier.Options{Type: p.Type})
	t.Logf("verify: %v", err)
}
