package passes_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/compiler/lift"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/fuzz"
	"github.com/nfpcc/nfpcc/testsuite/gen"
	"github.com/nfpcc/nfpcc/testsuite/irworld"
)

// outcome is what one run of a program on one frame shows.
type outcome struct {
	r0     uint64
	err    string
	packet []byte
	maps   *emulator.State
}

func (o outcome) String() string {
	return fmt.Sprintf("r0=%#x err=%q packet=%x maps=%+v", o.r0, o.err, o.packet, o.maps)
}

// runOnce runs m on frame in a fresh world whose maps are seeded from
// seed, with every fact checked as it is computed.
func runOnce(obj *loader.Object, hook emulator.Hook, m *ir.Module, frame []byte, seed uint64) (outcome, error) {
	maps, _, err := ebpfemu.NewMaps(obj)
	if err != nil {
		return outcome{}, err
	}
	irworld.SeedMaps(rand.New(rand.NewPCG(seed, 7)), obj, maps, nil)
	w := irworld.New(emulator.NewEnv(hook, maps, seed))
	mc := w.Machine(m, frame)
	mc.MaxSteps = 1 << 15 // bounded loops on random frames: long runs are dropped
	r, err := mc.Run(m.Funcs[0].Name, irworld.CtxAddr)
	o := outcome{r0: r, packet: append([]byte(nil), w.Env.Packet.Bytes()...), maps: emulator.Snapshot(w.Env.Maps)}
	if err != nil {
		o.err = err.Error()
	}
	return o, nil
}

// checkProgram lifts program pi of obj and runs the pipeline at -O2 one
// pass at a time; after each, every frame gives the same r0, packet and
// maps as before it, and the facts the passes kept still hold.
func checkProgram(t *testing.T, name string, obj *loader.Object, pi int, frames [][]byte) (runs int) {
	p := obj.Programs[pi]
	hook := ebpfemu.HookOf(p.Type)
	if hook != emulator.HookXDP && hook != emulator.HookTC {
		return 0
	}
	m, _, err := lift.Verified(p, obj.Maps, nil)
	if err != nil {
		return 0
	}
	cfg := passes.Config{Level: passes.O2, Check: true}
	// The lifted program's own outcomes; a frame whose run fails there
	// (a helper the world lacks, a tail call) is dropped.
	var want []outcome
	var keep [][]byte
	var seeds []uint64
	start := time.Now()
	for k, fr := range frames {
		if time.Since(start) > 300*time.Millisecond && len(keep) >= 3 {
			break // a slow program (a bounded loop over a map): fewer frames
		}
		o, err := runOnce(obj, hook, m, fr, uint64(k))
		if err != nil {
			t.Fatal(err)
		}
		if o.err != "" {
			continue
		}
		want = append(want, o)
		keep = append(keep, fr)
		seeds = append(seeds, uint64(k))
	}
	if len(keep) == 0 {
		return 0
	}
	for _, ps := range passes.Pipeline {
		if !cfg.Enabled(ps) {
			continue
		}
		before := ir.Print(m)
		if _, err := passes.RunPass(ps, m, cfg); err != nil {
			if strings.Contains(err.Error(), "BUG") {
				t.Fatalf("%s: %v\nbefore:\n%s", name, err, before)
			}
			t.Logf("%s: refused: %v", name, err)
			return runs
		}
		for k, fr := range keep {
			got, _ := runOnce(obj, hook, m, fr, seeds[k])
			runs++
			if !reflect.DeepEqual(got, want[k]) && !(got.r0 == want[k].r0 && got.err == want[k].err && bytes.Equal(got.packet, want[k].packet) && reflect.DeepEqual(got.maps, want[k].maps)) {
				t.Fatalf("%s: after %s, frame %x:\n got  %v\n want %v\nbefore the pass:\n%s\nafter:\n%s", name, ps.Name, fr, got, want[k], before, ir.Print(m))
			}
		}
	}
	return runs
}

// TestExecCorpus runs every XDP and tc program of testdata/progs and of
// the shared corpora (nfp-jit, Linux samples) through each pass and
// compares the executions before and after it.
func TestExecCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "*.o"))
	if d := testsuite.CorporaDir(); d != "" {
		more, _ := filepath.Glob(filepath.Join(d, "nfp-jit", "programs", "*.o"))
		files = append(files, more...)
		if !testing.Short() { // the Linux samples: 25 s
			more, _ = filepath.Glob(filepath.Join(d, "ebpf-samples", "*", "*.o"))
			files = append(files, more...)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	frames := gen.Packets(gen.Generate(1, gen.DefaultConfig()), 1, 24)
	total, progs := 0, 0
	for _, file := range files {
		obj, err := loader.Load(file)
		if err != nil {
			continue
		}
		for pi, p := range obj.Programs {
			if p.Type == ebpf.UnspecifiedProgram {
				q := *p
				q.Type = ebpf.XDP // the nfp-jit objects name no hook
				obj.Programs[pi] = &q
			}
			fr := append(append([][]byte{}, frames...), packetsFor(rng, 16)...)
			start := time.Now()
			n := checkProgram(t, filepath.Base(file)+":"+p.Name, obj, pi, fr)
			if d := time.Since(start); d > time.Second {
				t.Logf("%s:%s took %v", file, p.Name, d)
			}
			if n > 0 {
				progs++
				total += n
			}
		}
	}
	t.Logf("%d programs, %d runs after a pass agree with the lifted IR", progs, total)
	if progs == 0 {
		t.Fatal("nothing ran")
	}
}

// TestExecGenerated does the same for the fuzzer's generated programs.
func TestExecGenerated(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	total, progs := 0, 0
	for k := 0; k < n; k++ {
		c := fuzz.Generated(fuzz.ProgramSeed(11, k), gen.DefaultConfig(), 12)
		r := checkProgram(t, fmt.Sprintf("generated %d", k), c.Object(), 0, c.Packets)
		if r > 0 {
			progs++
			total += r
		}
	}
	t.Logf("%d of %d generated programs ran, %d runs after a pass agree with the lifted IR", progs, n, total)
	if progs == 0 {
		t.Fatal("nothing ran")
	}
}

// packetsFor makes short random Ethernet/IPv4 frames.
func packetsFor(rng *rand.Rand, n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		b := make([]byte, 14+rng.IntN(80))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		if rng.IntN(2) == 0 && len(b) > 34 {
			b[12], b[13], b[14] = 8, 0, 0x45
			b[23] = []byte{6, 17, 1}[rng.IntN(3)]
		}
		out = append(out, b)
	}
	return out
}
