package verifier

import (
	"github.com/cilium/ebpf/asm"
)

// Precision tracking, as the kernel's mark_chain_precision.
//
// In verdict-only mode (Options.VerdictOnly) a checkpoint prunes a path
// when the two states agree on what the checkpoint's continuation relied
// on, not on everything: a scalar register or spilled scalar whose exact
// value no check of the continuation needed is *imprecise*, and any scalar
// matches it. A value becomes precise when a decision depends on it — a
// scalar added to a pointer, a helper's size argument, a branch only one of
// whose outcomes is possible, a constant map key that makes a lookup
// infallible, a contradiction that ends a path — and then every value it
// was computed from is precise too, back to the checkpoints of the path:
// backtrack walks the instructions the path executed since each checkpoint
// (its history) backwards, replacing a register by the registers and stack
// slots it was computed from, and marks what remains in each checkpoint.
// A path pruned at a checkpoint continues as the checkpoint's explored
// path, so what that path relied on is demanded of the pruned path too.
//
// Only fully explored checkpoints prune, so a checkpoint's precise set is
// complete before it is used. The facts lift reads are joins over explored
// paths; with precise pruning a pruned path's imprecise values would be
// missing from them, so facts are only computed in the default mode, which
// prunes on full inclusion.

// precSet is a set of registers and stack slots per call frame (frame 0 is
// the entry function; slot i is frame bytes [-(i+1)*8, -i*8)).
type precSet struct {
	regs  [maxFrames]uint16
	slots [maxFrames]uint64
}

// allPrecise is every register and slot of every frame.
var allPrecise = func() precSet {
	var s precSet
	for f := range s.regs {
		s.regs[f], s.slots[f] = 0x7ff, ^uint64(0)
	}
	return s
}()

func (s *precSet) hasReg(f int, r asm.Register) bool { return s.regs[f]&(1<<r) != 0 }
func (s *precSet) setReg(f int, r asm.Register)      { s.regs[f] |= 1 << r }
func (s *precSet) clearReg(f int, r asm.Register)    { s.regs[f] &^= 1 << r }
func (s *precSet) hasSlot(f, i int) bool             { return s.slots[f]&(1<<i) != 0 }
func (s *precSet) setSlot(f, i int)                  { s.slots[f] |= 1 << i }
func (s *precSet) clearSlot(f, i int)                { s.slots[f] &^= 1 << i }

func (s *precSet) or(o *precSet) {
	for f := range s.regs {
		s.regs[f] |= o.regs[f]
		s.slots[f] |= o.slots[f]
	}
}

// emptyTo, orTo and minusTo are emptiness, union and difference (s
// loses o's members) on the frames below nf.
func (s *precSet) emptyTo(nf int) bool {
	for f := range nf {
		if s.regs[f] != 0 || s.slots[f] != 0 {
			return false
		}
	}
	return true
}

func (s *precSet) orTo(o *precSet, nf int) {
	for f := range nf {
		s.regs[f] |= o.regs[f]
		s.slots[f] |= o.slots[f]
	}
}

func (s *precSet) minusTo(o *precSet, nf int) {
	for f := range nf {
		s.regs[f] &^= o.regs[f]
		s.slots[f] &^= o.slots[f]
	}
}

func (s *precSet) intersects(o *precSet) bool {
	for f := range s.regs {
		if s.regs[f]&o.regs[f] != 0 || s.slots[f]&o.slots[f] != 0 {
			return true
		}
	}
	return false
}

// histEntry is one instruction a path executed since its last checkpoint:
// enough to walk it backwards.
//
// Its fields are ordered to fit 16 bytes: a path appends one per
// instruction and copies them at every two-way branch.
type histEntry struct {
	pc    int32
	frame int8 // the call frame it ran in
	// sframe and sslot are the stack slot it read or wrote at a constant
	// offset (sframe -1: none).
	sframe, sslot int8
	// cb marks a helper call that entered its callback, or a callback's
	// exit (callback.go).
	cb uint8
	// link, for conditional jumps, is the set of scalars that shared an ID
	// with an operand (the branch refined all of them together): 1 +
	// its index in vm.links, 0 for none. An index, not a pointer, keeps
	// histories free of pointers, which the garbage collector need not
	// scan.
	link int32
}

const (
	cbEntry = 1 + iota
	cbExit
)

// demandReg asks for the exact value of register r of the current frame
// before the instruction being interpreted.
func (v *vm) demandReg(r asm.Register) {
	if v.precise {
		v.need.setReg(int(v.ent.frame), r)
		v.needAny = true
	}
}

// demandSlot asks for the exact spilled value of stack slot i of frame f.
func (v *vm) demandSlot(f, i int) {
	if v.precise && f < maxFrames && i < 64 {
		v.need.setSlot(f, i)
		v.needAny = true
	}
}

// demandAll asks for everything (a contradiction that ends a path depends
// on values the backtracking does not follow one by one).
func (v *vm) demandAll() {
	if v.precise {
		v.need = allPrecise
		v.needAny = true
	}
}

// noteStackSlot records the constant-offset stack slot the current
// instruction accesses.
func (v *vm) noteStackSlot(f, off int) {
	if v.precise && off < 0 && off >= -StackSize {
		v.ent.sframe, v.ent.sslot = int8(f), int8((-off-1)/8)
	}
}

// noteLinks records, for a conditional jump, the scalars linked to the
// operand registers (before the branch refines them).
func (v *vm) noteLinks(st *State, a, b uint32) {
	if !v.precise {
		return
	}
	var set precSet
	found := false
	for fi, fr := range st.frames {
		for r := range fr.regs {
			x := &fr.regs[r]
			if x.Kind == ScalarKind && x.ID != 0 && (x.ID == a || x.ID == b) {
				set.setReg(fi, asm.Register(r))
				found = true
			}
		}
		for i := 0; i < StackSize/8; i++ {
			s := fr.slot(i)
			if s != nil && s.isSpill() && s.spill.Kind == ScalarKind && s.spill.ID != 0 &&
				(s.spill.ID == a || s.spill.ID == b) {
				set.setSlot(fi, i)
				found = true
			}
		}
	}
	if found {
		// They live as long as the verification: the same set as the
		// last one is not stored twice.
		if k := len(v.links); k == 0 || v.links[k-1] != set {
			v.links = append(v.links, set)
		}
		v.ent.link = int32(len(v.links))
	}
}

// backtrack marks need (a set over the state after hist) precise in the
// checkpoints of the path: it walks hist backwards to c's state, marks what
// is new there, and continues with c's own history to c's parent.
//
// Frames no state has reached (vm.depth) hold nothing a checkpoint
// compares: need is cut to the others, and the set operations stop there
// (most programs never call: one frame of eight).
func (v *vm) backtrack(hist []histEntry, c *checkpoint, need precSet) {
	nf := v.depth
	bt := need
	clear(bt.regs[nf:])
	clear(bt.slots[nf:])
	for {
		for i := len(hist) - 1; i >= 0 && !bt.emptyTo(nf); i-- {
			v.backtrackInsn(&bt, &hist[i])
		}
		if c == nil {
			return
		}
		// What c already has was propagated further when it was marked.
		bt.minusTo(&c.prec, nf)
		if bt.emptyTo(nf) {
			return
		}
		c.prec.orTo(&bt, nf)
		hist, c = c.hist, c.parent
	}
}

// backtrackInsn turns bt, a set of values needed after the instruction,
// into the values needed before it (the kernel's backtrack_insn). Keeping
// a member that is not strictly needed is always safe (less pruning);
// dropping one is not.
func (v *vm) backtrackInsn(bt *precSet, e *histEntry) {
	ins := v.insns[e.pc]
	f := int(e.frame)
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls.IsALU():
		if !bt.hasReg(f, ins.Dst) {
			return
		}
		a := op.ALUOp()
		reg := op.Source() == asm.RegSource && a != asm.Neg && a != asm.Swap
		if a == asm.Mov || a == asm.MovSX8 || a == asm.MovSX16 || a == asm.MovSX32 {
			bt.clearReg(f, ins.Dst)
		}
		if reg {
			bt.setReg(f, ins.Src)
		}
	case cls == asm.LdClass:
		if op.IsDWordLoad() {
			bt.clearReg(f, ins.Dst)
			return
		}
		bt.regs[f] &^= 0x3f // LD_ABS/IND: r0 from the packet, r1-r5 clobbered
	case cls == asm.LdXClass:
		if !bt.hasReg(f, ins.Dst) {
			return
		}
		bt.clearReg(f, ins.Dst)
		if e.sframe >= 0 {
			bt.setSlot(int(e.sframe), int(e.sslot))
		}
	case cls == asm.StClass, cls == asm.StXClass:
		if e.sframe < 0 {
			return // not the stack at a constant offset: nothing tracked
		}
		sf, si := int(e.sframe), int(e.sslot)
		if op.Mode() == asm.AtomicMode {
			// The slot's new value comes from the old one and src; a
			// fetched value is the old one.
			if bt.hasSlot(sf, si) || bt.hasReg(f, ins.Src) || bt.hasReg(f, asm.R0) {
				bt.setSlot(sf, si)
				bt.setReg(f, ins.Src)
				if op.AtomicOp() == asm.CmpXchg {
					bt.setReg(f, asm.R0)
				}
			}
			return
		}
		if !bt.hasSlot(sf, si) {
			return
		}
		if op.Size() == asm.DWord {
			bt.clearSlot(sf, si) // a full spill replaces the slot
		}
		if cls == asm.StXClass {
			bt.setReg(f, ins.Src)
		}
	case cls.IsJump():
		switch op.JumpOp() {
		case asm.Call:
			if e.cb == cbEntry {
				// The callback's arguments: the context is the caller's r3
				// (the others are pointers the helper makes, or unknown);
				// the caller's registers stay as they were.
				if callee := f + 1; callee < maxFrames {
					if bt.regs[callee]&0x3e != 0 {
						bt.setReg(f, asm.R3)
					}
					bt.regs[callee], bt.slots[callee] = 0, 0
				}
				return
			}
			if ins.IsFunctionCall() {
				// The callee's arguments were the caller's r1-r5.
				callee := f + 1
				if callee < maxFrames {
					bt.regs[f] |= bt.regs[callee] & 0x3e
					bt.regs[callee], bt.slots[callee] = 0, 0
				}
				return
			}
			bt.regs[f] &^= 0x3f // r0 is the helper's result, r1-r5 clobbered
		case asm.Exit:
			if e.cb == cbExit {
				return // the caller's registers are untouched by a callback
			}
			if f > 0 {
				// The caller's r0 is the callee's; r1-r5 were clobbered.
				if bt.hasReg(f-1, asm.R0) {
					bt.setReg(f, asm.R0)
				}
				bt.regs[f-1] &^= 0x3f
			}
		case asm.Ja:
		default:
			if e.link != 0 {
				if l := &v.links[e.link-1]; bt.intersects(l) {
					bt.or(l)
				}
			}
			if op.Source() == asm.RegSource && (bt.hasReg(f, ins.Dst) || bt.hasReg(f, ins.Src)) {
				// Each operand's refinement used the other's range.
				bt.setReg(f, ins.Dst)
				bt.setReg(f, ins.Src)
			}
		}
	}
}

// Stack liveness, as the kernel's: a checkpoint's stack bytes that its
// continuation never reads before overwriting them need not match at all.
// Liveness is kept per half slot (4 bytes, the granularity of the narrow
// spills the kernel tracks): a read marks the halves it touches live in
// the path's checkpoints back to the last one whose incoming instructions
// overwrote them whole (a store of 4 or 8 bytes, or a call's fresh frame);
// narrower writes do not screen. A pruned path takes over the live halves
// of the checkpoint that pruned it.

// slotMask is a set of stack half slots per frame: half 2i holds bytes
// [-i*8-4, -i*8) of slot i, half 2i+1 bytes [-(i+1)*8, -i*8-4).
type slotMask [maxFrames][2]uint64

// half is the half slot of frame byte off (negative).
func half(off int) int { return (-off - 1) / 4 }

func (m *slotMask) set(f, h int) { m[f][h>>6] |= 1 << (h & 63) }

func (m *slotMask) setAll(f int) { m[f] = [2]uint64{^uint64(0), ^uint64(0)} }

// addRange adds the halves holding frame f's bytes [lo, hi).
func (m *slotMask) addRange(f, lo, hi int) {
	if f >= maxFrames || lo >= hi || hi > 0 {
		return
	}
	lo = max(lo, -StackSize)
	for h := half(hi - 1); h <= half(lo); h++ {
		m.set(f, h)
	}
}

// bytes is the live bytes of slot i of frame f, as a mask over
// slot.kinds (bit k for kinds[k]).
func (m *slotMask) bytes(f, i int) uint8 {
	var b uint8
	if h := 2 * i; m[f][h>>6]&(1<<(h&63)) != 0 {
		b |= 0xf0
	}
	if h := 2*i + 1; m[f][h>>6]&(1<<(h&63)) != 0 {
		b |= 0x0f
	}
	return b
}

// usedFrame notes that sreads or swrites has bits in frame f.
func (v *vm) usedFrame(f int) {
	v.stackHi = max(v.stackHi, min(f+1, maxFrames))
}

// noteRead records that the current instruction reads frame f's bytes
// [lo, hi).
func (v *vm) noteRead(f, lo, hi int) {
	if v.precise {
		v.sreads.addRange(f, lo, hi)
		v.usedFrame(f)
	}
}

// noteWrite records that the current instruction overwrites frame f's
// bytes [off, off+size): the halves it covers whole are screened.
func (v *vm) noteWrite(f, off, size int) {
	if !v.precise || f >= maxFrames || off < -StackSize || off+size > 0 || size < 4 {
		return
	}
	for b := off; b+4 <= off+size; b += 4 {
		if (-b)%4 == 0 {
			v.swrites.set(f, half(b))
			v.usedFrame(f)
		}
	}
}

// liveReads marks reads (halves read by p's future, not written since its
// last checkpoint) live in p's checkpoints.
func liveReads(c *checkpoint, reads slotMask) {
	// Only the frames read from are walked (most programs use one).
	nf := 0
	for f := range reads {
		if reads[f] != [2]uint64{} {
			nf = f + 1
		}
	}
	for ; c != nil; c = c.parent {
		any := false
		for f := range reads[:nf] {
			for w := range reads[f] {
				reads[f][w] &^= c.live[f][w] // already live: propagated further then
				any = any || reads[f][w] != 0
			}
		}
		if !any {
			return
		}
		for f := range reads[:nf] {
			for w := range reads[f] {
				c.live[f][w] |= reads[f][w]
				reads[f][w] &^= c.written[f][w]
			}
		}
	}
}

// slotsUsed accounts the stack reads and writes of the instruction just
// interpreted on path p.
func (v *vm) slotsUsed(p *path) {
	nf := v.stackHi
	if nf == 0 {
		return // most instructions do not touch the stack
	}
	v.stackHi = 0
	var reads slotMask
	any := false
	for f := range reads[:nf] {
		for w := range reads[f] {
			reads[f][w] = v.sreads[f][w] &^ p.written[f][w]
			any = any || reads[f][w] != 0
			p.written[f][w] |= v.swrites[f][w]
		}
	}
	clear(v.sreads[:nf])
	clear(v.swrites[:nf])
	if any {
		liveReads(p.parent, reads)
	}
}
