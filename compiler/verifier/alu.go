package verifier

import (
	"math"

	"github.com/cilium/ebpf/asm"
)

// maxVarOff bounds pointer offsets (BPF_MAX_VAR_OFF): beyond it pointer
// arithmetic could wrap.
const maxVarOff = 1 << 29

// alu interprets ALU and ALU64 instructions.
func (v *vm) alu(st *State, pc int, ins *asm.Instruction) error {
	op := ins.OpCode.ALUOp()
	is32 := ins.OpCode.Class() == asm.ALUClass
	if msg := aluReserved(ins, op, is32); msg != "" {
		return v.errorf(pc, "%s uses reserved fields", msg)
	}
	fr := st.cur()
	if ins.Dst == asm.R10 {
		return v.errorf(pc, "frame pointer is read only")
	}
	var src Reg
	if ins.OpCode.Source() == asm.RegSource && op != asm.Neg && op != asm.Swap {
		s, err := v.readReg(st, pc, ins.Src)
		if err != nil {
			return err
		}
		src = *s
	} else {
		c := uint64(ins.Constant) // the immediate, sign-extended to 64 bits
		if is32 {
			c = uint64(uint32(ins.Constant))
		}
		src = constReg(c)
	}
	isMov := op == asm.Mov || op == asm.MovSX8 || op == asm.MovSX16 || op == asm.MovSX32
	var dst Reg
	if !isMov {
		d, err := v.readReg(st, pc, ins.Dst)
		if err != nil {
			return err
		}
		dst = *d
	}
	if ins.OpCode.Source() == asm.ImmSource {
		if err := v.checkALUImm(pc, op, is32, ins.Constant); err != nil {
			return err
		}
	}
	switch op {
	case asm.Mov:
		if is32 {
			if src.Kind != ScalarKind {
				if v.opts.Unprivileged {
					return v.errorf(pc, "R%d partial copy of pointer", ins.Src)
				}
				// Root's allow_ptr_leaks: the low half of an address is
				// some number.
				return v.writeReg(st, pc, ins.Dst, scalarReg(Unknown().zext32()))
			}
			return v.writeReg(st, pc, ins.Dst, scalarReg(src.Value.zext32()))
		}
		if src.Kind == ScalarKind && ins.OpCode.Source() == asm.RegSource && !src.Value.IsConst() {
			// Link the copies so that a bound learnt on one holds for both.
			if src.ID == 0 {
				src.ID = v.newID()
				fr.regs[ins.Src].ID = src.ID
			}
		}
		return v.writeReg(st, pc, ins.Dst, src)
	case asm.MovSX8, asm.MovSX16, asm.MovSX32:
		if src.Kind != ScalarKind {
			return v.errorf(pc, "R%d sign-extension of pointer", ins.Src)
		}
		size := map[asm.ALUOp]uint8{asm.MovSX8: 1, asm.MovSX16: 2, asm.MovSX32: 4}[op]
		r := src.Value.sext(size)
		if is32 {
			r = r.zext32()
		}
		return v.writeReg(st, pc, ins.Dst, scalarReg(r))
	case asm.Swap:
		if dst.Kind != ScalarKind {
			return v.errorf(pc, "R%d pointer arithmetic with byte swap prohibited", ins.Dst)
		}
		size := int(ins.Constant)
		if size != 16 && size != 32 && size != 64 {
			return v.errorf(pc, "BPF_END uses reserved fields")
		}
		swap := !is32 || ins.OpCode.Endianness() == asm.BE
		return v.writeReg(st, pc, ins.Dst, scalarReg(byteSwap(dst.Value, size, swap)))
	}
	if dst.Kind == ScalarKind && src.Kind == ScalarKind {
		if v.target != nil {
			if err := v.target.checkALU(v, pc, ins, dst.Value, src.Value); err != nil {
				return err
			}
		}
		return v.writeReg(st, pc, ins.Dst, scalarReg(scalarALU(op, dst.Value, src.Value, is32)))
	}
	// At least one operand is a pointer.
	if dst.Kind != ScalarKind && src.Kind != ScalarKind && op == asm.Sub && v.opts.Unprivileged {
		return v.errorf(pc, "R%d pointer -= pointer prohibited", ins.Dst)
	}
	if is32 {
		if op == asm.Sub && dst.Kind != ScalarKind && src.Kind != ScalarKind && subtractable(&dst, &src) {
			// Root subtracts pointers in 32 bits too (cilium's
			// "w1 -= w3" of two packet pointers): the low half of the
			// difference.
			return v.writeReg(st, pc, ins.Dst, scalarReg(v.ptrDiff(&dst, &src).Value.zext32()))
		}
		return v.errorf(pc, "R%d 32-bit pointer arithmetic prohibited", ins.Dst)
	}
	if v.opts.Unprivileged && ins.OpCode.Source() == asm.RegSource && (op == asm.Add || op == asm.Sub) {
		// Without bypass_spec_v1 the kernel masks pointer arithmetic
		// against speculation, which it can do for stack and map value
		// pointers only (retrieve_ptr_limit).
		p, pr := dst, ins.Dst
		if dst.Kind == ScalarKind {
			p, pr = src, ins.Src
		}
		if p.Kind != Stack && p.Kind != MapValue {
			return v.errorf(pc, "R%d has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root", pr)
		}
	}
	// The scalar's value becomes part of the pointer: what it may be
	// decides every access through it.
	if dst.Kind == ScalarKind {
		v.demandReg(ins.Dst)
	} else if src.Kind == ScalarKind && ins.OpCode.Source() == asm.RegSource {
		v.demandReg(ins.Src)
	}
	if dst.Kind == ScalarKind { // scalar + pointer
		if op != asm.Add {
			if op == asm.Sub {
				return v.errorf(pc, "R%d tried to subtract pointer from scalar", ins.Dst)
			}
			return v.errorf(pc, "R%d pointer arithmetic with %s operator prohibited", ins.Src, aluSyms[op])
		}
		r, err := v.ptrArith(pc, ins.Src, src, dst.Value, false)
		if err != nil {
			return err
		}
		return v.writeReg(st, pc, ins.Dst, r)
	}
	if src.Kind != ScalarKind { // pointer - pointer
		if op != asm.Sub {
			return v.errorf(pc, "R%d pointer arithmetic with %s operator prohibited", ins.Dst, aluSyms[op])
		}
		if !subtractable(&dst, &src) {
			// Differences of map values or contexts would leak addresses.
			return v.errorf(pc, "R%d pointer -= pointer prohibited", ins.Dst)
		}
		if dst.Kind == Stack && (!inFrame(&dst) || !inFrame(&src)) {
			return v.errorf(pc, "R%d pointer -= pointer of stack pointers outside the frame", ins.Dst)
		}
		return v.writeReg(st, pc, ins.Dst, v.ptrDiff(&dst, &src))
	}
	if op != asm.Add && op != asm.Sub {
		return v.errorf(pc, "R%d pointer arithmetic with %s operator prohibited", ins.Dst, aluSyms[op])
	}
	r, err := v.ptrArith(pc, ins.Dst, dst, src.Value, op == asm.Sub)
	if err != nil {
		return err
	}
	return v.writeReg(st, pc, ins.Dst, r)
}

// aluReserved names the instruction class when an ALU instruction sets a
// field its form does not use, as the kernel's check_alu_op refuses: the
// source register of an immediate form, the immediate of a register form,
// an offset other than the ones that select signed division (decoded into
// SDiv/SMod) or sign-extending moves (MovSX*, register form only, 8 and 16
// bits in 32-bit moves).
func aluReserved(ins *asm.Instruction, op asm.ALUOp, is32 bool) string {
	k := ins.OpCode.Source() == asm.ImmSource
	switch op {
	case asm.Neg:
		if !k || ins.Src != 0 || ins.Offset != 0 || ins.Constant != 0 {
			return "BPF_NEG"
		}
	case asm.Swap:
		if ins.Src != 0 || ins.Offset != 0 || !is32 && ins.OpCode.Endianness() != asm.LE {
			return "BPF_END"
		}
	case asm.Mov, asm.MovSX8, asm.MovSX16, asm.MovSX32:
		if k && (ins.Src != 0 || ins.Offset != 0 || op != asm.Mov) ||
			!k && (ins.Constant != 0 || ins.Offset != 0 || is32 && op == asm.MovSX32) {
			return "BPF_MOV"
		}
	default:
		if k && (ins.Src != 0 || ins.Offset != 0) || !k && (ins.Constant != 0 || ins.Offset != 0) {
			return "BPF_ALU"
		}
	}
	return ""
}

// checkALUImm rejects what the kernel's check_alu_op rejects in an
// immediate operand: a constant divisor of zero (a divisor in a register
// may be zero at run time, which is defined) and a constant shift count
// outside the operand's width (a count in a register is masked).
func (v *vm) checkALUImm(pc int, op asm.ALUOp, is32 bool, imm int64) error {
	switch op {
	case asm.Div, asm.Mod, asm.SDiv, asm.SMod:
		if imm == 0 {
			return v.errorf(pc, "div by zero")
		}
	case asm.LSh, asm.RSh, asm.ArSh:
		width := int64(64)
		if is32 {
			width = 32
		}
		if imm < 0 || imm >= width {
			return v.errorf(pc, "invalid shift %d", imm)
		}
	}
	return nil
}

// ptrArith adds (or subtracts) a scalar to a pointer, the kernel's
// adjust_ptr_min_max_vals: constants move Off, variables move Value and,
// for packet pointers, start a new identity with no proven range.
func (v *vm) ptrArith(pc int, r asm.Register, p Reg, s Scalar, sub bool) (Reg, error) {
	switch p.Kind {
	case MapValueOrNull:
		return Reg{}, v.errorf(pc, "R%d pointer arithmetic on map_value_or_null prohibited, null-check it first", r)
	case SockOrNull, Sock:
		return Reg{}, v.errorf(pc, "R%d pointer arithmetic on %s prohibited", r, p.Kind)
	case Stack:
		if sub {
			// Even of a constant: compilers add negative offsets instead.
			return Reg{}, v.errorf(pc, "R%d subtraction from stack pointer prohibited", r)
		}
	case MapPtr, PacketEnd:
		if p.Kind == MapPtr && !sub && s.IsConst() && s.ConstValue() == 0 {
			// The kernel lets "map += 0" through: it changes nothing.
			return p, nil
		}
		return Reg{}, v.errorf(pc, "R%d pointer arithmetic on %s prohibited", r, p.Kind)
	}
	if s.IsConst() {
		c := int64(s.ConstValue())
		if sub {
			c = -c
		}
		off := int64(p.Off) + c
		if c <= -maxVarOff || c >= maxVarOff || off <= -maxVarOff || off >= maxVarOff {
			return Reg{}, v.errorf(pc, "R%d value %d makes %s pointer be out of bounds", r, c, p.Kind)
		}
		p.Off = int32(off)
		return p, nil
	}
	if p.Kind == Ctx {
		return Reg{}, v.errorf(pc, "R%d variable ctx access prohibited", r)
	}
	if s.SMin == math.MinInt64 && !sub || s.SMax == math.MaxInt64 && sub {
		return Reg{}, v.errorf(pc, "R%d math between %s pointer and register with unbounded min value is not allowed", r, p.Kind)
	}
	if sub {
		p.Value = scalarALU64(asm.Sub, p.Value, s)
	} else {
		p.Value = scalarALU64(asm.Add, p.Value, s)
	}
	p.Value = canonicalOffset(p.Value)
	if p.Kind == Packet || p.Kind == PacketMeta {
		p.ID = v.newID()
		p.Range = 0
	}
	return p, nil
}

// canonicalOffset keeps a pointer's variable offset meaningful: a range
// that wrapped is unknown.
func canonicalOffset(s Scalar) Scalar {
	if s.Empty() {
		return Unknown()
	}
	return s
}

// ptrDiff is pointer − pointer as the verification computes it. When
// the run forgets what the kernel forgets, a difference exact in
// exactDiff is an unknown number, as the kernel (root's allow_ptr_leaks)
// makes every pointer difference: exact offsets computed from it
// (cilium's L4 offset after the unrolled IPv6 extension-header loop, one
// constant per iteration, made precise by the packet access they reach)
// would keep apart states the kernel's unknown difference lets prune one
// another. A rejection after such a loss is checked again (Verify).
func (v *vm) ptrDiff(a, b *Reg) Reg {
	d := exactDiff(a, b)
	if v.forgets() && !d.EndDiff && d.Value.IsConst() {
		v.coarsened = true
		return unknownReg()
	}
	return d
}

// exactDiff is pointer − pointer: a number, exact when both share a base.
func exactDiff(a, b *Reg) Reg {
	if a.Kind == PacketEnd && b.Kind == Packet && b.ID == 0 {
		r := unknownReg()
		r.EndDiff, r.EndOff = true, b.Off
		if b.Off <= 0 {
			// data + off ≤ data ≤ data_end: the difference is not negative.
			r.Value = SRange(0, math.MaxInt64)
		}
		return r
	}
	if a.Kind == b.Kind && a.ID == b.ID && a.Map == b.Map && a.Frame == b.Frame &&
		a.Value.IsConst() && b.Value.IsConst() && a.Kind != PacketEnd {
		d := int64(a.Off) - int64(b.Off) + int64(a.Value.ConstValue()-b.Value.ConstValue())
		return constReg(uint64(d))
	}
	return unknownReg()
}

// region groups kinds that point into the same memory.
func region(k Kind) Kind {
	if k == PacketEnd || k == PacketMeta {
		return Packet
	}
	return k
}

// inFrame reports whether a stack pointer surely points into its frame.
func inFrame(r *Reg) bool {
	lo, hi := int64(r.Off)+r.Value.SMin, int64(r.Off)+r.Value.SMax
	return lo >= -StackSize && hi <= 0
}

// subtractable reports whether the difference of two pointers is a number
// that leaks no address: both in the packet (or metadata), or both in one
// stack frame.
func subtractable(dst, src *Reg) bool {
	if region(dst.Kind) != region(src.Kind) {
		return false
	}
	if dst.Kind == Stack {
		return dst.Frame == src.Frame
	}
	return region(dst.Kind) == Packet
}
