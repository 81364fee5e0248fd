// Package irworld is the world ir.Machine runs a lifted XDP or tc program
// in for tests that execute IR: the emulator's maps, packet and helpers laid
// out at addresses of its own, and a context filled as the reference
// interpreter fills it. compiler/lift's differential test (lifted IR against
// the interpreter) and passes' execution check (IR before and after each
// pass) share it.
package irworld

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/ir"
)

// New is a world over env (its hook, maps and helpers' state).
func New(env *emulator.Env) *World { return &World{Env: env} }

// World is one program's environment; it is the emulator.Memory its
// helpers see and the ir.Memory its loads and stores reach.
type World struct {
	Env     *emulator.Env
	regions []region
	values  map[*byte]uint64 // map value slices handed to the program
	valueOf map[uint64]int   // their addresses → map index
	next    uint64
}

type region struct {
	base uint64
	b    []byte
}

// CtxAddr is the context's address: the argument of a program's entry.
const CtxAddr = 0x1_0000_0000

const (
	wPkt    = 0x2_0000_0000
	wStack  = 0x3_0000_0000 // top of the first frame
	wMaps   = 0x4_0000_0000 // map pointers: wMaps + 16*index
	wValues = 0x5_0000_0000
)

func (w *World) Bytes(addr, n uint64, write bool) ([]byte, error) {
	for _, r := range w.regions {
		if addr >= r.base && addr+n <= r.base+uint64(len(r.b)) && addr+n >= addr {
			return r.b[addr-r.base : addr-r.base+n], nil
		}
	}
	return nil, fmt.Errorf("%d bytes at %#x: outside memory", n, addr)
}

func (w *World) ValueAddr(mapIndex int, value []byte) uint64 {
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
	w.regions = append(w.regions, region{a, value})
	return a
}

func (w *World) MapIndex(ptr uint64) (int, error) {
	if ptr < wMaps || (ptr-wMaps)%16 != 0 || int((ptr-wMaps)/16) >= len(w.Env.Maps) {
		return 0, fmt.Errorf("%#x is not a map pointer", ptr)
	}
	return int((ptr - wMaps) / 16), nil
}

func (w *World) Load(addr uint64, size int) (uint64, error) {
	b, err := w.Bytes(addr, uint64(size), false)
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

func (w *World) Store(addr uint64, size int, v uint64) error {
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
// Machine prepares a run of m on frame: a fresh packet, context and stack.
func (w *World) Machine(m *ir.Module, frame []byte) *ir.Machine {
	pk := emulator.NewPacket(frame)
	w.Env.Packet = pk
	w.Env.Events, w.Env.Redirect, w.Env.Printk, w.Env.TailCall = nil, nil, nil, nil
	w.values = map[*byte]uint64{}
	w.valueOf = map[uint64]int{}
	w.next = wValues
	w.regions = []region{
		{CtxAddr, w.context(frame)},
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
			return h.Fn(w.Env, w, &a)
		},
		MapRef: func(idx int64) (uint64, error) { return wMaps + 16*uint64(idx), nil },
		PktLoad: func(_, off uint64, size int) (uint64, error) {
			v, ok := w.Env.Packet.LegacyLoad(int32(off), size)
			if !ok {
				return 0, ir.ErrPacketEnd
			}
			return v, nil
		},
		MapValue: func(idx, off int64) (uint64, error) {
			v := w.Env.Maps[idx].Lookup(make([]byte, 4))
			if v == nil {
				return 0, fmt.Errorf("map %d has no value", idx)
			}
			return w.ValueAddr(int(idx), v) + uint64(off), nil
		},
		CtxPtr: func(field uint64) (uint64, error) {
			pk := w.Env.Packet
			data, end, meta := uint64(0), uint64(4), uint64(8) // struct xdp_md
			if w.Env.Hook == emulator.HookTC {
				data, end, meta = 76, 80, 140 // struct __sk_buff
			}
			switch field - CtxAddr {
			case data:
				return wPkt + uint64(pk.Data), nil
			case end:
				return wPkt + uint64(pk.End), nil
			case meta:
				if w.Env.Hook == emulator.HookTC {
					return wPkt + uint64(pk.Data), nil // no metadata before tc
				}
				return wPkt + uint64(pk.Meta), nil
			}
			return 0, fmt.Errorf("ctx field %d is not a pointer", field-CtxAddr)
		},
	}
}

// ptrFacts checks pointer facts against where x really points.
func (w *World) ptrFacts(fa *ir.Facts, x, fp uint64) error {
	pk := w.Env.Packet
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
		base = CtxAddr
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
func (w *World) context(frame []byte) []byte {
	if w.Env.Hook != emulator.HookTC {
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

// SeedMaps puts the same entries into both map sets (b may be nil): for every map with
// keys of at most 4 bytes (global data excepted), every key whose bytes are
// 0–3, with random values, so lookups of the generated packets' addresses
// and ports hit.
func SeedMaps(rng *rand.Rand, obj *loader.Object, a, b []emulator.Map) {
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
