package oracle

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	emu "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/testsuite"
)

var nativeEndian = binary.LittleEndian

func marshal(insns asm.Instructions) ([]byte, error) {
	var b bytes.Buffer
	if err := insns.Marshal(&b, nativeEndian); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const (
	numPackets = 220
	packetSeed = 20260101
)

// compared lists the map types whose contents are compared: data maps.
// Reference maps (devmap, cpumap, xskmap, perf event arrays, prog arrays)
// hold kernel objects, which programs cannot change.
var compared = map[ebpf.MapType]bool{
	ebpf.Array: true, ebpf.PerCPUArray: true, ebpf.Hash: true, ebpf.PerCPUHash: true,
	ebpf.LRUHash: true, ebpf.LRUCPUHash: true, ebpf.LPMTrie: true,
}

// object is one object file to run, with the key of its fixture.
type object struct{ path, key string }

func objects(t *testing.T) []object {
	var objs []object
	samples := testsuite.Corpus(t, "ebpf-samples")
	for _, dir := range []string{"linux", "prototype-kernel"} {
		paths, _ := filepath.Glob(filepath.Join(samples, dir, "*.o"))
		for _, p := range paths {
			objs = append(objs, object{p, dir + "/" + filepath.Base(p)})
		}
	}
	paths, _ := filepath.Glob(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "*.o"))
	for _, p := range paths {
		objs = append(objs, object{p, "progs/" + filepath.Base(p)})
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].key < objs[j].key })
	return objs
}

// TestKernelOracle: see the package comment.
func TestKernelOracle(t *testing.T) {
	if err := probeKernel(); err != nil {
		t.Skipf("kernel oracle unavailable: %v", err)
	}
	unpin, err := pinCPU0()
	if err != nil {
		t.Skipf("kernel oracle unavailable: cannot pin to CPU 0: %v", err)
	}
	defer unpin()
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	packets := genPackets(numPackets, packetSeed)

	var rejected []string
	programs, runs, mismatches := 0, 0, 0
	for _, o := range objects(t) {
		obj, err := loader.Load(o.path)
		if err != nil {
			t.Errorf("%s: %v", o.key, err)
			continue
		}
		for pi, p := range obj.Programs {
			name := o.key + ":" + p.Name
			if p.Type != ebpf.XDP || !strings.Contains(name, os.Getenv("ORACLE_ONLY")) {
				continue
			}
			start := time.Now()
			if err := checkFixture(obj, fixtures[o.key]); err != nil {
				t.Fatalf("%s: %v", o.key, err)
			}
			r := &runner{t: t, name: name, obj: obj, prog: pi, fx: fixtures[o.key], ncpu: ncpu, dumps: map[int][]entry{}}
			if err := r.kernelLoad(); err != nil {
				rejected = append(rejected, fmt.Sprintf("%s: %v", name, err))
				continue
			}
			defer r.close()
			programs++
			bad := 0
			for _, pkt := range packets {
				runs++
				if diffs := r.compare(pkt); len(diffs) > 0 {
					bad++
					mismatches++
					if bad <= 3 {
						t.Errorf("%s: packet %s:\n  %s", name, pkt.name, strings.Join(diffs, "\n  "))
					}
				}
			}
			t.Logf("%-60s %3d packets, %3d mismatches (%v)", name, len(packets), bad, time.Since(start).Round(time.Millisecond))
		}
	}
	t.Logf("kernel oracle: %d XDP programs × %d packets = %d runs, %d mismatches", programs, len(packets), runs, mismatches)
	t.Logf("%d programs rejected by the kernel:", len(rejected))
	for _, r := range rejected {
		t.Logf("  %s", r)
	}
	if programs == 0 {
		t.Error("no program ran")
	}
}

type runner struct {
	t    *testing.T
	name string
	obj  *loader.Object
	prog int
	fx   fixture
	ncpu int

	kmaps *kernelMaps
	kprog *ebpf.Program
	// dumps holds the last dump of each compared map, for reset.
	dumps map[int][]entry
}

// kernelLoad creates the kernel maps and loads the program, once: between
// packets the maps are put back to their initial state (reset), which is
// much cheaper than recreating them and reloading.
func (r *runner) kernelLoad() error {
	k, err := newKernelMaps(r.obj, r.fx, r.ncpu)
	if err != nil {
		return err
	}
	p, err := loadProgram(r.obj.Programs[r.prog], k)
	if err != nil {
		k.Close()
		return err
	}
	r.kmaps, r.kprog = k, p
	return nil
}

func (r *runner) close() {
	if r.kprog != nil {
		r.kprog.Close()
		r.kmaps.Close()
	}
}

// compare runs one packet in both executors from the initial map state
// and lists the differences.
func (r *runner) compare(pkt packet) []string {
	var diffs []string
	out := make([]byte, len(pkt.data)+4096)
	opts := &ebpf.RunOptions{Data: pkt.data, DataOut: out}
	kret, err := r.kprog.Run(opts)
	if err != nil {
		return []string{"kernel run: " + err.Error()}
	}
	kstate, kdiffs := r.kernelState(r.kmaps)
	diffs = append(diffs, kdiffs...)
	if err := r.reset(); err != nil {
		r.t.Fatalf("%s: resetting kernel maps: %v", r.name, err)
	}

	m, err := r.machine()
	if err != nil {
		return []string{"interpreter: " + err.Error()}
	}
	res, err := m.Run(0, emu.Input{Packet: pkt.data, IngressIfindex: 1})
	if err != nil {
		return append(diffs, "interpreter run: "+err.Error())
	}
	if uint32(res.Return) != kret {
		diffs = append(diffs, fmt.Sprintf("return: kernel %d, interpreter %d", kret, res.Return))
	}
	// The kernel hands back data_meta..data_end: the metadata the program
	// put in front of the frame (bpf_xdp_adjust_meta), then the frame.
	iout := append(append([]byte{}, res.Meta...), res.Packet...)
	if !bytes.Equal(opts.DataOut, iout) {
		at := firstDiff(opts.DataOut, iout)
		diffs = append(diffs, fmt.Sprintf("packet out: kernel %d bytes, interpreter %d bytes; first difference at %d: kernel %x, interpreter %x",
			len(opts.DataOut), len(iout), at, window(opts.DataOut, at), window(iout, at)))
	}
	estate := m.Snapshot()
	for i, lm := range r.obj.Maps {
		if !compared[lm.Type] {
			continue
		}
		_ = i
		ke, ee := kstate[lm.Name], estate.Maps[lm.Name]
		if !sameEntries(ke, ee) {
			diffs = append(diffs, fmt.Sprintf("map %s: kernel %v, interpreter %v", lm.Name, short(ke), short(ee)))
		}
	}
	return diffs
}

// checkFixture makes sure each fixture entry fits its map exactly.
func checkFixture(obj *loader.Object, fx fixture) error {
	for _, e := range fx {
		i := mapIndex(obj, e.Map)
		if i < 0 {
			return fmt.Errorf("fixture names map %s, which the object lacks", e.Map)
		}
		if lm := obj.Maps[i]; len(e.Key) != int(lm.KeySize) || len(e.Value) != int(lm.ValueSize) {
			return fmt.Errorf("fixture for %s: key %d / value %d bytes, the map has %d / %d", e.Map, len(e.Key), len(e.Value), lm.KeySize, lm.ValueSize)
		}
	}
	return nil
}

// machine prepares the interpreter for the program alone, over fresh maps
// holding the global data and the fixture.
func (r *runner) machine() (*emu.Machine, error) {
	maps, ro, err := emu.NewMaps(r.obj)
	if err != nil {
		return nil, err
	}
	for _, e := range r.fx {
		i := mapIndex(r.obj, e.Map)
		if err := maps[i].Update(e.Key, e.Value, emulator.UpdateAny); err != nil {
			return nil, fmt.Errorf("fixture %s: %w", e.Map, err)
		}
	}
	p := r.obj.Programs[r.prog]
	return emu.New([]emu.Prog{{Name: p.Name, Hook: emu.HookOf(p.Type), Insns: p.Insns}}, maps, ro, emu.Options{})
}

// kernelState reads the compared maps in the interpreter's state format
// (arrays: entries that are not all zero); per-CPU values are CPU 0's,
// and other CPUs must still hold what they held before the run.
func (r *runner) kernelState(k *kernelMaps) (map[string][]emulator.StateEntry, []string) {
	state := map[string][]emulator.StateEntry{}
	var diffs []string
	for i, lm := range r.obj.Maps {
		if !compared[lm.Type] {
			continue
		}
		es, err := k.dump(i)
		if err != nil {
			diffs = append(diffs, err.Error())
			continue
		}
		r.dumps[i] = es
		list := []emulator.StateEntry{}
		for _, e := range es {
			v := e.value[0]
			isArray := lm.Type == ebpf.Array || lm.Type == ebpf.PerCPUArray
			if isArray && allZero(v) {
				continue
			}
			list = append(list, emulator.StateEntry{Key: hex.EncodeToString(e.key), Value: hex.EncodeToString(v)})
			for c := 1; c < len(e.value); c++ {
				if want := r.initial(lm, e.key); !bytes.Equal(e.value[c], want) {
					diffs = append(diffs, fmt.Sprintf("map %s key %x: CPU %d changed to %x", lm.Name, e.key, c, e.value[c]))
				}
			}
		}
		sort.Slice(list, func(a, b int) bool { return list[a].Key < list[b].Key })
		state[lm.Name] = list
	}
	return state, diffs
}

// reset puts every compared map back to its initial state: global data
// contents, fixture entries, zeros elsewhere in arrays, nothing else in
// hashes. It works from the dump taken after the run, so it only writes
// what changed.
func (r *runner) reset() error {
	for i, es := range r.dumps {
		lm := r.obj.Maps[i]
		isArray := lm.Type == ebpf.Array || lm.Type == ebpf.PerCPUArray
		for _, e := range es {
			want, ok := r.initialEntry(lm, i, e.key)
			if !ok && !isArray {
				if err := bpfMapOp(bpfMapDeleteElem, r.kmaps.maps[i].FD(), e.key, nil, 0); err != nil {
					return fmt.Errorf("map %s: delete %x: %w", lm.Name, e.key, err)
				}
				continue
			}
			same := true
			for _, v := range e.value {
				same = same && bytes.Equal(v, want)
			}
			if !same {
				if err := r.kmaps.update(i, e.key, want); err != nil {
					return fmt.Errorf("map %s: restore %x: %w", lm.Name, e.key, err)
				}
			}
		}
		// Fixture entries the program deleted (hashes) or zeroed (arrays:
		// the dump leaves zero entries out) come back.
		for _, f := range r.fx {
			if f.Map != lm.Name {
				continue
			}
			found := false
			for _, e := range es {
				found = found || bytes.Equal(e.key, f.Key)
			}
			if !found {
				if err := r.kmaps.update(i, f.Key, f.Value); err != nil {
					return fmt.Errorf("map %s: restore %x: %w", lm.Name, f.Key, err)
				}
			}
		}
		if lm.Contents != nil && len(es) == 0 {
			if err := r.kmaps.update(i, make([]byte, 4), pad(append([]byte(nil), lm.Contents...), int(lm.ValueSize))); err != nil {
				return fmt.Errorf("map %s: restore contents: %w", lm.Name, err)
			}
		}
	}
	clear(r.dumps)
	return nil
}

// initialEntry is the value key held in map i before any run, and whether
// it existed (array entries always exist).
func (r *runner) initialEntry(lm *loader.Map, i int, key []byte) ([]byte, bool) {
	for _, e := range r.fx {
		if e.Map == lm.Name && bytes.Equal(e.Key, key) {
			return pad(append([]byte(nil), e.Value...), int(lm.ValueSize)), true
		}
	}
	if lm.Contents != nil && allZero(key) {
		return pad(append([]byte(nil), lm.Contents...), int(lm.ValueSize)), true
	}
	return make([]byte, lm.ValueSize), false
}

// initial is the value a per-CPU entry had on every CPU before the run.
func (r *runner) initial(lm *loader.Map, key []byte) []byte {
	for _, e := range r.fx {
		if e.Map == lm.Name && bytes.Equal(e.Key, key) {
			return pad(append([]byte(nil), e.Value...), int(lm.ValueSize))
		}
	}
	return make([]byte, lm.ValueSize)
}


func sameEntries(a, b []emulator.StateEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func short(es []emulator.StateEntry) string {
	var parts []string
	for i, e := range es {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("… (%d entries)", len(es)))
			break
		}
		parts = append(parts, e.Key+"→"+e.Value)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func window(b []byte, at int) []byte {
	return b[min(at, len(b)):min(at+8, len(b))]
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

