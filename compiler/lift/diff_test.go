package lift

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/testsuite"
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
			w := &progWorld{env: emulator.NewEnv(hook, maps, 0)}
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			seedMaps(rng, obj, ref.Env().Maps, maps)
			returns := map[uint64]int{}
			for k, frame := range packets(rng, perProgram) {
				want, werr := ref.Run(pi, ebpfemu.Input{Packet: frame})
				got, gerr := w.machine(m, frame).Run(p.Name, wCtx)
				if gerr != nil && werr == nil && w.env.TailCall != nil {
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
				gotPkt := w.env.Packet.Bytes()
				gotMaps := emulator.Snapshot(w.env.Maps)
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
			if a[i].Update(key, val, emulator.UpdateAny) == nil {
				b[i].Update(key, val, emulator.UpdateAny)
			}
		}
	}
}
