package passes_test

// The world below (progWorld, seedMaps) is compiler/lift's differential
// test's, adapted: a test file cannot be imported. It runs a lifted XDP or
// tc program in ir.Machine with the emulator's maps, packet and helpers.

import (
	"bytes"
	"encoding/binary"
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
)

// progWorld is the environment ir.Machine runs a lifted XDP or tc program
// in: the emulator's maps, packet and helpers, laid out at addresses of its
// own, and a context filled as the reference interpreter fills it.
type progWorld struct {
	env     *emulator.Env
	regions []worldRegion
	values  map[*byte]uint64 // map value slices handed to the program
	valueOf map[uint64]int   // their addresses → map index
	next    uint64
}

type worldRegion struct {
	base uint64
	b    []byte
}

const (
	wCtx    = 0x1_0000_0000
	wPkt    = 0x2_0000_0000
	wStack  = 0x3_0000_0000 // top of the first frame
	wMaps   = 0x4_0000_0000 // map pointers: wMaps + 16*index
	wValues = 0x5_0000_0000
)

func (w *progWorld) Bytes(addr, n uint64, write bool) ([]byte, error) {
	for _, r := range w.regions {
		if addr >= r.base && addr+n <= r.base+uint64(len(r.b)) && addr+n >= addr {
			return r.b[addr-r.base : addr-r.base+n], nil
		}
	}
	return nil, fmt.Errorf("%d bytes at %#x: outside memory", n, addr)
}

func (w *progWorld) ValueAddr(mapIndex int, value []byte) uint64 {
	if len(value) == 0 {
		return 0
	}
	if a, ok := w.values[&value[0]]; ok {
		return a
	}
	a := w.next
	w.next += uint64(len(value)+15) &^ 15
	w.values[&value[0]] = a
	w.valueOf[a] = mapIndex
	w.regions = append(w.regions, worldRegion{a, value})
	return a
}

func (w *progWorld) MapIndex(ptr uint64) (int, error) {
	if ptr < wMaps || (ptr-wMaps)%16 != 0 || int((ptr-wMaps)/16) >= len(w.env.Maps) {
		return 0, fmt.Errorf("%#x is not a map pointer", ptr)
	}
	return int((ptr - wMaps) / 16), nil
}

func (w *progWorld) Load(addr uint64, size int) (uint64, error) {
	b, err := w.Bytes(addr, uint64(size), false)
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

func (w *progWorld) Store(addr uint64, size int, v uint64) error {
	b, err := w.Bytes(addr, uint64(size), true)
	if err != nil {
		return err
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	copy(b, buf[:size])
	return nil
}

// machine prepares ir.Machine for one packet.
func (w *progWorld) machine(m *ir.Module, frame []byte) *ir.Machine {
	pk := emulator.NewPacket(frame)
	w.env.Packet = pk
	w.env.Events, w.env.Redirect, w.env.Printk, w.env.TailCall = nil, nil, nil, nil
	w.values = map[*byte]uint64{}
	w.valueOf = map[uint64]int{}
	w.next = wValues
	w.regions = []worldRegion{
		{wCtx, w.context(frame)},
		{wPkt, pk.Buf},
		{wStack - 8*ir.FrameSize, make([]byte, 8*ir.FrameSize)},
	}
	helpers := emulator.KernelHelpers()
	return &ir.Machine{
		Module: m, Mem: w, StackTop: wStack, CheckFacts: true, PtrFacts: w.ptrFacts,
		Helper: func(id int64, args []uint64) (uint64, error) {
			h := helpers[int32(id)]
			if h == nil {
				return 0, fmt.Errorf("helper %d: %w", id, ir.ErrUnsupported)
			}
			var a [5]uint64
			copy(a[:], args)
			return h.Fn(w.env, w, &a)
		},
		MapRef: func(idx int64) (uint64, error) { return wMaps + 16*uint64(idx), nil },
		PktLoad: func(_, off uint64, size int) (uint64, error) {
			v, ok := w.env.Packet.LegacyLoad(int32(off), size)
			if !ok {
				return 0, ir.ErrPacketEnd
			}
			return v, nil
		},
		MapValue: func(idx, off int64) (uint64, error) {
			v := w.env.Maps[idx].Lookup(make([]byte, 4))
			if v == nil {
				return 0, fmt.Errorf("map %d has no value", idx)
			}
			return w.ValueAddr(int(idx), v) + uint64(off), nil
		},
		CtxPtr: func(field uint64) (uint64, error) {
			pk := w.env.Packet
			data, end, meta := uint64(0), uint64(4), uint64(8) // struct xdp_md
			if w.env.Hook == emulator.HookTC {
				data, end, meta = 76, 80, 140 // struct __sk_buff
			}
			switch field - wCtx {
			case data:
				return wPkt + uint64(pk.Data), nil
			case end:
				return wPkt + uint64(pk.End), nil
			case meta:
				if w.env.Hook == emulator.HookTC {
					return wPkt + uint64(pk.Data), nil // no metadata before tc
				}
				return wPkt + uint64(pk.Meta), nil
			}
			return 0, fmt.Errorf("ctx field %d is not a pointer", field-wCtx)
		},
	}
}

// ptrFacts checks pointer facts against where x really points.
func (w *progWorld) ptrFacts(fa *ir.Facts, x, fp uint64) error {
	pk := w.env.Packet
	p := fa.Ptr
	if p == nil {
		return fmt.Errorf("!map or !le without !ptr")
	}
	var base uint64
	mapIdx := -1
	switch p.Kind {
	case ir.PtrPkt:
		base = wPkt + uint64(pk.Data)
	case ir.PtrPktMeta:
		base = wPkt + uint64(pk.Meta)
	case ir.PtrPktEnd:
		base = wPkt + uint64(pk.End)
	case ir.PtrCtx:
		base = wCtx
	case ir.PtrStack:
		base = fp
	case ir.PtrMap:
		base, mapIdx = x, int((x-wMaps)/16)
		if x < wMaps || (x-wMaps)%16 != 0 {
			return fmt.Errorf("not a map pointer")
		}
	case ir.PtrMapVal, ir.PtrMapValOrNull:
		if x == 0 && p.Kind == ir.PtrMapValOrNull {
			return nil
		}
		found := false
		for a, idx := range w.valueOf {
			for _, r := range w.regions {
				if r.base == a && x >= a && x < a+uint64(len(r.b)) {
					base, mapIdx, found = a, idx, true
				}
			}
		}
		if !found {
			return fmt.Errorf("not a map value pointer")
		}
	default:
		return nil
	}
	off := int64(x - base)
	if off < p.MinOff || off > p.MaxOff {
		return fmt.Errorf("offset %d outside !ptr(%s,%+d,%+d)", off, p.Kind, p.MinOff, p.MaxOff)
	}
	if fa.Map != nil && mapIdx >= 0 && int64(mapIdx) != *fa.Map {
		return fmt.Errorf("points into map %d, not !map(%d)", mapIdx, *fa.Map)
	}
	for _, l := range fa.Le {
		if x+uint64(l.Off) > wPkt+uint64(pk.End) {
			return fmt.Errorf("!le(%+d,pkt_end) but the packet ends %d bytes after", l.Off, wPkt+uint64(pk.End)-x)
		}
	}
	return nil
}

// context is the context of one run: struct xdp_md (zero apart from the
// pointers, which CtxPtr gives), or struct __sk_buff with len, wire_len,
// protocol and gso_segs as the reference interpreter sets them.
func (w *progWorld) context(frame []byte) []byte {
	if w.env.Hook != emulator.HookTC {
		return make([]byte, 24)
	}
	ctx := make([]byte, 192)
	binary.LittleEndian.PutUint32(ctx[0:], uint32(len(frame)))   // len
	binary.LittleEndian.PutUint32(ctx[160:], uint32(len(frame))) // wire_len
	if len(frame) >= 14 {
		binary.LittleEndian.PutUint32(ctx[16:], uint32(frame[12])|uint32(frame[13])<<8) // protocol
	}
	binary.LittleEndian.PutUint32(ctx[164:], 1) // gso_segs
	return ctx
}

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
	seedMaps(rand.New(rand.NewPCG(seed, 7)), obj, maps, nil)
	w := &progWorld{env: emulator.NewEnv(hook, maps, seed)}
	mc := w.machine(m, frame)
	mc.MaxSteps = 1 << 15 // bounded loops on random frames: long runs are dropped
	r, err := mc.Run(m.Funcs[0].Name, wCtx)
	o := outcome{r0: r, packet: append([]byte(nil), w.env.Packet.Bytes()...), maps: emulator.Snapshot(w.env.Maps)}
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

// seedMaps puts the same entries into both map sets: for every map with
// keys of at most 4 bytes (global data excepted), every key whose bytes are
// 0–3, with random values, so lookups of the generated packets' addresses
// and ports hit.
func seedMaps(rng *rand.Rand, obj *loader.Object, a, b []emulator.Map) {
	for i, lm := range obj.Maps {
		if lm.Contents != nil || lm.KeySize == 0 || lm.KeySize > 4 {
			continue
		}
		n := 1 << (2 * lm.KeySize)
		for k := 0; k < n; k++ {
			key := make([]byte, lm.KeySize)
			for j := range key {
				key[j] = byte(k >> (2 * j) & 3)
			}
			val := make([]byte, lm.ValueSize)
			for j := range val {
				val[j] = byte(rng.IntN(256))
			}
			if a[i].Update(key, val, emulator.UpdateAny) == nil && b != nil {
				b[i].Update(key, val, emulator.UpdateAny)
			}
		}
	}
}
