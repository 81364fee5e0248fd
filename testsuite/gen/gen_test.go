package gen

import (
	"flag"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/verifier"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
)

var seeds = flag.Int("gen.seeds", 2000, "programs the generator tests check")

// TestVerifierAccepts checks that nfpcc's verifier accepts every program.
func TestVerifierAccepts(t *testing.T) {
	cfg := DefaultConfig()
	bad := 0
	total := 0
	for s := 0; s < *seeds; s++ {
		p := Generate(uint64(s), cfg)
		obj := p.Object()
		res, err := verifier.Verify(obj.Programs[0], obj.Maps, &verifier.Options{Type: p.Type})
		if err != nil {
			bad++
			if bad <= 5 {
				t.Errorf("seed %d: %v\n%s", s, err, obj.Programs[0])
			}
			continue
		}
		total += res.Processed
	}
	t.Logf("%d programs, %d rejected, %d insns processed on average", *seeds, bad, total/max(*seeds-bad, 1))
}

// TestInterpreterRuns runs every program on its packets.
func TestInterpreterRuns(t *testing.T) {
	cfg := DefaultConfig()
	n := min(*seeds, 500)
	for s := 0; s < n; s++ {
		p := Generate(uint64(s), cfg)
		obj := p.Object()
		m, err := ebpfemu.FromObject(obj, 0, ebpfemu.Options{})
		if err != nil {
			t.Fatalf("seed %d: load: %v", s, err)
		}
		for i, pkt := range Packets(p, uint64(s), 16) {
			if _, err := m.Run(0, ebpfemu.Input{Packet: pkt}); err != nil {
				t.Fatalf("seed %d: packet %d (%x): %v\n%s", s, i, pkt, err, obj.Programs[0])
			}
		}
	}
}

var debugSeed = flag.Int64("gen.debug", -1, "print the program of this seed and its verification")

func TestDebugSeed(t *testing.T) {
	if *debugSeed < 0 {
		t.Skip("no -gen.debug")
	}
	p := Generate(uint64(*debugSeed), DefaultConfig())
	obj := p.Object()
	t.Logf("%s", obj.Programs[0])
	_, err := verifier.Verify(obj.Programs[0], obj.Maps, &verifier.Options{Type: p.Type})
	t.Logf("verify: %v", err)
}
