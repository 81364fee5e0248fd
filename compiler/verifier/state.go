package verifier

import "github.com/cilium/ebpf/asm"

// StackSize is the stack of one frame, and of all frames of a call chain
// together (MAX_BPF_STACK).
const StackSize = 512

// maxFrames is the deepest BPF-to-BPF call chain (MAX_CALL_FRAMES).
const maxFrames = 8

// byteKind is what one stack byte holds (the kernel's STACK_* slot types).
type byteKind uint8

const (
	byteInvalid byteKind = iota // never written on this path
	byteMisc                    // some number
	byteZero                    // known zero
	byteSpill                   // part of a spilled register (slot.spill)
)

// slot is 8 bytes of stack, at frame offsets [-(i+1)*8, -i*8) for slot i
// counted from the top.
type slot struct {
	kinds [8]byteKind // index by (offset + StackSize) % 8
	spill Reg         // when every byte is byteSpill
}

var spillKinds = [8]byteKind{byteSpill, byteSpill, byteSpill, byteSpill, byteSpill, byteSpill, byteSpill, byteSpill}

func (s *slot) isSpill() bool { return s.kinds == spillKinds }

// frame is one function activation: its registers and its stack.
//
// The stack is copy-on-write in blocks of blockSlots slots: cloning a state
// shares every block between the two states, and the first write to a block
// copies it (owned says which blocks a frame may write in place). States are
// cloned at every checkpoint and at every two-way branch while most
// instructions between two clones touch one or two slots, so copying whole
// stacks was a quarter of the verification time. A nil block is all
// byteInvalid (never written).
//
// The blocks come first: the garbage collector scans an object only up to
// its last pointer.
type frame struct {
	blocks   [stackBlocks]*slotBlock
	regs     [11]Reg
	owned    uint16 // bit b: blocks[b] is this frame's alone
	callsite int    // pc of the call instruction in the caller, -1 for main
	fn       int    // index into Program.Funcs
	depth    int    // deepest byte touched, for stack-size accounting
	callback bool   // a callback of bpf_loop or bpf_for_each_map_elem
}

// blockSlots is how many slots one copy-on-write block holds.
const blockSlots = 4

// stackBlocks is how many blocks cover a frame.
const stackBlocks = StackSize / 8 / blockSlots

type slotBlock [blockSlots]slot

// slot returns slot i (frame bytes [-(i+1)*8, -i*8)) for reading, nil if
// it was never written.
func (f *frame) slot(i int) *slot {
	b := f.blocks[i/blockSlots]
	if b == nil {
		return nil
	}
	return &b[i%blockSlots]
}

// slotMut returns slot i for writing: its block is copied first if another
// state shares it.
func (f *frame) slotMut(i int) *slot {
	bi := i / blockSlots
	if f.owned&(1<<bi) == 0 {
		n := new(slotBlock)
		if b := f.blocks[bi]; b != nil {
			*n = *b
		}
		f.blocks[bi] = n
		f.owned |= 1 << bi
	}
	return &f.blocks[bi][i%blockSlots]
}

// eachSpill applies update to the spilled registers of the frame that
// match selects, copying their blocks first.
func (f *frame) eachSpill(match func(*Reg) bool, update func(*Reg)) {
	for bi, b := range f.blocks {
		if b == nil {
			continue
		}
		for j := range b {
			if b[j].isSpill() && match(&b[j].spill) {
				update(&f.slotMut(bi*blockSlots + j).spill)
				b = f.blocks[bi]
			}
		}
	}
}

// State is the abstract state of one path: its call frames, innermost last.
type State struct {
	frames []*frame
	// refs are the socket references this path holds (the kernel's
	// acquired_refs), in acquisition order.
	refs []ref
}

// ref is one acquired reference: its ID and the instruction that took it.
type ref struct {
	id uint32
	pc int
}

func (st *State) cur() *frame { return st.frames[len(st.frames)-1] }

// clone copies a state; the stack blocks are shared until written
// (frame.slotMut). The copy reuses the memory of a state released by a
// finished path (vm.release) when there is one: states are copied at every
// checkpoint and two-way branch, and most die soon after.
func (v *vm) clone(st *State) *State {
	var n *State
	if k := len(v.free); k > 0 {
		n = v.free[k-1]
		v.free[k-1] = nil
		v.free = v.free[:k-1]
	} else {
		n = &State{}
	}
	n.refs = nil
	if len(st.refs) > 0 {
		n.refs = append([]ref(nil), st.refs...)
	}
	// Frames beyond len (returned callees) belong to n alone, as all its
	// frames do: they are reused too.
	old := n.frames[:cap(n.frames)]
	n.frames = n.frames[:0]
	for i, f := range st.frames {
		f.owned = 0
		var c *frame
		if i < len(old) && old[i] != nil {
			c = old[i]
		} else {
			c = new(frame)
		}
		*c = *f
		n.frames = append(n.frames, c)
	}
	return n
}

// release hands back the state of a path that ended, or of a forgotten
// checkpoint: nothing refers to it any more.
func (v *vm) release(st *State) {
	if len(v.free) < maxFree {
		v.free = append(v.free, st)
	}
}

// maxFree bounds the released states kept for reuse.
const maxFree = 1024

// slotAt returns the slot holding frame byte off (negative) for writing;
// ok is false outside the frame.
func (f *frame) slotAt(off int) (*slot, int, bool) {
	if off < -StackSize || off >= 0 {
		return nil, 0, false
	}
	if -off > f.depth {
		f.depth = -off
	}
	return f.slotMut((-off - 1) / 8), (off + StackSize) % 8, true
}

// byteAt reads the kind of one stack byte without growing the stack.
func (f *frame) byteAt(off int) (byteKind, *slot) {
	if off >= 0 || off < -StackSize {
		return byteInvalid, nil
	}
	s := f.slot((-off - 1) / 8)
	if s == nil {
		return byteInvalid, nil
	}
	return s.kinds[(off+StackSize)%8], s
}

// idMap checks that the links (IDs) of an old state map one-to-one onto a
// new state's, so that what the old path learnt through links holds on the
// new path too (the kernel's check_ids). States have few links: the pairs
// are kept in a small array searched linearly (covers runs for every
// checkpoint comparison and must not allocate).
type idMap struct {
	pairs [16]idPair
	n     int
	more  []idPair // beyond len(pairs)
	fresh uint32
	// lenient enables checkScalar's rule (precise pruning only: the facts
	// mode keeps its links exact).
	lenient bool
}

type idPair struct{ old, cur uint32 }

// find returns the pair whose old (byOld) or cur ID is id.
func (m *idMap) find(id uint32, byOld bool) (idPair, bool) {
	for i := 0; i < m.n; i++ {
		if p := m.pairs[i]; byOld && p.old == id || !byOld && p.cur == id {
			return p, true
		}
	}
	for _, p := range m.more {
		if byOld && p.old == id || !byOld && p.cur == id {
			return p, true
		}
	}
	return idPair{}, false
}

func (m *idMap) add(o, c uint32) {
	if m.n < len(m.pairs) {
		m.pairs[m.n] = idPair{o, c}
		m.n++
		return
	}
	m.more = append(m.more, idPair{o, c})
}

func (m *idMap) check(o, c uint32) bool {
	if o == 0 {
		return true
	}
	if c == 0 {
		return false
	}
	if p, ok := m.find(o, true); ok {
		return p.cur == c
	}
	if p, ok := m.find(c, false); ok {
		return p.old == o
	}
	m.add(o, c)
	return true
}

// checkScalar is check for scalar links, as the kernel's check_scalar_ids:
// an unlinked scalar of cur stands for a link of its own, so an old link
// that no other compared register shares may map to it (nothing old's
// continuation learnt through that link reached a value it relied on).
func (m *idMap) checkScalar(o, c uint32) bool {
	if o == 0 || c != 0 || !m.lenient {
		return m.check(o, c)
	}
	if _, ok := m.find(o, true); ok {
		return false
	}
	m.fresh++
	m.add(o, 1<<31|m.fresh) // no ID of a state reaches 2^31
	return true
}

// regCovers reports whether every concrete value cur may hold is one old
// may hold, with the same safety-relevant properties. A scalar that is not
// precise (nothing old's continuation checked depended on its value) only
// has to be a scalar.
func regCovers(old, cur *Reg, ids *idMap, precise bool) bool {
	if old.Kind == Uninit {
		return true
	}
	if old.Kind != cur.Kind {
		return false
	}
	switch old.Kind {
	case ScalarKind:
		if old.EndDiff && (!cur.EndDiff || old.EndOff != cur.EndOff) {
			return false
		}
		if !precise {
			return true
		}
		return old.Value.Contains(cur.Value) && ids.checkScalar(old.ID, cur.ID)
	case Packet, PacketMeta:
		if old.Range > cur.Range {
			return false
		}
		if !ids.check(old.ID, cur.ID) || (old.ID == 0) != (cur.ID == 0) {
			return false
		}
	case MapValueOrNull, SockOrNull, Sock:
		if !ids.check(old.ID, cur.ID) {
			return false
		}
	}
	return old.Off == cur.Off && old.Map == cur.Map && old.Frame == cur.Frame && old.Value.Contains(cur.Value)
}

// covers reports whether old, a state whose every continuation has been
// verified, includes cur, so that cur need not be explored again (the
// kernel's states_equal). live says which registers of the innermost frame
// are read later; prec, if not nil, which scalars must be compared (the
// others only need to be scalars), nil comparing all; slive, if not nil,
// which stack slots old's continuation reads (the others are ignored).
func covers(old, cur *State, live uint16, prec *precSet, slive *slotMask) bool {
	return coversWhere(old, cur, live, prec, slive, nil)
}

// coversWhere is covers; when a register or stack slot decides a failure,
// it stores where in *at (failAt), if at is not nil.
func coversWhere(old, cur *State, live uint16, prec *precSet, slive *slotMask, at *failAt) bool {
	if len(old.frames) != len(cur.frames) || len(old.refs) != len(cur.refs) {
		return false
	}
	ids := idMap{lenient: prec != nil}
	for i := range old.refs {
		if !ids.check(old.refs[i].id, cur.refs[i].id) {
			return false
		}
	}
	// Registers first: they are cheap and differ most often.
	for fi := range old.frames {
		of, cf := old.frames[fi], cur.frames[fi]
		if of.callsite != cf.callsite || of.fn != cf.fn {
			return false
		}
		mask := live
		if fi != len(old.frames)-1 {
			mask = 0x3c0 // r6-r9 survive the callee
		}
		for r := 0; r < 10; r++ {
			if mask&(1<<r) != 0 && !regCovers(&of.regs[r], &cf.regs[r], &ids, prec == nil || prec.hasReg(fi, asm.Register(r))) {
				if at != nil {
					*at = failAt{frame: int8(fi), reg: int8(r), slot: -1}
				}
				return false
			}
		}
	}
	for fi := range old.frames {
		if i := stackCovers(old.frames[fi], cur.frames[fi], fi, &ids, prec, slive); i >= 0 {
			if at != nil {
				*at = failAt{frame: int8(fi), reg: -1, slot: int8(i)}
			}
			return false
		}
	}
	return true
}

// stackCovers compares the stacks of frame fi of two states and returns
// the first slot that differs, -1 if none. A block both share is equal in
// both: only its links need checking.
func stackCovers(of, cf *frame, fi int, ids *idMap, prec *precSet, slive *slotMask) int {
	for bi, ob := range of.blocks {
		if ob == nil {
			continue // never written: nothing asked of cur
		}
		// Two bits per slot of the block: its live halves.
		hb := uint64(1)<<(2*blockSlots) - 1
		if slive != nil {
			h := bi * 2 * blockSlots
			if hb &= slive[fi][h>>6] >> (h & 63); hb == 0 {
				continue
			}
		}
		cb := cf.blocks[bi]
		for j := range ob {
			i := bi*blockSlots + j
			live := halfBytes[hb>>(2*j)&3]
			if live == 0 {
				continue
			}
			os := &ob[j]
			precise := prec == nil || prec.hasSlot(fi, i)
			if cb == ob {
				if os.isSpill() && !sameCovers(&os.spill, ids, precise) {
					return i
				}
				continue
			}
			var cs *slot
			if cb != nil {
				cs = &cb[j]
			}
			if !slotCovers(os, cs, ids, precise, live) {
				return i
			}
		}
	}
	return -1
}

// halfBytes gives the bytes of a slot (bit k for kinds[k]) its live
// halves cover: bit 0 the upper half (kinds[4:8]), bit 1 the lower.
var halfBytes = [4]uint8{0, 0xf0, 0x0f, 0xff}

// sameCovers is regCovers(r, r): equal values differ only in how their
// links map.
func sameCovers(r *Reg, ids *idMap, precise bool) bool {
	switch r.Kind {
	case ScalarKind:
		return !precise || ids.checkScalar(r.ID, r.ID)
	case Packet, PacketMeta, MapValueOrNull, SockOrNull, Sock:
		return ids.check(r.ID, r.ID)
	}
	return true
}

// slotCovers compares one stack slot; live says which of its bytes (bit k
// for kinds[k]) old's continuation may read.
func slotCovers(os, cs *slot, ids *idMap, precise bool, live uint8) bool {
	if os.isSpill() {
		if cs == nil || !cs.isSpill() {
			// A spilled unknown (or imprecise) scalar asks nothing of the
			// bytes but that they be initialised.
			if os.spill.Kind == ScalarKind && !os.spill.EndDiff && (!precise || os.spill.ID == 0 && os.spill.Value == Unknown()) && cs != nil {
				for b, k := range cs.kinds {
					if live&(1<<b) != 0 && k != byteMisc && k != byteZero {
						return false
					}
				}
				return true
			}
			return false
		}
		return regCovers(&os.spill, &cs.spill, ids, precise)
	}
	for b, k := range os.kinds {
		if live&(1<<b) == 0 {
			continue
		}
		var ck byteKind
		if cs != nil {
			ck = cs.kinds[b]
		}
		switch k {
		case byteInvalid:
		case byteMisc:
			if ck == byteInvalid || ck == byteSpill && cs.spill.Kind != ScalarKind {
				return false
			}
		case byteZero:
			// Zero bytes matter only when a read of them does: then the
			// slot is precise. Otherwise any initialised number will do,
			// as the kernel compares an imprecise narrow spill.
			if ck != byteZero && (precise || ck == byteInvalid || ck == byteSpill && cs.spill.Kind != ScalarKind) {
				return false
			}
		case byteSpill: // partially overwritten spill: treated as misc
			if ck == byteInvalid {
				return false
			}
		}
	}
	return true
}
