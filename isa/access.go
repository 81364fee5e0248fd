package isa

// Typed views of decoded instructions, for emulators and checkers: each
// resolves the swap bit, the bank bits, gpr_wrboth, the LM-extension bits
// and the imm8-MSB bit into Operands. A destination field holding a
// constant reads as None ("--").

// dest makes a destination operand: GPRs get the bank bit, or BankBoth
// with gpr_wrboth.
func dest(o Operand, dstB bool, f Flags) Operand {
	if o.Kind == KImm {
		return None
	}
	if o.Kind == KGPR || o.Kind == KAbsGPR {
		o.Bank = dstBank(dstB)
		if f&FlagWrBoth != 0 {
			o.Bank = BankBoth
		}
	}
	return o
}

func sw(swap bool, a, b Bank) (Bank, Bank) {
	if swap {
		return b, a
	}
	return a, b
}

// Dest is the destination of an alu instruction.
func (i ALUInstr) Dest(m Mode) Operand {
	return dest(i.Dst.Operand(BankA, i.Flags&FlagDstLMExt != 0, m), i.DstB, i.Flags)
}

// Sources are the left and right operands (the instruction computes
// left op right), with the swap bit applied.
func (i ALUInstr) Sources(m Mode) (left, right Operand) {
	lm := i.Flags&FlagSrcLMExt != 0
	a := i.A.Operand(BankA, lm, m)
	b := i.B.Operand(BankB, lm, m)
	if i.Swap {
		return b, a
	}
	return a, b
}

// Dest is the destination of a shift-format instruction.
func (i ShfInstr) Dest(m Mode) Operand {
	return dest(i.Dst.Operand(BankA, i.Flags&FlagDstLMExt != 0, i.I8, m), i.DstB, i.Flags)
}

// Sources are the left operand and the shifted (right) operand.
func (i ShfInstr) Sources(m Mode) (left, right Operand) {
	lm := i.Flags&FlagSrcLMExt != 0
	a := i.A.Operand(BankA, lm, i.I8, m)
	b := i.B.Operand(BankB, lm, i.I8, m)
	if i.Swap {
		return b, a
	}
	return a, b
}

// Amount is the real shift amount (left shifts undo the 32-n encoding) and
// whether it is indirect (taken from the previous ALU instruction).
func (i ShfInstr) Amount() (n int, indirect bool) {
	if i.Shift == 0 {
		return 0, i.SC != ShiftRotR
	}
	if i.SC == ShiftL {
		return 32 - int(i.Shift), false
	}
	return int(i.Shift), false
}

// Operands are the destination (also the source of kept bytes) and the
// source of an ld_field.
func (i LdFieldInstr) Operands(m Mode) (dst, src Operand) {
	db, sb := sw(i.Swap, BankA, BankB)
	fd, fs := i.A, i.B
	if i.Swap {
		fd, fs = fs, fd
	}
	dst = fd.Operand(db, i.Flags&FlagDstLMExt != 0, i.I8, m)
	if i.Flags&FlagWrBoth != 0 && (dst.Kind == KGPR || dst.Kind == KAbsGPR) {
		dst.Bank = BankBoth
	}
	return dst, fs.Operand(sb, i.Flags&FlagSrcLMExt != 0, i.I8, m)
}

// Amount is as ShfInstr.Amount.
func (i LdFieldInstr) Amount() (n int, indirect bool) {
	return ShfInstr{SC: i.SC, Shift: i.Shift}.Amount()
}

// Dest is the destination of an immed (None when both fields are
// constants).
func (i ImmedInstr) Dest(m Mode) Operand {
	lm := i.Flags&FlagDstLMExt != 0
	var o Operand
	switch {
	case i.A.IsImm() && i.B.IsImm():
		return None
	case i.A.IsImm():
		o = i.B.Operand(BankB, lm, m)
	default:
		o = i.A.Operand(BankA, lm, m)
	}
	if i.Flags&FlagWrBoth != 0 && (o.Kind == KGPR || o.Kind == KAbsGPR) {
		o.Bank = BankBoth
	}
	return o
}

// Imm16 is the 16-bit immediate (before inversion and shifting).
func (i ImmedInstr) Imm16() uint16 {
	if i.B.IsImm() {
		return uint16(i.ImmHi)<<8 | uint16(i.B.ImmValue())
	}
	return uint16(i.ImmHi)<<8 | uint16(i.A&0xff)
}

// Source is the value written by local_csr_wr (the A field unless only
// the B field holds a register).
func (i CSRInstr) Source(m Mode) Operand {
	lm := i.Flags&FlagSrcLMExt != 0
	if i.A.IsImm() && !i.B.IsImm() {
		return i.B.Operand(BankB, lm, m)
	}
	return i.A.Operand(BankA, lm, m)
}

// Reg is the register of a jump/rtn and the immediate added to it.
func (i JumpInstr) Reg(m Mode) (Operand, uint32) {
	f, bank, imm := i.Target()
	if !i.A.IsImm() && !i.B.IsImm() {
		imm = uint32(i.ImmHi) << 8 // no constant field: treat the low byte as 0
	}
	return f.Operand(bank, i.Flags&FlagSrcLMExt != 0, m), imm
}

// Reg is the tested register of br_bset/br_bclr.
func (i BrBitInstr) Reg(m Mode) Operand {
	f, bank, _ := i.Bit()
	return f.Operand(bank, i.Flags&FlagSrcLMExt != 0, false, m)
}

// Operands are the register and the constant compared by br=byte/br!=byte.
func (i BrByteInstr) Operands(m Mode) (reg, value Operand) {
	lm := i.Flags&FlagSrcLMExt != 0
	a := i.A.Operand(BankA, lm, i.I8, m)
	b := i.B.Operand(BankB, lm, i.I8, m)
	if i.A.IsImm() {
		return b, a
	}
	return a, b
}

// Operands of mul_step: for start/step phases the two sources (after the
// swap bit), for last/last2 the destination (and None).
func (i MulInstr) Operands(m Mode) (x, y Operand) {
	a, b := i.A, i.B
	ba, bb := sw(i.Swap, BankA, BankB)
	if i.Swap {
		a, b = b, a
	}
	if i.Step >= MulLast {
		return dest(a.Operand(BankA, i.Flags&FlagDstLMExt != 0, m), i.DstB, i.Flags), None
	}
	lm := i.Flags&FlagSrcLMExt != 0
	return a.Operand(ba, lm, m), b.Operand(bb, lm, m)
}

// Operands are the A-field and B-field address operands of a command.
func (i CmdInstr) Operands(m Mode) (a, b Operand) {
	return i.A.Operand(BankA, false, false, m), i.B.Operand(BankB, false, false, m)
}

// Count is the length field plus one: bytes for 8-bit commands, 32-bit
// words for 32-bit ones.
func (i CmdInstr) Count() int { return int(i.Cnt) + 1 }

// Loaded is the 32-bit value a full-width immed writes (nfp-isa.md §2.4):
// the 16-bit immediate shifted left by Shift bytes, inverted if Inv. For
// immed_w/immed_b it is the lane value before merging.
func (i ImmedInstr) Loaded() uint32 {
	v := uint32(i.Imm16())
	if i.Width == WidthByte {
		v &= 0xff
	}
	v <<= 8 * uint32(i.Shift&3)
	if i.Inv {
		v = ^v
	}
	return v
}
