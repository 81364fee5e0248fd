package ebpf

import (
	"fmt"

	"github.com/nfpcc/nfpcc/emulator"
)

// Pointers are tagged addresses: the high 32 bits name a region, the low
// 32 bits are regionBase plus an offset into the region's buffer (so that
// an address a little below a buffer still names the buffer's region in
// errors). Pointer arithmetic is plain 64-bit arithmetic; every access
// looks the region up and checks [lo, hi), so an access outside the object
// a pointer came from stops the run with an error naming the region.
// Region 0 holds NULL and every small integer.
const (
	regionNull = iota
	regionStack
	regionCtx
	regionPacket
	regionMem
	regionMaps // map handles: not readable, only passed to helpers
	firstValueRegion
)

const (
	stackSize = 512 // per frame (MAX_BPF_STACK)
	maxFrames = 8   // MAX_CALL_FRAMES
)

type regionKind uint8

const (
	kindNull regionKind = iota
	kindStack
	kindCtx
	kindPacket
	kindMem
	kindMaps
	kindValue
)

var kindNames = []string{"null", "stack", "context", "packet", "memory", "map handle", "map value"}

// region is one addressable object.
type region struct {
	buf    []byte
	lo, hi uint64 // valid offsets
	kind   regionKind
	ro     bool
	name   string // the map of a map value
}

const regionBase = 1 << 31

func addr(region uint64, off uint64) uint64 { return region<<32 + regionBase + off }

// offsetOf is the offset of an address in its region's buffer. Below the
// buffer it wraps to a large 32-bit value, so offset+size never overflows
// and bounds checks need no extra test.
func offsetOf(a uint64) uint64 { return uint64(uint32(a) - regionBase) }

// MemoryError is an access outside every region: the run stops.
type MemoryError struct {
	PC    int
	Insn  string
	Addr  uint64
	Size  uint64
	Write bool
	// Region describes where the address points ("stack [0, 4096)", "no region").
	Region string
}

func (e *MemoryError) Error() string {
	rw := "read"
	if e.Write {
		rw = "write"
	}
	s := fmt.Sprintf("out-of-bounds %s of %d bytes at %#x (%s)", rw, e.Size, e.Addr, e.Region)
	if e.Insn != "" {
		return fmt.Sprintf("pc %d (%s): %s", e.PC, e.Insn, s)
	}
	return s
}

// describe names the region an address falls in, for errors.
func (m *Machine) describe(a uint64) string {
	idx := a >> 32
	if idx == regionNull {
		return "NULL pointer region"
	}
	if idx >= uint64(len(m.regions)) {
		return "no region: not a pointer"
	}
	rg := &m.regions[idx]
	d := fmt.Sprintf("%s region, valid offsets [%d, %d), offset %d", kindNames[rg.kind], rg.lo, rg.hi, int32(offsetOf(a)))
	if rg.name != "" {
		d = rg.name + " " + d
	}
	if rg.ro {
		d += ", read-only"
	}
	return d
}

// bytes is the checked access every slow path and helper uses.
func (m *Machine) bytes(a, n uint64, write bool) ([]byte, error) {
	idx := a >> 32
	if idx < uint64(len(m.regions)) {
		rg := &m.regions[idx]
		o := offsetOf(a)
		if o >= rg.lo && o+n <= rg.hi && n <= rg.hi && !(write && rg.ro) && rg.kind != kindCtx {
			return rg.buf[o : o+n : o+n], nil
		}
	}
	return nil, &MemoryError{Addr: a, Size: n, Write: write, Region: m.describe(a)}
}

// Bytes implements emulator.Memory for helpers.
func (m *Machine) Bytes(a, n uint64, write bool) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	return m.bytes(a, n, write)
}

// linearValues is how many value regions ValueAddr finds by a scan of the
// region table; the ones after them are found through Machine.valueIndex.
// Programs look up a few values per packet, and a scan of a few pointers
// is cheaper than a Go map insertion now and a deletion at the next run.
const linearValues = 16

// ValueAddr implements emulator.Memory: each distinct map value gets a
// region, created on first use in a run.
func (m *Machine) ValueAddr(mapIndex int, value []byte) uint64 {
	if len(value) == 0 {
		return 0 // maps have no empty values (NewMap refuses them)
	}
	key := &value[0]
	vals := m.regions[firstValueRegion:]
	scan := vals
	if len(scan) > linearValues {
		scan = scan[:linearValues]
	}
	for i := range scan {
		if &scan[i].buf[0] == key {
			return addr(uint64(firstValueRegion+i), 0)
		}
	}
	if len(vals) > linearValues {
		if id, ok := m.valueIndex[key]; ok {
			return addr(id, 0)
		}
	}
	id := uint64(len(m.regions))
	spec := m.env.MapAt(mapIndex).Spec()
	ro := mapIndex < len(m.readOnly) && m.readOnly[mapIndex] // inner maps are writable
	m.regions = append(m.regions, region{buf: value, lo: 0, hi: uint64(len(value)), kind: kindValue, ro: ro, name: spec.Name})
	if len(vals) >= linearValues {
		m.valueIndex[key] = id
	}
	return addr(id, 0)
}

// forgetValues drops the value regions of the last run (those after the
// fixed ones: global data stays).
func (m *Machine) forgetValues() {
	for i := max(m.fixedRegions, firstValueRegion+linearValues); i < len(m.regions); i++ {
		delete(m.valueIndex, &m.regions[i].buf[0])
	}
	clear(m.regions[m.fixedRegions:])
	m.regions = m.regions[:m.fixedRegions]
}

// MapIndex implements emulator.Memory: object maps and the inner maps
// lookups in maps of maps returned (emulator.Env.MapAt).
func (m *Machine) MapIndex(ptr uint64) (int, error) {
	if ptr>>32 != regionMaps || offsetOf(ptr) >= uint64(m.env.NumMaps()) {
		return 0, fmt.Errorf("argument %#x is not a map pointer", ptr)
	}
	return int(offsetOf(ptr)), nil
}

// MapPointer implements emulator.MapPointerer: the handle of map number
// index of Env.MapAt, as lddw of an object's map gives it.
func (m *Machine) MapPointer(index int) uint64 { return addr(regionMaps, uint64(index)) }

var (
	_ emulator.Memory       = (*Machine)(nil)
	_ emulator.MapPointerer = (*Machine)(nil)
)
