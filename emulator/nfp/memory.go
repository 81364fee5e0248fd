package nfp

import (
	"fmt"
	"sort"
)

// Memory is the byte-addressed memory the commands reach, as a few named
// regions: the packet's CTM buffer (reached with 32-bit addresses), EMEM
// (maps, 40-bit addresses), IMEM, and CLS (its own address space). An
// access that is not wholly inside one region stops the run: the emulator
// never invents memory.
type Memory struct {
	regions []*Region // MU (CTM, IMEM, EMEM), sorted by base
	cls     []*Region // cluster local scratch

	// ctm is the packet buffer; [ctmLo, ctmHi) covers every byte of it a
	// command or helper reached since the last ResetCTM, so that the next
	// packet clears only those.
	ctm          *Region
	ctmLo, ctmHi uint64
}

// Region is a contiguous piece of emulated memory: either plain bytes
// (Data), or a table of equal-stride slots each backed by its own slice
// (Slots; a map's values, which alias the shared emulator.Map storage so
// that the NFP and the map semantics are one implementation). A nil slot,
// or bytes of the stride past a slot's length, are not memory.
type Region struct {
	Name   string
	Base   uint64
	Data   []byte
	Slots  [][]byte
	Stride uint64
	// Slot, when set, computes slot i of NSlots on demand (large arrays).
	Slot   func(i uint64) []byte
	NSlots uint64
}

// Size is the region's extent in bytes.
func (r *Region) Size() uint64 {
	switch {
	case r.Slot != nil:
		return r.NSlots * r.Stride
	case r.Slots != nil:
		return uint64(len(r.Slots)) * r.Stride
	}
	return uint64(len(r.Data))
}

// bytes returns n bytes at offset off of the region, or nil.
func (r *Region) bytes(off uint64, n int) []byte {
	if r.Slots == nil && r.Slot == nil {
		return r.Data[off : off+uint64(n)]
	}
	i, in := off/r.Stride, off%r.Stride
	var s []byte
	if r.Slot != nil {
		s = r.Slot(i)
	} else {
		s = r.Slots[i]
	}
	if in+uint64(n) > uint64(len(s)) {
		return nil
	}
	return s[in : in+uint64(n)]
}

// Well-known addresses of the emulated firmware layout (nfp-isa.md §4.2,
// §9): the packet sits in a CTM buffer addressed as in packet vector word
// 10 (bit 31 = CTM buffer, packet number 25:16, offset 12:0); maps live in
// EMEM at a 40-bit address whose >> 8 fits a GPR.
const (
	CTMBase       = 0x8000_0000 // 32-bit CTM address of packet buffer 0
	CTMSize       = 8 << 10     // offset is 13 bits
	PacketOffset  = 0x100       // packet data start inside the buffer (headroom for adjust_head)
	EMEMBase      = 0x80_0000_0000
	IMEMBase      = 0x40_0000_0000
	IMEMSize      = 64 << 10
	CLSSize       = 64 << 10
	ememAlign     = 256
	emRegionLimit = 1 << 30
)

// NewMemory returns the standard layout: a CTM packet buffer, 64 KiB of
// IMEM and of CLS. EMEM regions are added per map.
func NewMemory() *Memory {
	m := &Memory{}
	m.ctm = &Region{Name: "CTM", Base: CTMBase, Data: make([]byte, CTMSize)}
	m.Add(m.ctm)
	m.ctmLo, m.ctmHi = 0, CTMSize // clear it all the first time
	m.Add(&Region{Name: "IMEM", Base: IMEMBase, Data: make([]byte, IMEMSize)})
	m.cls = []*Region{{Name: "CLS", Base: 0, Data: make([]byte, CLSSize)}}
	return m
}

// Add inserts a region; regions must not overlap.
func (m *Memory) Add(r *Region) error {
	for _, o := range m.regions {
		if r.Base < o.Base+o.Size() && o.Base < r.Base+r.Size() {
			return fmt.Errorf("region %s [%#x,+%#x) overlaps %s", r.Name, r.Base, r.Size(), o.Name)
		}
	}
	if (r.Slots != nil || r.Slot != nil) && r.Stride == 0 {
		return fmt.Errorf("region %s: slots without a stride", r.Name)
	}
	m.regions = append(m.regions, r)
	sort.Slice(m.regions, func(i, j int) bool { return m.regions[i].Base < m.regions[j].Base })
	return nil
}

// Remove drops the region called name.
func (m *Memory) Remove(name string) {
	if name == "CTM" {
		m.ctm = nil
	}
	out := m.regions[:0]
	for _, r := range m.regions {
		if r.Name != name {
			out = append(out, r)
		}
	}
	m.regions = out
}

// Region returns the region called name, or nil.
func (m *Memory) Region(name string) *Region {
	for _, r := range m.regions {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// CTM is the packet buffer's bytes.
func (m *Memory) CTM() []byte { return m.ctm.Data }

// resetCTM zeroes the bytes of the packet buffer used since the last
// reset, and then marks [lo, hi) as used.
func (m *Memory) resetCTM(lo, hi uint64) {
	if m.ctmLo < m.ctmHi {
		clear(m.ctm.Data[m.ctmLo:m.ctmHi])
	}
	m.ctmLo, m.ctmHi = lo, hi
}

// slice returns the n bytes at addr of the MU (cls false) or CLS space.
func (m *Memory) slice(addr uint64, n int, cls bool) ([]byte, error) {
	rs := m.regions
	if cls {
		rs = m.cls
	} else if c := m.ctm; c != nil && addr >= c.Base && addr+uint64(n) <= c.Base+uint64(len(c.Data)) {
		off := addr - c.Base
		m.ctmLo = min(m.ctmLo, off)
		m.ctmHi = max(m.ctmHi, off+uint64(n))
		return c.Data[off : off+uint64(n)], nil
	}
	// The last region starting at or below addr is the only candidate.
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Base > addr }) - 1
	if i >= 0 {
		r := rs[i]
		if addr+uint64(n) <= r.Base+r.Size() {
			if b := r.bytes(addr-r.Base, n); b != nil {
				return b, nil
			}
			return nil, fmt.Errorf("%d-byte access at %#x: not inside one value of %s (stride %d)", n, addr, r.Name, r.Stride)
		}
	}
	space := "memory"
	if cls {
		space = "CLS"
	}
	return nil, fmt.Errorf("%d-byte access at %s address %#x is outside every emulated region (%s)", n, space, addr, m.describe(cls))
}

func (m *Memory) describe(cls bool) string {
	rs := m.regions
	if cls {
		rs = m.cls
	}
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s [%#x,%#x)", r.Name, r.Base, r.Base+r.Size())
	}
	return s
}
