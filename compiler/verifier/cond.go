package verifier

import (
	"math"
	"slices"

	"github.com/cilium/ebpf/asm"
)

// negate maps a jump condition to the condition of its fall-through.
// jNSet ("no bit in common") has no opcode; it exists only here.
const jNSet asm.JumpOp = 0xf0

var negate = map[asm.JumpOp]asm.JumpOp{
	asm.JEq: asm.JNE, asm.JNE: asm.JEq, asm.JGT: asm.JLE, asm.JLE: asm.JGT, asm.JGE: asm.JLT, asm.JLT: asm.JGE,
	asm.JSGT: asm.JSLE, asm.JSLE: asm.JSGT, asm.JSGE: asm.JSLT, asm.JSLT: asm.JSGE, asm.JSet: jNSet, jNSet: asm.JSet,
}

// mirror maps "a op b" to "b op' a".
var mirror = map[asm.JumpOp]asm.JumpOp{
	asm.JEq: asm.JEq, asm.JNE: asm.JNE, asm.JGT: asm.JLT, asm.JLT: asm.JGT, asm.JGE: asm.JLE, asm.JLE: asm.JGE,
	asm.JSGT: asm.JSLT, asm.JSLT: asm.JSGT, asm.JSGE: asm.JSLE, asm.JSLE: asm.JSGE, asm.JSet: asm.JSet, jNSet: jNSet,
}

// condJump explores both outcomes of a conditional jump, each refined by
// its condition; an outcome whose refinement is contradictory is dropped.
func (v *vm) condJump(st *State, pc int, ins *asm.Instruction) (int, *alt, error) {
	op := ins.OpCode.JumpOp()
	if _, ok := negate[op]; !ok {
		return 0, nil, v.errorf(pc, "invalid BPF_JMP/JMP32 opcode %02x", uint8(ins.OpCode))
	}
	is32 := ins.OpCode.Class() == asm.Jump32Class
	// The kernel's check_cond_jmp_op: a register form has no immediate, an
	// immediate form no source register.
	if ins.OpCode.Source() == asm.RegSource && ins.Constant != 0 || ins.OpCode.Source() == asm.ImmSource && ins.Src != 0 {
		return 0, nil, v.errorf(pc, "BPF_JMP/JMP32 uses reserved fields")
	}
	if _, err := v.readReg(st, pc, ins.Dst); err != nil {
		return 0, nil, err
	}
	srcReg := -1
	if ins.OpCode.Source() == asm.RegSource {
		if _, err := v.readReg(st, pc, ins.Src); err != nil {
			return 0, nil, err
		}
		srcReg = int(ins.Src)
	}
	imm := uint64(ins.Constant) // sign-extended imm, as the comparison uses it
	if is32 {
		imm = uint64(uint32(ins.Constant))
	}
	target := pc + 1 + int(ins.Offset)
	if v.precise {
		v.condPrecision(st, ins, srcReg)
	}
	okT, bad := branchPossible(st, int(ins.Dst), srcReg, imm, op, is32)
	okF := false
	if !v.opts.Assume[pc] {
		okF, _ = branchPossible(st, int(ins.Dst), srcReg, imm, negate[op], is32)
	}
	if bad {
		// Only null checks and pointers into one region may be compared:
		// anything else would leak an address into control flow.
		return 0, nil, v.errorf(pc, "R%d pointer comparison prohibited", ins.Dst)
	}
	// Refine in place; copy the state only when both outcomes are possible.
	var taken *State
	switch {
	case okT && okF:
		taken = v.clone(st)
		okT = v.refine(taken, int(ins.Dst), srcReg, imm, op, is32)
		okF = v.refine(st, int(ins.Dst), srcReg, imm, negate[op], is32)
	case okT:
		taken = st
		okT = v.refine(st, int(ins.Dst), srcReg, imm, op, is32)
	case okF:
		okF = v.refine(st, int(ins.Dst), srcReg, imm, negate[op], is32)
	}
	if !okT || !okF {
		// Which outcomes are possible depended on the operands' values
		// (the kernel marks them precise when is_branch_taken decides).
		v.demandScalar(st, ins.Dst)
		if srcReg >= 0 {
			v.demandScalar(st, ins.Src)
		}
	}
	switch {
	case okT && okF:
		return pc + 1, &alt{st: taken, pc: target}, nil
	case okT:
		return target, nil, nil
	case okF:
		return pc + 1, nil, nil
	}
	return -1, nil, nil
}

// condPrecision records, before a conditional jump refines its operands,
// the scalars linked to them (refined together), and demands the exact
// value of an operand known to be data_end − data − k: its refined bound
// becomes a packet range.
func (v *vm) condPrecision(st *State, ins *asm.Instruction, srcReg int) {
	fr := st.cur()
	d := &fr.regs[ins.Dst]
	var sid uint32
	if srcReg >= 0 {
		s := &fr.regs[srcReg]
		if s.Kind == ScalarKind {
			sid = s.ID
			if s.EndDiff {
				v.demandReg(ins.Src)
			}
		}
	}
	var did uint32
	if d.Kind == ScalarKind {
		did = d.ID
		if d.EndDiff {
			v.demandReg(ins.Dst)
		}
	}
	if did != 0 || sid != 0 {
		v.noteLinks(st, did, sid)
	}
}

// demandScalar demands register r of the current frame if it holds a
// scalar (pointers are always compared exactly).
func (v *vm) demandScalar(st *State, r asm.Register) {
	if v.precise && st.cur().regs[r].Kind == ScalarKind {
		v.demandReg(r)
	}
}

// branchPossible reports, without changing st, whether "dst op src" can
// hold (what refine will return), and whether the comparison is one of
// pointers that may not be compared.
func branchPossible(st *State, dst, srcReg int, imm uint64, op asm.JumpOp, is32 bool) (ok, bad bool) {
	fr := st.cur()
	d := &fr.regs[dst]
	s := &Reg{Kind: ScalarKind, Value: Const(imm)}
	if srcReg >= 0 {
		s = &fr.regs[srcReg]
	}
	if d.Kind == ScalarKind && s.Kind == ScalarKind {
		dv, sv := d.Value, s.Value
		return refineScalars(&dv, &sv, op, is32), false
	}
	if is32 {
		return true, false
	}
	if d.Kind == ScalarKind {
		d, s, op = s, d, mirror[op]
	}
	if s.Kind == ScalarKind {
		if !s.IsConst() || s.Value.ConstValue() != 0 || (op != asm.JEq && op != asm.JNE) {
			return true, true
		}
		// A null check: only maybe-null pointers may be null.
		return d.Kind == MapValueOrNull || d.Kind == SockOrNull || op == asm.JNE, false
	}
	if region(d.Kind) != region(s.Kind) || d.Kind == MapPtr || d.Kind == Ctx {
		return true, true
	}
	return true, false
}

// refine narrows st by "dst op src" (src a register, or imm when srcReg <
// 0) and reports whether the condition can hold.
func (v *vm) refine(st *State, dst, srcReg int, imm uint64, op asm.JumpOp, is32 bool) bool {
	fr := st.cur()
	d := &fr.regs[dst]
	var s *Reg
	immReg := constReg(imm)
	if srcReg >= 0 {
		s = &fr.regs[srcReg]
	} else {
		s = &immReg
	}
	if d.Kind == ScalarKind && s.Kind == ScalarKind {
		dv, sv := d.Value, s.Value
		if !refineScalars(&dv, &sv, op, is32) {
			return false
		}
		setLinked(st, d, dv)
		if srcReg >= 0 {
			setLinked(st, s, sv)
		}
		endDiffRange(st, d)
		endDiffRange(st, s)
		return true
	}
	if is32 {
		return true // pointers compared in 32 bits teach nothing
	}
	// Normalise to "pointer op other".
	if d.Kind == ScalarKind {
		d, s, op = s, d, mirror[op]
	}
	if s.Kind == ScalarKind {
		if !s.IsConst() || s.Value.ConstValue() != 0 || (op != asm.JEq && op != asm.JNE) {
			return true // refused by branchPossible
		}
		return v.nullCheck(st, d, op == asm.JEq)
	}
	if region(d.Kind) != region(s.Kind) || d.Kind == MapPtr || d.Kind == Ctx {
		return true // refused by branchPossible
	}
	return v.packetCompare(st, d, s, op)
}

// nullCheck applies "ptr == 0" (isNull) or "ptr != 0": a maybe-null
// pointer and all its copies become null or a valid pointer; other
// pointers are never null.
func (v *vm) nullCheck(st *State, p *Reg, isNull bool) bool {
	if p.Kind == SockOrNull {
		id := p.ID
		st.forEachReg(func(r *Reg) bool { return r.Kind == SockOrNull && r.ID == id }, func(r *Reg) {
			if isNull {
				*r = constReg(0)
			} else {
				r.Kind = Sock
			}
		})
		if isNull { // no socket, nothing to release
			st.dropRef(id)
		}
		return true
	}
	if p.Kind != MapValueOrNull {
		return !isNull
	}
	id := p.ID
	// A lookup in a map of maps gives the inner map (the kernel's
	// CONST_PTR_TO_MAP with inner_map_meta); any other lookup, including
	// one in an inner map, gives a value of the map looked up.
	inner := -1
	if p.Map >= 0 && int(p.Map) < len(v.maps) && v.maps[p.Map] != nil && v.maps[p.Map].InnerMap != nil {
		m := v.maps[p.Map]
		inner = slices.Index(v.maps, m.InnerMap)
	}
	st.forEachReg(func(r *Reg) bool { return r.Kind == MapValueOrNull && r.ID == id }, func(r *Reg) {
		if isNull {
			*r = constReg(0)
			return
		}
		r.Kind, r.ID = MapValue, 0
		if inner >= 0 {
			r.Kind, r.Map, r.Off, r.Value = MapPtr, int32(inner), 0, Const(0)
		}
	})
	return true
}

// packetCompare learns packet ranges from comparisons of packet pointers
// with data_end (or metadata pointers with data), the kernel's
// find_good_pkt_pointers: after "p <= end" every pointer sharing p's
// variable part may access [.., p.Off).
func (v *vm) packetCompare(st *State, d, s *Reg, op asm.JumpOp) bool {
	switch {
	case d.Kind == Packet && s.Kind == PacketEnd, d.Kind == PacketMeta && s.Kind == Packet && s.Off == 0 && s.Value.IsConst() && s.Value.ConstValue() == 0:
	case s.Kind == Packet && d.Kind == PacketEnd, s.Kind == PacketMeta && d.Kind == Packet && d.Off == 0 && d.Value.IsConst() && d.Value.ConstValue() == 0:
		d, s, op = s, d, mirror[op]
	default:
		return true
	}
	// Now "p op end" with p = d.
	var rng int32
	switch op {
	case asm.JLE: // p <= end
		rng = d.Off
	case asm.JLT: // p < end
		rng = d.Off + 1
	case asm.JGT, asm.JGE:
		// p > end (or >=) proves nothing positive on this branch.
		return true
	default:
		return true
	}
	if d.Off < 0 || d.Value.UMax > maxPacketOff || int64(d.Value.UMax)+int64(d.Off) > maxPacketOff {
		return true
	}
	kind, id := d.Kind, d.ID
	st.forEachReg(func(r *Reg) bool { return r.Kind == kind && r.ID == id && r.Range < rng },
		func(r *Reg) { r.Range = rng })
	return true
}

// endDiffRange turns a lower bound on data_end − (data + k) into a packet
// range for the constant-offset packet pointers.
func endDiffRange(st *State, r *Reg) {
	if !r.EndDiff || r.Value.SMin <= 0 || r.Value.SMin > maxPacketOff {
		return
	}
	rng := int64(r.EndOff) + r.Value.SMin
	if r.EndOff < 0 || rng > maxPacketOff {
		return
	}
	st.forEachReg(func(x *Reg) bool { return x.Kind == Packet && x.ID == 0 && int64(x.Range) < rng },
		func(x *Reg) { x.Range = int32(rng) })
}

// dropRef forgets reference id; false if the path does not hold it.
func (st *State) dropRef(id uint32) bool {
	for i, r := range st.refs {
		if r.id == id {
			st.refs = append(st.refs[:i:i], st.refs[i+1:]...)
			return true
		}
	}
	return false
}

// forEachReg applies update to every register and spilled register of
// every frame that match selects (a spill's stack block is copied only
// then).
func (st *State) forEachReg(match func(*Reg) bool, update func(*Reg)) {
	for _, fr := range st.frames {
		for i := range fr.regs {
			if match(&fr.regs[i]) {
				update(&fr.regs[i])
			}
		}
		fr.eachSpill(match, update)
	}
}

// setLinked gives r the refined value, and every copy linked to it too.
func setLinked(st *State, r *Reg, val Scalar) {
	if r.ID == 0 {
		r.Value = val
		return
	}
	id := r.ID
	st.forEachReg(func(x *Reg) bool { return x.Kind == ScalarKind && x.ID == id && x.Value != val },
		func(x *Reg) { x.Value = val })
	r.Value = val
}

// view is the part of a scalar one comparison looks at: all 64 bits, or
// the low 32.
type view struct {
	umin, umax uint64
	smin, smax int64
	t          Tnum
}

func viewOf(s *Scalar, is32 bool) view {
	if is32 {
		return view{uint64(s.U32Min), uint64(s.U32Max), int64(s.S32Min), int64(s.S32Max), s.Var.Subreg()}
	}
	return view{s.UMin, s.UMax, s.SMin, s.SMax, s.Var}
}

func (w view) apply(s *Scalar, is32 bool) {
	if is32 {
		s.U32Min, s.U32Max, s.S32Min, s.S32Max = uint32(w.umin), uint32(w.umax), int32(w.smin), int32(w.smax)
		s.Var = s.Var.WithSubreg(w.t)
	} else {
		s.UMin, s.UMax, s.SMin, s.SMax, s.Var = w.umin, w.umax, w.smin, w.smax, w.t
	}
	if !s.Empty() {
		s.sync()
	}
}

func (w view) empty() bool { return w.umin > w.umax || w.smin > w.smax || w.t.Value&w.t.Mask != 0 }

// refineScalars narrows two scalars by "d op s" and reports feasibility.
func refineScalars(d, s *Scalar, op asm.JumpOp, is32 bool) bool {
	a, b := viewOf(d, is32), viewOf(s, is32)
	umaxAll, smin, smax := uint64(math.MaxUint64), int64(math.MinInt64), int64(math.MaxInt64)
	if is32 {
		umaxAll, smin, smax = math.MaxUint32, math.MinInt32, math.MaxInt32
	}
	switch op {
	case asm.JEq:
		a.umin, a.umax = max(a.umin, b.umin), min(a.umax, b.umax)
		a.smin, a.smax = max(a.smin, b.smin), min(a.smax, b.smax)
		t, ok := a.t.Intersect(b.t)
		if !ok {
			return false
		}
		a.t = t
		b = a
	case asm.JNE:
		if b.t.IsConst() && a.t.IsConst() && a.t.Value == b.t.Value {
			return false
		}
		neAdjust(&a, b, is32)
		neAdjust(&b, a, is32)
	case asm.JGT, asm.JGE, asm.JLT, asm.JLE:
		if op == asm.JLT || op == asm.JLE {
			a, b = b, a
		}
		strict := uint64(0)
		if op == asm.JGT || op == asm.JLT {
			strict = 1
		}
		// a > b (or >=)
		if strict == 1 && (b.umin == umaxAll || a.umax == 0) {
			return false
		}
		a.umin = max(a.umin, b.umin+strict)
		b.umax = min(b.umax, a.umax-strict)
		if op == asm.JLT || op == asm.JLE {
			a, b = b, a
		}
	case asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE:
		if op == asm.JSLT || op == asm.JSLE {
			a, b = b, a
		}
		strict := int64(0)
		if op == asm.JSGT || op == asm.JSLT {
			strict = 1
		}
		if strict == 1 && (b.smin == smax || a.smax == smin) {
			return false
		}
		a.smin = max(a.smin, b.smin+strict)
		b.smax = min(b.smax, a.smax-strict)
		if op == asm.JSLT || op == asm.JSLE {
			a, b = b, a
		}
	case asm.JSet:
		if b.t.IsConst() {
			c := b.t.Value
			if (a.t.Value|a.t.Mask)&c == 0 {
				return false
			}
			if c&(c-1) == 0 { // one bit: it is set
				a.t.Value |= c
				a.t.Mask &^= c
			}
		}
	case jNSet:
		if b.t.IsConst() {
			c := b.t.Value
			if a.t.Value&c != 0 {
				return false
			}
			a.t.Mask &^= c
		}
	}
	if a.empty() || b.empty() {
		return false
	}
	a.apply(d, is32)
	b.apply(s, is32)
	return !d.Empty() && !s.Empty()
}

// neAdjust removes a constant from the ends of a range.
func neAdjust(a *view, b view, is32 bool) {
	if !b.t.IsConst() {
		return
	}
	c := b.t.Value
	sc := int64(c)
	if is32 {
		sc = int64(int32(uint32(c)))
	}
	if a.umin == c && a.umin < a.umax {
		a.umin++
	} else if a.umax == c && a.umin < a.umax {
		a.umax--
	}
	if a.smin == sc && a.smin < a.smax {
		a.smin++
	} else if a.smax == sc && a.smin < a.smax {
		a.smax--
	}
}
