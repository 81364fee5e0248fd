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
	"golang.org/x/sys/unix"

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
	ethHeaderLen = 14
	numPackets   = 220
	packetSeed   = 20260101
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
	// The corpora are optional here: without them, the project's own
	// programs still run.
	if root := testsuite.CorporaDir(); root != "" {
		for _, dir := range []string{"linux", "prototype-kernel"} {
			paths, _ := filepath.Glob(filepath.Join(root, "ebpf-samples", dir, "*.o"))
			for _, p := range paths {
				objs = append(objs, object{p, dir + "/" + filepath.Base(p)})
			}
		}
	} else {
		t.Log("corpora not found (NFPCC_CORPORA or ../shared/corpora): only testdata/progs runs")
	}
	progs := filepath.Join(testsuite.ProjectRoot(), "testdata", "progs")
	paths, _ := filepath.Glob(filepath.Join(progs, "*.o"))
	gcc, _ := filepath.Glob(filepath.Join(progs, "gcc", "*.o"))
	for _, p := range append(paths, gcc...) {
		rel, _ := filepath.Rel(progs, p)
		objs = append(objs, object{p, "progs/" + rel})
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

	// Known differences between this kernel and the interpreter, measured
	// here, each with helpers that behave like this kernel: a mismatch
	// counts as explained only if those helpers make it disappear.
	explain := map[asm.BuiltinFunc]string{}
	kcsum, icsum, err := csumDiffProbe()
	if err != nil {
		t.Fatal(err)
	}
	var alt emulator.HelperSet
	if kcsum != icsum {
		if kcsum != fold16(icsum) {
			t.Fatalf("bpf_csum_diff probe: kernel %#x, interpreter %#x, neither equal nor a 16-bit fold", kcsum, icsum)
		}
		explain[asm.FnCsumDiff] = fmt.Sprintf("bpf_csum_diff: this kernel returns %#x where the interpreter returns %#x "+
			"(the kernel folds the sum to 16 bits; emulator.CsumDiff models the older unfolded x86-64 value)", kcsum, icsum)
		t.Logf("note: %s", explain[asm.FnCsumDiff])
		alt = foldingCsumDiff()
	}

	var rejected, limited, skipped, unsupported, explainedList []string
	programs, runs, mismatches, explained, refused := 0, 0, 0, 0, 0
	for _, o := range objects(t) {
		obj, err := loader.Load(o.path)
		if err != nil {
			t.Errorf("%s: %v", o.key, err)
			continue
		}
		for pi, p := range obj.Programs {
			name := o.key + ":" + p.Name
			if (p.Type != ebpf.XDP && p.Type != ebpf.SchedCLS) || !strings.Contains(name, os.Getenv("ORACLE_ONLY")) {
				continue
			}
			start := time.Now()
			if err := checkFixture(obj, fixtures[o.key]); err != nil {
				t.Fatalf("%s: %v", o.key, err)
			}
			r := &runner{t: t, name: name, obj: obj, prog: pi, fx: fixtures[o.key], ncpu: ncpu, dumps: map[int][]entry{}, actions: map[string]int{}}
			if err := r.kernelLoad(); err != nil {
				if kernelLimit.MatchString(err.Error()) {
					limited = append(limited, fmt.Sprintf("%s: %v", name, err))
				} else {
					rejected = append(rejected, fmt.Sprintf("%s: %v", name, err))
				}
				continue
			}
			defer r.close()
			// bpf_fib_lookup alone is no reason to skip: in an empty
			// network namespace it finds no route, whatever the host's
			// tables say (see privateNetns).
			fns := calls(p)
			isolate := false
			if why := notCompared(p); why != "" {
				if !fns[asm.FnFibLookup] || fns[asm.FnCheckMtu] {
					skipped = append(skipped, fmt.Sprintf("%s: %s", name, why))
					continue
				}
				isolate = true
			}
			// A gap of the interpreter (a map type it lacks) is listed, not
			// counted as a mismatch on every packet.
			if _, err := r.machine(nil); err != nil {
				unsupported = append(unsupported, fmt.Sprintf("%s: %v", name, err))
				continue
			}
			why := ""
			for fn := range calls(p) {
				if e, ok := explain[fn]; ok {
					why = e
					r.alt = alt
				}
			}
			back := func() error { return nil }
			if isolate {
				if back, err = privateNetns(); err != nil {
					skipped = append(skipped, fmt.Sprintf("%s: bpf_fib_lookup needs an empty network namespace: %v", name, err))
					continue
				}
			}
			programs++
			bad := 0
			for i, pkt := range packets {
				if p.Type == ebpf.SchedCLS && len(pkt.data) <= ethHeaderLen {
					// The kernel builds an skb only from more than an
					// Ethernet header (EINVAL otherwise).
					refused++
					continue
				}
				runs++
				diffs, ok := r.compare(i, pkt, i == len(packets)-1)
				if len(diffs) == 0 {
					continue
				}
				bad++
				switch {
				case ok:
					explained++
					if bad <= 3 {
						t.Logf("%s: packet %s (explained: %s):\n  %s", name, pkt.name, why, strings.Join(diffs, "\n  "))
					}
				default:
					mismatches++
					if bad <= 3 {
						t.Errorf("%s: packet %s:\n  %s", name, pkt.name, strings.Join(diffs, "\n  "))
					}
				}
			}
			if err := back(); err != nil {
				t.Fatalf("%s: cannot return to the test's network namespace: %v", name, err)
			}
			if bad > 0 && why != "" {
				explainedList = append(explainedList, fmt.Sprintf("%s: %d packets: %s", name, bad, why))
			}
			t.Logf("%-60s %3d packets, %3d mismatches (%v): %s", name, len(packets), bad, time.Since(start).Round(time.Millisecond), r.summary())
		}
	}
	t.Logf("kernel oracle: %d XDP and tc programs × %d packets = %d runs (%d tc runs of frames ≤ 14 bytes left out): %d unexplained mismatches, %d explained",
		programs, len(packets), runs, refused, mismatches, explained)
	for _, group := range []struct {
		title string
		list  []string
	}{
		{"programs rejected by the kernel", rejected},
		{"kernel-limit verdicts (the kernel gave up on its own resource limits: no run to compare)", limited},
		{"programs not compared (their result depends on the host)", skipped},
		{"programs the interpreter cannot prepare (to fix in emulator/ebpf)", unsupported},
		{"explained mismatches", explainedList},
	} {
		t.Logf("%d %s:", len(group.list), group.title)
		for _, r := range group.list {
			t.Logf("  %s", r)
		}
	}
	if programs == 0 {
		t.Error("no program ran")
	}
}

// privateNetns moves the calling thread (locked to it by pinCPU0) into a
// new network namespace, where only lo exists, down, and there are no
// routes: bpf_fib_lookup there fails the same way on every host, as the
// interpreter's does (it models an empty FIB). Test runs look devices and
// routes up in the namespace of the thread that runs them. The function
// returned moves the thread back.
func privateNetns() (func() error, error) {
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		unix.Close(orig)
		return nil, err
	}
	return func() error {
		defer unix.Close(orig)
		return unix.Setns(orig, unix.CLONE_NEWNET)
	}, nil
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
	// alt are helpers with this kernel's semantics where they differ from
	// the interpreter's (see explain); nil when none applies.
	alt emulator.HelperSet

	actions   map[string]int // kernel verdicts, for the log
	mapWrites int            // runs after which some compared map is not empty
	// dumps holds the last dump of each compared map, for reset.
	dumps map[int][]entry
}

func (r *runner) summary() string {
	names := make([]string, 0, len(r.actions))
	for a := range r.actions {
		names = append(names, a)
	}
	sort.Strings(names)
	var parts []string
	for _, a := range names {
		parts = append(parts, fmt.Sprintf("%s %d", a, r.actions[a]))
	}
	return fmt.Sprintf("%s; maps non-empty after %d", strings.Join(parts, ", "), r.mapWrites)
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

// bigMap is the size above which a map is not read whole after every
// packet: the kernel's batch lookup of a 64k-entry per-CPU array costs tens
// of milliseconds. Such maps are read at the keys the interpreter's state
// and the fixture name after every packet, and whole every fullEvery
// packets and after the last: a kernel write elsewhere survives the reset
// (which only restores what was read) and shows at the next full read.
const (
	bigMap    = 4096
	fullEvery = 16
)

// compare runs packet number i in both executors from the initial map
// state and lists the differences. When the runner has alternative
// helpers (an explained difference of this kernel), a mismatch is retried
// with them: explained is true when they remove it.
func (r *runner) compare(i int, pkt packet, last bool) (diffs []string, explained bool) {
	res, estate, err := r.interp(pkt, nil)
	if err != nil {
		// Still run the kernel, so that its maps are reset.
		_, kdiffs, kerr := r.kernelRun(pkt, nil, true)
		if kerr != nil {
			kdiffs = append(kdiffs, kerr.Error())
		}
		return append(kdiffs, "interpreter: "+err.Error()), false
	}
	full := last || i%fullEvery == fullEvery-1
	kres, kdiffs, err := r.kernelRun(pkt, estate, full)
	if err != nil {
		return []string{err.Error()}, false
	}
	diffs = append(kdiffs, r.diff(kres, res, estate, full)...)
	if len(diffs) == 0 || r.alt == nil || len(kdiffs) > 0 {
		return diffs, false
	}
	res, estate, err = r.interp(pkt, r.alt)
	return diffs, err == nil && len(r.diff(kres, res, estate, full)) == 0
}

// kernelResult is what one kernel run produced.
type kernelResult struct {
	ret   uint32
	out   []byte
	state map[string][]emulator.StateEntry
}

// kernelRun runs pkt in the kernel, reads the compared maps (big ones at
// the keys of hint only, unless full) and resets them.
func (r *runner) kernelRun(pkt packet, hint *emulator.State, full bool) (*kernelResult, []string, error) {
	out := make([]byte, len(pkt.data)+4096)
	opts := &ebpf.RunOptions{Data: pkt.data, DataOut: out}
	kret, err := r.kprog.Run(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("kernel run: %w", err)
	}
	kstate, kdiffs := r.kernelState(r.kmaps, hint, full)
	if err := r.reset(); err != nil {
		r.t.Fatalf("%s: resetting kernel maps: %v", r.name, err)
	}
	r.actions[emulator.ActionName(emu.HookOf(r.obj.Programs[r.prog].Type), uint64(kret))]++
	for _, es := range kstate {
		if len(es) > 0 {
			r.mapWrites++
			break
		}
	}
	return &kernelResult{kret, opts.DataOut, kstate}, kdiffs, nil
}

// interp runs pkt in the interpreter (with helpers, nil for its own).
func (r *runner) interp(pkt packet, helpers emulator.HelperSet) (*emulator.Result, *emulator.State, error) {
	m, err := r.machine(helpers)
	if err != nil {
		return nil, nil, err
	}
	res, err := m.Run(0, emu.Input{Packet: pkt.data, IngressIfindex: 1})
	if err != nil {
		return nil, nil, err
	}
	return res, m.Snapshot(), nil
}

// diff compares a kernel run with an interpreter run.
func (r *runner) diff(k *kernelResult, res *emulator.Result, estate *emulator.State, full bool) []string {
	var diffs []string
	if uint32(res.Return) != k.ret {
		diffs = append(diffs, fmt.Sprintf("return: kernel %d, interpreter %d", k.ret, res.Return))
	}
	// The kernel hands back data_meta..data_end: the metadata the program
	// put in front of the frame (bpf_xdp_adjust_meta), then the frame.
	iout := append(append([]byte{}, res.Meta...), res.Packet...)
	if !bytes.Equal(k.out, iout) {
		at := firstDiff(k.out, iout)
		diffs = append(diffs, fmt.Sprintf("packet out: kernel %d bytes, interpreter %d bytes; first difference at %d: kernel %x, interpreter %x",
			len(k.out), len(iout), at, window(k.out, at), window(iout, at)))
	}
	for _, lm := range r.obj.Maps {
		if !compared[lm.Type] {
			continue
		}
		ke, ee := k.state[lm.Name], estate.Maps[lm.Name]
		if !sameEntries(ke, ee) {
			note := ""
			if full && lm.MaxEntries > bigMap {
				note = fmt.Sprintf(" (full read: the write may come from any of the last %d packets)", fullEvery)
			}
			diffs = append(diffs, fmt.Sprintf("map %s: kernel %v, interpreter %v%s", lm.Name, short(ke), short(ee), note))
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
func (r *runner) machine(helpers emulator.HelperSet) (*emu.Machine, error) {
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
	return emu.New([]emu.Prog{{Name: p.Name, Hook: emu.HookOf(p.Type), Insns: p.Insns}}, maps, ro, emu.Options{Helpers: helpers})
}

// kernelState reads the compared maps in the interpreter's state format
// (arrays: entries that are not all zero); per-CPU values are CPU 0's,
// and other CPUs must still hold what they held before the run.
func (r *runner) kernelState(k *kernelMaps, hint *emulator.State, full bool) (map[string][]emulator.StateEntry, []string) {
	state := map[string][]emulator.StateEntry{}
	var diffs []string
	for i, lm := range r.obj.Maps {
		if !compared[lm.Type] {
			continue
		}
		var keys [][]byte // nil: read the whole map
		if !full && lm.MaxEntries > bigMap && hint != nil {
			keys = [][]byte{}
			for _, e := range hint.Maps[lm.Name] {
				b, _ := hex.DecodeString(e.Key)
				keys = append(keys, b)
			}
			for _, f := range r.fx {
				if f.Map == lm.Name {
					keys = append(keys, f.Key)
				}
			}
		}
		es, err := k.dump(i, keys)
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
