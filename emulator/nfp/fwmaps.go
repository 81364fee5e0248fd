package nfp

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sort"

	"github.com/nfpcc/nfpcc/emulator"
)

// Maps live in emulated EMEM: map i at EMEMBase + i<<32, one value per
// slot. An ARRAY's slots are the value size rounded up to a power of two
// (at least 4): the patched JIT of the count-min corpus, which inlines the
// lookup, forms the address as B23 << 8 + (index << log2(stride)) — its
// dumps shift the masked index left by 2 for their 4-byte values
// (alu_shf[…, AND, *l$index0, <<2], nfp-isa.md §2.2), and a 48-byte value
// sits in a 64-byte slot. A single shift is the only way that JIT indexes,
// so a stride that is not a power of two cannot be what the firmware lays
// out. Hash slots are the value size rounded up to 4 (only the helper's
// returned pointer reaches them). The slots alias the
// values of the shared emulator.Map, so lookups, updates, deletes and
// capacity follow the one implementation of map semantics, and a program's
// loads and atomics through a looked-up pointer change the map itself.

// fwMap is one map's EMEM window.
type fwMap struct {
	index  int
	m      emulator.Map
	base   uint64
	stride uint64
	region *Region
	// hash maps: which slot each key occupies, so addresses stay stable
	// while an entry lives; slots holds the occupied ones (a map, not a
	// slice of max_entries: only entries cost memory). Free slots are the
	// ones given back (reused last first), then those from next on.
	slotOf  map[string]int
	slots   map[int][]byte
	byPtr   map[*byte]int
	free    []int
	next    int
	atomics map[uint64]bool // the firmware's, to forget a freed slot's marks
}

func newFWMap(i int, m emulator.Map, atomics map[uint64]bool) (*fwMap, error) {
	spec := m.Spec()
	if i >= 127 {
		return nil, fmt.Errorf("map %s: more than 127 maps", spec.Name)
	}
	fm := &fwMap{index: i, m: m, base: EMEMBase + uint64(i)<<32, stride: (uint64(spec.ValueSize) + 3) &^ 3, atomics: atomics}
	if spec.Type == emulator.MapArray || spec.Type == emulator.MapPerCPUArray {
		fm.stride = ArrayStride(spec.ValueSize)
	}
	if fm.stride == 0 {
		fm.stride = 4
	}
	if uint64(spec.MaxEntries)*fm.stride >= 1<<32 {
		return nil, fmt.Errorf("map %s: %d entries of %d bytes do not fit a 4 GiB EMEM window", spec.Name, spec.MaxEntries, fm.stride)
	}
	fm.region = &Region{Name: "map " + spec.Name, Base: fm.base, Stride: fm.stride}
	switch spec.Type {
	case emulator.MapArray, emulator.MapPerCPUArray:
		// Values are found on demand: arrays can be large.
		key := make([]byte, 4)
		fm.region.NSlots = uint64(spec.MaxEntries)
		fm.region.Slot = func(j uint64) []byte {
			binary.LittleEndian.PutUint32(key, uint32(j))
			return m.Lookup(key)
		}
	case emulator.MapHash, emulator.MapLRUHash, emulator.MapPerCPUHash, emulator.MapLRUPerCPUHash:
		fm.slotOf, fm.slots = map[string]int{}, map[int][]byte{}
		fm.region.NSlots = uint64(spec.MaxEntries)
		fm.region.Slot = func(j uint64) []byte { return fm.slots[int(j)] }
		fm.sync()
	case emulator.MapPerfEventArray:
		// Not memory: the helper records events.
	default:
		return nil, fmt.Errorf("map %s: %s maps are not offloaded to the NFP", spec.Name, spec.Type)
	}
	return fm, nil
}

// ArrayStride is the distance between two ARRAY values in EMEM: the value
// size rounded up to a power of two, at least 4 (see above).
func ArrayStride(valueSize uint32) uint64 {
	s := uint64(4)
	for s < uint64(valueSize) {
		s <<= 1
	}
	return s
}

// sync brings a hash map's slots up to date after the map changed: new
// keys get a free slot, deleted ones give theirs back.
func (fm *fwMap) sync() {
	if fm.slotOf == nil {
		return
	}
	live := map[string]bool{}
	for _, e := range fm.m.Entries() {
		k := string(e.Key)
		live[k] = true
		j, ok := fm.slotOf[k]
		if !ok {
			if n := len(fm.free); n > 0 {
				j = fm.free[n-1]
				fm.free = fm.free[:n-1]
			} else {
				j = fm.next
				fm.next++
			}
			fm.slotOf[k] = j
		}
		fm.slots[j] = e.Value
	}
	// A deleted entry's slot keeps its bytes until a new key takes it: the
	// memory is still there on the card (and in the kernel, until RCU hands
	// it out again), so a program reading through a pointer it looked up
	// before the delete reads the old value, as on the interpreter. Freed
	// slots join the free list in index order, so addresses do not depend
	// on Go's map iteration order.
	var freed []int
	for k, j := range fm.slotOf {
		if !live[k] {
			delete(fm.slotOf, k)
			for a := uint64(0); a < fm.stride; a += 4 {
				delete(fm.atomics, fm.base+uint64(j)*fm.stride+a)
			}
			freed = append(freed, j)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(freed)))
	fm.free = append(fm.free, freed...)
	fm.byPtr = map[*byte]int{}
	for j, s := range fm.slots {
		if len(s) > 0 {
			fm.byPtr[&s[0]] = j
		}
	}
}

// Helper-call address space: LM byte addresses carry this tag; CTM and
// EMEM addresses are used as they are.
const lmTag = 1 << 48

// fwMem is the emulator.Memory the shared helpers see during a firmware
// helper call. key is the last key the helper read: an ARRAY value's
// address follows from its index.
type fwMem struct {
	f   *Firmware
	key []byte
}

func (h *fwMem) Bytes(addr, n uint64, write bool) ([]byte, error) {
	m := h.f.M
	if addr&lmTag != 0 {
		a := addr &^ lmTag
		if a+n > LMWords*4 {
			return nil, fmt.Errorf("%d bytes at LM address %#x: outside local memory", n, a)
		}
		if write {
			return nil, fmt.Errorf("helper writes to LM are not modelled")
		}
		// LM words hold stack bytes little-endian, as the JIT's 32-bit
		// stack loads and stores see them.
		out := make([]byte, n)
		for i := uint64(0); i < n; i++ {
			w := m.lm[(a+i)/4]
			out[i] = byte(w >> (8 * ((a + i) % 4)))
		}
		if h.key == nil {
			h.key = out
		}
		return out, nil
	}
	return m.mem.slice(addr, int(n), false)
}

func (h *fwMem) ValueAddr(mapIndex int, value []byte) uint64 {
	fm := h.f.maps[mapIndex]
	if fm.slotOf == nil {
		if len(h.key) != 4 {
			return 0
		}
		return fm.base + uint64(binary.LittleEndian.Uint32(h.key))*fm.stride
	}
	fm.sync()
	if len(value) == 0 {
		return 0
	}
	j, ok := fm.byPtr[&value[0]]
	if !ok {
		return 0
	}
	return fm.base + uint64(j)*fm.stride
}

func (h *fwMem) MapIndex(ptr uint64) (int, error) {
	if ptr >= uint64(len(h.f.maps)) {
		return 0, fmt.Errorf("map id %d: the program has %d maps", ptr, len(h.f.maps))
	}
	return int(ptr), nil
}

// firmware helper ids (the kernel's RELO_BR_HELPER values).
const (
	fwMapLookup  = emulator.FnMapLookupElem
	fwMapUpdate  = emulator.FnMapUpdateElem
	fwMapDelete  = emulator.FnMapDeleteElem
	fwPerfOutput = emulator.FnPerfEventOutput
)

// perf_event_output pointer-type codes the JIT passes in A1.
const (
	ptrScalar   = 1
	ptrMapValue = 4
	ptrStack    = 6
	ptrPacket   = 8
)

var kernelHelpers = emulator.KernelHelpers()

// callHelper is the firmware's helper entry (nfp-isa.md §4.9): the map id
// in A0, the key at ActLMAddr0, the value at ActLMAddr2, flags in R4; the
// result goes to R0 in both banks. A looked-up value's 40-bit address is
// returned as lo = address bits 31:0, hi = bits 39:32 << 24, so that
// (hi << 8) + lo is the address (CoreNIC htab_map_lookup_subr_func).
func (f *Firmware) callHelper(c *context, id uint32) error {
	f.helperCalls++
	// The firmware's own code runs long after the caller's LM pointer
	// writes: they are in effect.
	for i := 0; i < 4; i++ {
		if c.lmPend&(1<<i) != 0 {
			c.lmp[i] = c.lmNew[i]
		}
	}
	c.lmPend = 0
	mem := &fwMem{f: f}
	var args [5]uint64
	var ret uint64
	switch id {
	case fwMapLookup, fwMapUpdate, fwMapDelete:
		args[0] = uint64(c.r[rA+0])
		args[1] = lmTag | uint64(c.lmp[0])
		args[2] = lmTag | uint64(c.lmp[2])
		args[3] = uint64(c.r[rA+8]) | uint64(c.r[rA+9])<<32
		h := kernelHelpers[int32(id)]
		r, err := h.Fn(f.Env, mem, &args)
		if err != nil {
			return err
		}
		ret = r
		if id != fwMapLookup {
			f.maps[args[0]].sync()
		} else if r != 0 {
			ret = r&0xffffffff | (r>>32&0xff)<<56
		}
	case fwPerfOutput:
		r, err := f.perfOutput(c)
		if err != nil {
			return err
		}
		ret = r
	default:
		return fmt.Errorf("the firmware has no helper %d", id)
	}
	lo, hi := uint32(ret), uint32(ret>>32)
	c.r[rA+0], c.r[rB+0], c.r[rA+1], c.r[rB+1] = lo, lo, hi, hi
	f.chargeHelper(id, args[0])
	return nil
}

// chargeHelper adds a helper's estimated cost (helpercost.go) to the
// extended figure.
func (f *Firmware) chargeHelper(id uint32, mapIndex uint64) {
	var key uint32
	if mapIndex < uint64(len(f.maps)) {
		key = f.maps[mapIndex].m.Spec().KeySize
	}
	cyc, dram, derived := HelperCost(id, key)
	if !f.M.model.on {
		return
	}
	f.M.model.helper += cyc
	f.M.model.xdram += dram
	if !derived {
		f.underived++
	}
}

// perfOutput is bpf_perf_event_output: R2 = map, R3 = flags, R4 = data
// (its pointer type in A1), R5 = size.
func (f *Firmware) perfOutput(c *context) (uint64, error) {
	var addr uint64
	data := uint64(c.r[rA+8]) | uint64(c.r[rA+9])<<32
	switch c.r[rA+1] {
	case ptrStack:
		addr = lmTag | uint64(uint32(data))
	case ptrPacket:
		addr = uint64(uint32(data))
	case ptrMapValue:
		addr = uint64(c.r[rA+9])<<8 + uint64(c.r[rA+8])
	default:
		return 0, fmt.Errorf("bpf_perf_event_output: data pointer type %d is not modelled", c.r[rA+1])
	}
	args := [5]uint64{0, uint64(c.r[rA+4]), uint64(c.r[rA+6]) | uint64(c.r[rA+7])<<32, addr, uint64(c.r[rA+10]) | uint64(c.r[rA+11])<<32}
	h := kernelHelpers[emulator.FnPerfEventOutput]
	f.Env.Packet = emulator.NewPacket(f.currentPacket())
	defer func() { f.Env.Packet = nil }()
	return h.Fn(f.Env, &fwMem{f: f}, &args)
}

func (f *Firmware) currentPacket() []byte {
	m := f.M
	slot := (f.npkt - 1) % 4
	pv := uint32(pvBase + slot*64)
	off := m.lm[pv/4+2] & 0x1fff
	n := m.lm[pv/4] & 0x3fff
	ctm := m.mem.CTM()
	if uint64(off)+uint64(n) > uint64(len(ctm)) {
		return nil
	}
	return ctm[off : off+n]
}

// atomic converts map words an atomic touches for the first time from the
// host's little-endian form to the big-endian form the atomic engine uses;
// MapState converts them back, as the driver does for words the verifier
// marked as atomic counters (nfp_map_bpf_byte_swap).
func (f *Firmware) atomic(addr uint64, size int, buf []byte) {
	for i := 0; i+4 <= size; i += 4 {
		a := addr + uint64(i)
		if !f.atomics[a] {
			f.atomics[a] = true
			w := binary.LittleEndian.Uint32(buf[i:])
			binary.LittleEndian.PutUint32(buf[i:], bits.ReverseBytes32(w))
		}
	}
}

// MapState is the maps' contents as the host sees them.
func (f *Firmware) MapState() *emulator.State {
	f.swapAtomics()
	defer f.swapAtomics()
	return copyState(emulator.Snapshot(f.Env.Maps))
}

func copyState(s *emulator.State) *emulator.State {
	out := &emulator.State{Maps: map[string][]emulator.StateEntry{}}
	for k, v := range s.Maps {
		out.Maps[k] = append([]emulator.StateEntry{}, v...)
	}
	return out
}

func (f *Firmware) swapAtomics() {
	for a := range f.atomics {
		b, err := f.M.mem.slice(a, 4, false)
		if err != nil {
			continue // the entry was deleted
		}
		binary.LittleEndian.PutUint32(b, bits.ReverseBytes32(binary.LittleEndian.Uint32(b)))
	}
}
