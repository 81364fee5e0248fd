package lift

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/irworld"
)

// packets makes frames that get past the parsers of the test programs:
// Ethernet (sometimes VLAN-tagged) + IPv4 or IPv6 + TCP, UDP or ICMP with
// random addresses and ports, and some short and random frames.
func packets(rng *rand.Rand, n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		var b bytes.Buffer
		b.Write([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
		if rng.IntN(5) == 0 {
			b.Write([]byte{0x81, 0x00, 0, byte(rng.IntN(16))})
		}
		switch rng.IntN(6) {
		case 0: // IPv6
			b.Write([]byte{0x86, 0xdd, 0x60, 0, 0, 0, 0, 20, []byte{6, 17, 58}[rng.IntN(3)], 64})
			for j := 0; j < 32; j++ {
				b.WriteByte(byte(rng.IntN(256)))
			}
		case 1: // ARP or other
			b.Write([]byte{0x08, 0x06})
		default: // IPv4
			proto := []byte{1, 6, 17, 47}[rng.IntN(4)]
			ihl := byte(5)
			if rng.IntN(8) == 0 {
				ihl = 6
			}
			b.Write([]byte{0x08, 0x00, 0x40 | ihl, 0, 0, 40, 0, 0, 0, 0, byte(1 + rng.IntN(64)), proto, 0, 0})
			for j := 0; j < 4; j++ {
				b.WriteByte(byte(rng.IntN(4))) // few distinct addresses: map hits
			}
			if rng.IntN(3) == 0 {
				b.Write([]byte{10, 0, 0, 254}) // xdp_lb's service address
			} else {
				for j := 0; j < 4; j++ {
					b.WriteByte(byte(rng.IntN(4)))
				}
			}
			for j := 0; j < int(ihl-5)*4; j++ {
				b.WriteByte(1) // IP options: NOPs
			}
		}
		for j := 0; j < 4; j++ { // ports, or ICMP type and code: small, so maps hit
			b.WriteByte(byte(rng.IntN(4)))
		}
		for j := rng.IntN(40); j > 0; j-- { // the rest of the header, payload
			b.WriteByte(byte(rng.IntN(256)))
		}
		frame := b.Bytes()
		if rng.IntN(10) == 0 {
			frame = frame[:rng.IntN(len(frame))]
		}
		out = append(out, frame)
	}
	return out
}

// TestDifferential runs every XDP and tc program of testdata/progs and of a few
// Linux samples on the same packets twice: eBPF in the reference
// interpreter (emulator/ebpf), and the IR lifted with the verifier's facts
// in ir.Machine with the same helpers and maps. Return value, packet bytes
// and map contents must agree after every packet.
func TestDifferential(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "*.o"))
	own := len(files)
	if d := testsuite.CorporaDir(); d != "" {
		files = append(files, objects(t, filepath.Join(d, "ebpf-samples"))...)
	}
	var runs int
	var skipped []string
	for fi, file := range files {
		perProgram := 300 // the project's programs
		if fi >= own {
			perProgram = 60 // the samples
		}
		obj, err := loader.Load(file)
		if err != nil {
			continue // ebpf-samples/invalid
		}
		for pi, p := range obj.Programs {
			hook := ebpfemu.HookOf(p.Type)
			if hook != emulator.HookXDP && hook != emulator.HookTC {
				continue
			}
			res, err := verifier.Verify(p, obj.Maps, nil)
			if err != nil {
				continue // subprograms listed as programs, and the like
			}
			name := filepath.Base(file) + ":" + p.Name
			m, err := Program(p, VerifierFacts(res))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			ref, err := ebpfemu.FromObject(obj, pi, ebpfemu.Options{SnapshotMaps: true})
			if err != nil {
				skipped = append(skipped, name+" (the reference cannot load it)")
				continue
			}
			maps, _, err := ebpfemu.NewMaps(obj)
			if err != nil {
				t.Fatal(err)
			}
			w := irworld.New(emulator.NewEnv(hook, maps, 0))
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			irworld.SeedMaps(rng, obj, ref.Env().Maps, maps)
			returns := map[uint64]int{}
			for k, frame := range packets(rng, perProgram) {
				want, werr := ref.Run(pi, ebpfemu.Input{Packet: frame})
				got, gerr := w.Machine(m, frame).Run(p.Name, irworld.CtxAddr)
				if gerr != nil && werr == nil && w.Env.TailCall != nil {
					skipped = append(skipped, name+" (tail calls)")
					break
				}
				if (werr != nil) != (gerr != nil) {
					t.Errorf("%s: packet %d %x: reference error %v, IR error %v", name, k, frame, werr, gerr)
					break
				}
				if werr != nil {
					continue
				}
				runs++
				returns[got]++
				gotPkt := w.Env.Packet.Bytes()
				gotMaps := emulator.Snapshot(w.Env.Maps)
				if got != want.Return || !bytes.Equal(gotPkt, want.Packet) || !reflect.DeepEqual(gotMaps, want.Maps) {
					t.Errorf("%s: packet %d %x:\n IR   r0=%d packet %x maps %+v\n eBPF r0=%d packet %x maps %+v", name, k, frame,
						got, gotPkt, gotMaps, want.Return, []byte(want.Packet), want.Maps)
					break
				}
			}
			t.Logf("%s: returns %v", name, returns)
		}
	}
	t.Logf("%d packet runs agree; skipped: %v", runs, skipped)
	if runs == 0 {
		t.Fatal("nothing ran")
	}
}
