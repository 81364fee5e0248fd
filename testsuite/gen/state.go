package gen

import "github.com/cilium/ebpf/asm"

// kind is what the generator knows a register holds; it is always a
// subset of what the verifier knows on every path reaching the point.
type kind uint8

const (
	kNone   kind = iota // not readable (uninitialised, clobbered, or the paths disagree)
	kScalar             // a number
	kCtx                // the context pointer, offset 0
	kPkt                // packet pointer: base + off, base's range proven
	kPktEnd             // data_end
	kMapVal             // non-null map value pointer + off
	kStack              // fp + off
)

// prov says where a scalar came from, when it is an unmodified packet load:
// comparing it with a constant gives a packet hint.
type prov struct {
	off  int16
	size uint8
	how  uint8 // provNone, provLE (ldx), provBE (LD_ABS, or ldx then be-swap)
}

const (
	provNone uint8 = iota
	provLE
	provBE
)

// reg is the abstract value of one register.
type reg struct {
	k     kind
	dirty bool  // a scalar not yet folded into the accumulator
	base  uint8 // kPkt: index into state.base
	m     uint8 // kMapVal: map index
	off   int16 // kPkt, kMapVal, kStack: constant offset
	rng   int16 // kPkt: bytes from the base proven (the verifier keeps this per register)
	prov  prov
}

// maxBases bounds the packet bases tracked at once: base 0 is data (its
// fixed-offset pointers share the verifier's id 0), the others are
// data + variable offset, each a new verifier id. A bounds check through
// one pointer widens the range of every pointer of its base that exists
// then (find_good_pkt_pointers); a fresh load of data starts at range 0.
const maxBases = 4

// stackBytes is the largest frame the generator uses.
const stackBytes = 256

// Slot kinds of the stack, per 8-byte slot.
const (
	slotPlain   uint8 = iota // bytes, initialised per the bitmap
	slotPointer              // a spilled pointer (spill[slot])
	slotTainted              // paths disagree: only 8-byte stores, no loads
)

// state is the generator's abstract state at the current point.
type state struct {
	r    [11]reg
	base [maxBases]int16 // 0 while a packet base is in use, -1 when dead
	// init has bit i set when stack byte fp-1-i is initialised (on
	// slotPlain slots).
	init  [stackBytes / 64]uint64
	slot  [stackBytes / 8]uint8
	spill [stackBytes / 8]reg
}

func (s *state) reset() {
	*s = state{}
	s.base = [maxBases]int16{0, -1, -1, -1}
}

// slotOf is the index of the 8-byte slot holding fp+off (off < 0).
func slotOf(off int16) int { return int(-off-1) / 8 }

// isInit reports whether the n bytes at fp+off are initialised plain bytes.
func (s *state) isInit(off int16, n int) bool {
	for b := int(off); b < int(off)+n; b++ {
		i := -b - 1
		if s.slot[i/8] != slotPlain || s.init[i/64]&(1<<(i%64)) == 0 {
			return false
		}
	}
	return true
}

// setInit marks the n bytes at fp+off initialised (plain).
func (s *state) setInit(off int16, n int) {
	for b := int(off); b < int(off)+n; b++ {
		i := -b - 1
		s.init[i/64] |= 1 << (i % 64)
	}
}

// canWrite reports whether an n-byte store of a scalar at fp+off keeps the
// stack valid: no partial overwrite of a spilled pointer or a tainted slot.
func (s *state) canWrite(off int16, n int) bool {
	if n == 8 {
		return true
	}
	return s.slot[slotOf(off)] == slotPlain
}

// write records an n-byte scalar store at fp+off.
func (s *state) write(off int16, n int) {
	if !s.canWrite(off, n) {
		panic("BUG: gen: a narrow store over a spilled pointer")
	}
	if n == 8 {
		j := slotOf(off)
		s.slot[j] = slotPlain
		s.spill[j] = reg{}
	}
	s.setInit(off, n)
}

// meet is the state after a join of paths in states a and b.
func meet(a, b *state) state {
	var m state
	for i := range a.base {
		if a.base[i] < 0 || b.base[i] < 0 {
			m.base[i] = -1
		} else {
			m.base[i] = 0
		}
	}
	for i := range a.r {
		m.r[i] = meetReg(&a.r[i], &b.r[i], &m)
	}
	for i := range a.init {
		m.init[i] = a.init[i] & b.init[i]
	}
	for j := range a.slot {
		switch {
		case a.slot[j] == slotPlain && b.slot[j] == slotPlain:
		case a.slot[j] == slotPointer && b.slot[j] == slotPointer:
			r := meetReg(&a.spill[j], &b.spill[j], &m)
			if r.k == kNone {
				m.slot[j] = slotTainted
			} else {
				m.slot[j], m.spill[j] = slotPointer, r
			}
		default:
			m.slot[j] = slotTainted
		}
	}
	return m
}

func meetReg(a, b *reg, m *state) reg {
	if a.k != b.k {
		return reg{}
	}
	r := *a
	r.dirty = a.dirty || b.dirty
	if a.prov != b.prov {
		r.prov = prov{}
	}
	switch a.k {
	case kPkt:
		if a.base != b.base || a.off != b.off || m.base[a.base] < 0 {
			return reg{}
		}
		r.rng = min(a.rng, b.rng)
	case kMapVal:
		if a.m != b.m || a.off != b.off {
			return reg{}
		}
	case kStack:
		if a.off != b.off {
			return reg{}
		}
	}
	return r
}

// widen records a bounds check proving rng bytes from base b: every
// pointer of the base, in registers and spilled, gets the range.
func (s *state) widen(b uint8, rng int16) {
	for i := range s.r {
		if x := &s.r[i]; x.k == kPkt && x.base == b && x.rng < rng {
			x.rng = rng
		}
	}
	for j := range s.slot {
		if x := &s.spill[j]; s.slot[j] == slotPointer && x.k == kPkt && x.base == b && x.rng < rng {
			x.rng = rng
		}
	}
}

// maxRange is the largest range of a pointer of base b.
func (s *state) maxRange(b uint8) int {
	m := -1
	for i := range s.r {
		if x := &s.r[i]; x.k == kPkt && x.base == b && int(x.rng) > m {
			m = int(x.rng)
		}
	}
	return m
}

// killPacket forgets every packet pointer (after a helper that moves the
// packet): registers become unreadable, spilled ones tainted.
func (s *state) killPacket() {
	for i := range s.r {
		if s.r[i].k == kPkt || s.r[i].k == kPktEnd {
			s.r[i] = reg{}
		}
	}
	for j := range s.slot {
		if s.slot[j] == slotPointer && (s.spill[j].k == kPkt || s.spill[j].k == kPktEnd) {
			s.slot[j], s.spill[j] = slotTainted, reg{}
		}
	}
	s.base = [maxBases]int16{0, -1, -1, -1}
}

// noReg stands for no register.
const noReg asm.Register = 0xff

// free registers are those the generator may overwrite: not r10, not the
// context in r6 (entry), not the accumulator, not a reserved loop counter.
func (g *gen) isFree(r asm.Register) bool {
	if r == asm.R10 || r == g.acc || g.reserved&(1<<r) != 0 {
		return false
	}
	if g.fnIndex < 0 && r == asm.R6 {
		return false
	}
	if g.inLoop {
		// A loop body may not change a register's kind: only scalars
		// (or unreadable registers) are overwritten.
		k := g.st.r[r].k
		return k == kScalar || k == kNone
	}
	return true
}

// allRegs are the registers statements choose from (r10 never).
var allRegs = [...]asm.Register{asm.R0, asm.R1, asm.R2, asm.R3, asm.R4, asm.R5, asm.R6, asm.R7, asm.R8, asm.R9}

// pickScalar returns a readable scalar register, preferring dirty ones and
// those with packet provenance when hint is set.
func (g *gen) pickScalar() (asm.Register, bool) {
	var cand [10]asm.Register
	n := 0
	for _, r := range allRegs {
		if g.st.r[r].k == kScalar && r != g.acc && g.reserved&(1<<r) == 0 {
			cand[n] = r
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return cand[g.intn(n)], true
}

// scalar returns a readable scalar register, making one if there is none
// (a packet load when possible, else a constant).
func (g *gen) scalar() asm.Register {
	if r, ok := g.pickScalar(); ok && g.intn(8) != 0 {
		return r
	}
	d := g.pickDst()
	if g.fnIndex < 0 && g.intn(2) == 0 {
		if r, ok := g.pktLoadInto(d); ok {
			return r
		}
	}
	g.movImm(d)
	return d
}

// scalarKeep is scalar, leaving the registers in keep untouched (a
// statement holding a register while it finds another operand).
func (g *gen) scalarKeep(keep uint16) asm.Register {
	old := g.reserved
	g.reserved |= keep
	r := g.scalar()
	g.reserved = old
	return r
}

// pickDst chooses a register to receive a new scalar: a free one, after
// folding its value if dirty.
func (g *gen) pickDst() asm.Register {
	return g.pickDstExcept(0)
}

// pickDstExcept is pickDst avoiding the registers in mask.
func (g *gen) pickDstExcept(mask uint16) asm.Register {
	var cand [10]asm.Register
	n := 0
	for _, r := range allRegs {
		if g.isFree(r) && mask&(1<<r) == 0 {
			// Keep packet pointers and map values around more often than not.
			k := g.st.r[r].k
			if (k == kPkt || k == kMapVal) && g.intn(3) != 0 {
				continue
			}
			cand[n] = r
			n++
		}
	}
	if n == 0 {
		for _, r := range allRegs {
			if g.isFree(r) && mask&(1<<r) == 0 {
				cand[n] = r
				n++
			}
		}
	}
	if n == 0 {
		panic("BUG: gen: no free register")
	}
	r := cand[g.intn(n)]
	g.clobber(r)
	return r
}

// clobber prepares r to be overwritten: a dirty value is folded first.
func (g *gen) clobber(r asm.Register) {
	if g.st.r[r].dirty {
		g.observe(r)
	}
}

// setScalar records that r now holds a new, unobserved scalar.
func (g *gen) setScalar(r asm.Register, p prov) {
	g.set(r, reg{k: kScalar, dirty: true, prov: p})
}

// oddMul are odd multipliers of the accumulator's mixing step.
var oddMul = [...]int32{0x9e3779b1 - 1<<32, 0x85ebca6b - 1<<32, 0x27d4eb2f, 0x165667b1, 31, 0x01000193}

// observe folds r into the accumulator, so that its value reaches the
// program's output.
func (g *gen) observe(r asm.Register) {
	a := g.acc
	switch x := g.intn(16); {
	case x < 7:
		g.emit(asm.Xor.Reg(a, r))
	case x < 11:
		g.emit(asm.Add.Reg(a, r))
	case x < 13:
		g.emit(asm.Sub.Reg(a, r))
	case x < 15:
		g.emit(asm.Mul.Imm(a, oddMul[g.intn(len(oddMul))]))
		g.emit(asm.Xor.Reg(a, r))
	default:
		g.emit(asm.Xor.Reg(a, r))
		g.emit(asm.Mul.Imm(a, oddMul[g.intn(len(oddMul))]))
	}
	g.st.r[r].dirty = false
	g.st.r[a] = reg{k: kScalar}
}

// observeAll folds every dirty register.
func (g *gen) observeAll() {
	for _, r := range allRegs {
		if g.st.r[r].dirty {
			g.observe(r)
		}
	}
}

// clobberCallerSaved folds dirty r0–r5 (except those in keep) before a
// call overwrites them.
func (g *gen) clobberCallerSaved(keep uint16) {
	for r := asm.R0; r <= asm.R5; r++ {
		if keep&(1<<r) == 0 && g.st.r[r].dirty {
			g.observe(r)
		}
	}
}

// afterCall records a helper or function call: r1–r5 are gone, r0 is a
// new scalar.
func (g *gen) afterCall() {
	for r := asm.R1; r <= asm.R5; r++ {
		g.st.r[r] = reg{}
	}
	g.setScalar(asm.R0, prov{})
}

// movImm sets d to an interesting constant.
func (g *gen) movImm(d asm.Register) {
	if g.intn(4) == 0 {
		g.emit(asm.Mov.Imm32(d, g.imm32()))
	} else {
		g.emit(asm.Mov.Imm(d, g.imm32()))
	}
	g.setScalar(d, prov{})
}

// findReg returns a register of kind k (satisfying ok if non-nil).
func (g *gen) findReg(k kind, ok func(*reg) bool) (asm.Register, bool) {
	var cand [10]asm.Register
	n := 0
	for _, r := range allRegs {
		x := &g.st.r[r]
		if x.k == k && (ok == nil || ok(x)) {
			cand[n] = r
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return cand[g.intn(n)], true
}
