package isa

// This file gives a register allocator working on finished instructions
// what it needs: which fields of an instruction name a context-relative
// GPR, in which bank, read or written (GPRs), and how to name another
// register of the same bank there (SetGPR) or write one bank where a
// destination wrote both (NarrowDest). Renaming never moves an operand to
// another field, so an instruction's two register sources stay in the A
// and B fields they were placed in.

// Field says which operand field of an instruction a GPR sits in.
type Field uint8

const (
	FieldA   Field = iota // the raw A field (bank A for GPRs)
	FieldB                // the raw B field (bank B)
	FieldDst              // the destination field of alu, alu_shf, mul_step
)

// GPRRef is one relative GPR an instruction names.
type GPRRef struct {
	Field Field
	Bank  Bank // BankBoth: a gpr_wrboth destination writes A and B
	Num   int
	Read  bool
	Write bool
}

// GPRs lists the relative GPRs in in's operand fields (4-context
// numbering). ok is false when the instruction uses registers in a way the
// list cannot say (absolute GPRs, mul_step results in a swapped field,
// predicate_cc, undecodable words): a caller must then leave its registers
// alone.
func GPRs(in Instr) (refs []GPRRef, ok bool) { return AppendGPRs(nil, in) }

// AppendGPRs is GPRs appending to refs (a caller walking many words
// reuses one slice).
func AppendGPRs(refs []GPRRef, in Instr) ([]GPRRef, bool) {
	if predicated(in) {
		return nil, false
	}
	l := gprList{refs: refs, ok: true}
	switch i := in.(type) {
	case ALUInstr:
		l.alu(i)
	case ShfInstr:
		l.shf(i)
	case LdFieldInstr:
		l.ldField(i)
	case ImmedInstr:
		l.immed(i)
	case CSRInstr:
		if i.Write {
			l.src10(i.A, FieldA, BankA)
			l.src10(i.B, FieldB, BankB)
		}
	case BrByteInstr:
		l.src8(i.A, FieldA, BankA)
		l.src8(i.B, FieldB, BankB)
	case BrBitInstr:
		l.src8(i.A, FieldA, BankA)
		l.src8(i.B, FieldB, BankB)
	case JumpInstr:
		l.src10(i.A, FieldA, BankA)
		l.src10(i.B, FieldB, BankB)
	case MulInstr:
		l.mul(i)
	case CmdInstr:
		l.src8(i.A, FieldA, BankA)
		l.src8(i.B, FieldB, BankB)
	case BranchInstr, CtxArbInstr:
	default:
		return nil, false
	}
	if !l.ok {
		return nil, false
	}
	return l.refs, true
}

// gprList collects one instruction's GPR references; ok turns false at
// anything they cannot say.
type gprList struct {
	refs []GPRRef
	ok   bool
}

// src10 and src8 add a field read as a source, if it holds a relative
// GPR (an absolute one is not modelled).
func (l *gprList) src10(f Opnd10, fl Field, b Bank) {
	if u := uint16(f) & 0x3ff; u>>6 == 0 {
		l.refs = append(l.refs, GPRRef{Field: fl, Bank: b, Num: int(u & 0x1f), Read: true})
	} else if u>>7 == 1 {
		l.ok = false
	}
}

func (l *gprList) src8(f Opnd8, fl Field, b Bank) {
	if f>>5 == 0 {
		l.refs = append(l.refs, GPRRef{Field: fl, Bank: b, Num: int(f & 0x1f), Read: true})
	}
}

// dst10 adds an unrestricted destination field (bank by DstB, both with
// gpr_wrboth).
func (l *gprList) dst10(f Opnd10, fl Field, dstB bool, flags Flags) {
	if u := uint16(f) & 0x3ff; u>>6 == 0 {
		l.refs = append(l.refs, GPRRef{Field: fl, Bank: dstBankOf(dstB, flags), Num: int(u & 0x1f), Write: true})
	} else if u>>7 == 1 {
		l.ok = false
	}
}

func dstBankOf(dstB bool, f Flags) Bank {
	switch {
	case f&FlagWrBoth != 0:
		return BankBoth
	case dstB:
		return BankB
	}
	return BankA
}

// alu: B and ~B read only their right operand.
func (l *gprList) alu(i ALUInstr) {
	switch i.Op {
	case OpB, OpNotB:
		// The left operand (the A field unless swapped) is ignored.
		if i.Swap {
			l.src10(i.A, FieldA, BankA)
		} else {
			l.src10(i.B, FieldB, BankB)
		}
	case OpAdd, OpAdd16, OpAdd8, OpAnd, OpNotAAndB, OpAndNotB, OpOr, OpSub, OpXor, OpBMinusA, OpAddCarry, OpSubCarry:
		l.src10(i.A, FieldA, BankA)
		l.src10(i.B, FieldB, BankB)
	default:
		// CAM, CRC, pop_count, ffs: operands of their own.
		l.ok = false
		return
	}
	l.dst10(i.Dst, FieldDst, i.DstB, i.Flags)
}

func (l *gprList) shf(i ShfInstr) {
	switch {
	case i.Op == ShfByteAlign:
		l.ok = false
		return
	case i.Op == ShfAsr || i.Op < 2 && i.SC != ShiftDbl:
		// asr, B and ~B ignore the left operand.
		if i.Swap {
			l.src8(i.A, FieldA, BankA)
		} else {
			l.src8(i.B, FieldB, BankB)
		}
	default:
		l.src8(i.A, FieldA, BankA)
		l.src8(i.B, FieldB, BankB)
	}
	if i.Dst>>5 == 0 {
		l.refs = append(l.refs, GPRRef{Field: FieldDst, Bank: dstBankOf(i.DstB, i.Flags), Num: int(i.Dst & 0x1f), Write: true})
	}
}

// ldField: the A field (B if swapped) is the destination and, unless
// ld_field_w_clr, the source of the bytes it keeps.
func (l *gprList) ldField(i LdFieldInstr) {
	df, db, sf, sb := FieldA, BankA, FieldB, BankB
	dst, src := i.A, i.B
	if i.Swap {
		df, db, sf, sb = FieldB, BankB, FieldA, BankA
		dst, src = i.B, i.A
	}
	l.src8(src, sf, sb)
	if dst>>5 != 0 {
		return
	}
	if !i.Clear {
		l.refs = append(l.refs, GPRRef{Field: df, Bank: db, Num: int(dst & 0x1f), Read: true})
	}
	wb := db
	if i.Flags&FlagWrBoth != 0 {
		wb = BankBoth
	}
	l.refs = append(l.refs, GPRRef{Field: df, Bank: wb, Num: int(dst & 0x1f), Write: true})
}

// immed: one field is the destination (its bank), the other the
// constant's low byte; immed_w / immed_b keep the rest of the register.
func (l *gprList) immed(i ImmedInstr) {
	if i.A.IsImm() && i.B.IsImm() {
		return
	}
	if !i.A.IsImm() && !i.B.IsImm() {
		// No field holds the constant's low byte: which one is the
		// destination is not settled (binutils and Dest differ).
		l.ok = false
		return
	}
	f, fl, b := i.A, FieldA, BankA
	if i.A.IsImm() {
		f, fl, b = i.B, FieldB, BankB
	}
	u := uint16(f) & 0x3ff
	if u>>6 != 0 {
		l.ok = l.ok && u>>7 != 1
		return
	}
	if i.Width != WidthAll {
		l.refs = append(l.refs, GPRRef{Field: fl, Bank: b, Num: int(u & 0x1f), Read: true})
	}
	if i.Flags&FlagWrBoth != 0 {
		b = BankBoth
	}
	l.refs = append(l.refs, GPRRef{Field: fl, Bank: b, Num: int(u & 0x1f), Write: true})
}

// mul: start and step phases read both fields; last and last2 write the
// A field (a swapped one is not modelled).
func (l *gprList) mul(i MulInstr) {
	switch {
	case i.Step < MulLast:
		l.src10(i.A, FieldA, BankA)
		l.src10(i.B, FieldB, BankB)
	case i.Swap:
		l.ok = false
	default:
		l.dst10(i.A, FieldA, i.DstB, i.Flags)
	}
}

// predicated reports a write under predicate_cc (bit 44): it happens or
// not by the condition codes (nfp-isa.md §2.0, semantics [U]), so the
// register's old value may survive it, which no list of reads and writes
// says.
func predicated(in Instr) bool {
	var f Flags
	switch i := in.(type) {
	case ALUInstr:
		f = i.Flags
	case ShfInstr:
		f = i.Flags
	case LdFieldInstr:
		f = i.Flags
	case ImmedInstr:
		f = i.Flags
	case MulInstr:
		f = i.Flags
	}
	return f&FlagPredCC != 0
}

// SetGPR names register num (0..31, same bank) in field fl of in, which
// must hold a relative GPR (one GPRs listed).
func SetGPR(in Instr, fl Field, num int) Instr {
	n10 := func(a, b, dst *Opnd10) { *pickField(fl, a, b, dst) = Opnd10(num & 0x1f) }
	n8 := func(a, b, dst *Opnd8) { *pickField(fl, a, b, dst) = Opnd8(num & 0x1f) }
	switch i := in.(type) {
	case ALUInstr:
		n10(&i.A, &i.B, &i.Dst)
		return i
	case ShfInstr:
		n8(&i.A, &i.B, &i.Dst)
		return i
	case LdFieldInstr:
		n8(&i.A, &i.B, nil)
		return i
	case ImmedInstr:
		n10(&i.A, &i.B, nil)
		return i
	case CSRInstr:
		n10(&i.A, &i.B, nil)
		return i
	case BrByteInstr:
		n8(&i.A, &i.B, nil)
		return i
	case BrBitInstr:
		n8(&i.A, &i.B, nil)
		return i
	case JumpInstr:
		n10(&i.A, &i.B, nil)
		return i
	case MulInstr:
		n10(&i.A, &i.B, nil)
		return i
	case CmdInstr:
		n8(&i.A, &i.B, nil)
		return i
	}
	return in
}

// pickField is the field fl names among an instruction's A, B and
// destination fields (formats without a destination field: the B field
// for anything but FieldA).
func pickField[T any](fl Field, a, b, dst *T) *T {
	switch {
	case fl == FieldA:
		return a
	case fl == FieldDst && dst != nil:
		return dst
	}
	return b
}

// NarrowDest makes a gpr_wrboth destination write bank b only (the other
// bank's copy is never read). ok is false where the format cannot: an
// ld_field's destination field is also its source, so only that field's
// bank can stay.
func NarrowDest(in Instr, b Bank) (Instr, bool) {
	switch i := in.(type) {
	case ALUInstr:
		i.Flags &^= FlagWrBoth
		i.DstB = b == BankB
		return i, true
	case ShfInstr:
		i.Flags &^= FlagWrBoth
		i.DstB = b == BankB
		return i, true
	case MulInstr:
		i.Flags &^= FlagWrBoth
		i.DstB = b == BankB
		return i, true
	case ImmedInstr:
		// The destination's field is its bank: move it to the other
		// field (the constant's low byte takes its place).
		i.Flags &^= FlagWrBoth
		if inB := i.A.IsImm(); inB != (b == BankB) {
			i.A, i.B = i.B, i.A
		}
		return i, true
	case LdFieldInstr:
		if (b == BankB) != i.Swap {
			return in, false
		}
		i.Flags &^= FlagWrBoth
		return i, true
	}
	return in, false
}
