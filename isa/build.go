package isa

import "fmt"

// This file holds the constructors a compiler uses. Each takes typed
// Operands, places them in fields the way the Linux JIT does (so its output
// is bit-identical to the kernel's for the same request) and records any
// reason the hardware cannot do it in the instruction; Encode reports it.
// Constructors encode register numbers for 4-context mode.

// srcType groups operands that share a read port: two sources of one group
// cannot be issued together.
func srcType(o Operand) string {
	switch o.Kind {
	case KGPR, KAbsGPR:
		switch o.Bank {
		case BankA:
			return "bank A GPR"
		case BankB:
			return "bank B GPR"
		}
		return "" // a register mirrored in both banks fits either field
	case KXfer, KXferIndexed:
		return "transfer register"
	case KNN, KNNIndexed:
		return "next-neighbour register"
	case KLM:
		return "local-memory"
	case KImm:
		return "immediate"
	}
	return ""
}

// placeSources decides which of the left/right sources goes in the A field.
// The kernel's rule: swap if the left is a bank-B register or the right a
// bank-A register.
func placeSources(l, r Operand) (a, b Operand, swap bool, err error) {
	if tl, tr := srcType(l), srcType(r); tl != "" && tl == tr {
		return l, r, false, fmt.Errorf("two %s sources (%v, %v): one must be in the A field and one in the B field", tl, l, r)
	}
	swap = l.isBank(BankB) || r.isBank(BankA)
	a, b = l, r
	if swap {
		a, b = r, l
	}
	if a.isBank(BankB) || b.isBank(BankA) {
		return l, r, false, fmt.Errorf("sources %v and %v cannot be placed in the A and B fields", l, r)
	}
	return a, b, swap, nil
}

func src10(o Operand) (Opnd10, bool, error) {
	if o.Kind == KNone {
		return 0, false, nil
	}
	return encode10(o)
}

func src8(o Operand, hasI8 bool) (Opnd8, bool, bool, error) {
	if o.Kind == KNone {
		return 0, false, false, nil
	}
	return encode8(o, hasI8)
}

// dstBits returns the destination's bank bit and gpr_wrboth.
func dstBits(o Operand) (dstB bool, fl Flags, err error) {
	switch o.Kind {
	case KImm:
		return false, 0, fmt.Errorf("an immediate cannot be a destination")
	case KGPR, KAbsGPR:
		switch o.Bank {
		case BankB:
			return true, 0, nil
		case BankBoth:
			return false, FlagWrBoth, nil
		}
	}
	return false, 0, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ALU builds alu[dst, a, op, b]: dst = a op b. Use None for an unused a
// (ops B and ~B) and for no destination.
func ALU(dst, a Operand, op ALUOp, b Operand) ALUInstr {
	in := ALUInstr{Op: op}
	if int(op) >= 32 || aluOpNames[op] == "" {
		in.err = fmt.Errorf("ALU op 0x%x does not exist", uint8(op))
		return in
	}
	fa, fb, swap, err := placeSources(a, b)
	if err != nil {
		in.err = err
		return in
	}
	in.Swap = swap
	var e1, e2, e3, e4 error
	var lmA, lmB, lmD bool
	in.A, lmA, e1 = src10(fa)
	in.B, lmB, e2 = src10(fb)
	in.Dst, lmD, e3 = encode10(dst)
	in.DstB, in.Flags, e4 = dstBits(dst)
	in.err = firstErr(e4, e3, e1, e2)
	if lmA || lmB {
		in.Flags |= FlagSrcLMExt
	}
	if lmD {
		in.Flags |= FlagDstLMExt
	}
	return in
}

// Mov builds alu[dst, --, B, src].
func Mov(dst, src Operand) ALUInstr { return ALU(dst, None, OpB, src) }

// shiftField converts a shift amount to the field value for sc: left
// shifts store 32-n; n = 0 means "indirect" (amount from the previous ALU
// instruction's A operand) except for rotations.
func shiftField(sc ShiftCtl, n int) (uint8, error) {
	if n < 0 || n > 31 {
		return 0, fmt.Errorf("shift amount %d out of range 0..31", n)
	}
	if sc == ShiftL && n != 0 {
		return uint8(32 - n), nil
	}
	return uint8(n), nil
}

// Shf builds alu_shf[dst, a, op, b, shift]: dst = a op shift(b). Shift
// amount 0 with ShiftR/ShiftL/ShiftDbl is the indirect form. op ShfAsr gives
// asr[dst, b, >>n] and sc ShiftDbl gives dbl_shf[dst, a, b, >>n].
func Shf(dst, a Operand, op ShfOp, b Operand, sc ShiftCtl, n int) ShfInstr {
	in := ShfInstr{Op: op, SC: sc}
	if op > 7 || sc > 3 {
		in.err = fmt.Errorf("shift op %d / control %d out of range", op, sc)
		return in
	}
	fa, fb, swap, err := placeSources(a, b)
	if err != nil {
		in.err = err
		return in
	}
	in.Swap = swap
	var e [5]error
	var lmA, lmB, lmD, i8a, i8b, i8d bool
	in.A, lmA, i8a, e[0] = src8(fa, true)
	in.B, lmB, i8b, e[1] = src8(fb, true)
	in.Dst, lmD, i8d, e[2] = encode8(dst, true)
	in.DstB, in.Flags, e[3] = dstBits(dst)
	in.Shift, e[4] = shiftField(sc, n)
	in.I8 = i8a || i8b || i8d
	in.err = firstErr(e[3], e[2], e[0], e[1], e[4])
	if lmA || lmB {
		in.Flags |= FlagSrcLMExt
	}
	if lmD {
		in.Flags |= FlagDstLMExt
	}
	return in
}

// DblShf builds dbl_shf[dst, hi, lo, >>n] = low 32 bits of (hi:lo) >> n.
func DblShf(dst, hi, lo Operand, n int) ShfInstr { return Shf(dst, hi, ShfB, lo, ShiftDbl, n) }

// Asr builds asr[dst, src, >>n] (n = 0: indirect).
func Asr(dst, src Operand, n int) ShfInstr { return Shf(dst, None, ShfAsr, src, ShiftR, n) }

// LdField builds ld_field[dst, mask, src, shift] (ld_field_w_clr if clear):
// the bytes of shift(src) selected by mask replace those of dst. n is the
// real shift amount (left shifts are converted to the field's 32-n).
func LdField(dst Operand, mask uint8, src Operand, sc ShiftCtl, n int, clear bool) LdFieldInstr {
	in := LdFieldInstr{Mask: mask, SC: sc, Clear: clear}
	if mask > 0xf {
		in.err = fmt.Errorf("byte mask 0x%x out of range 0..0xf", mask)
		return in
	}
	if dst.Kind == KNone || dst.Kind == KImm {
		in.err = fmt.Errorf("ld_field needs a register destination, not %v", dst)
		return in
	}
	fa, fb, swap, err := placeSources(dst, src)
	if err != nil {
		in.err = err
		return in
	}
	in.Swap = swap
	var e [4]error
	var lmA, lmB, i8a, i8b bool
	in.A, lmA, i8a, e[0] = src8(fa, true)
	in.B, lmB, i8b, e[1] = src8(fb, true)
	_, in.Flags, e[2] = dstBits(dst)
	in.Shift, e[3] = shiftField(sc, n)
	in.I8 = i8a || i8b
	in.err = firstErr(e[2], e[0], e[1], e[3])
	// The destination's LM pointer is named by the destination extension
	// bit, the source's by the source one. The destination is also read
	// (the bytes the mask keeps) through the source side, so an LM
	// destination through *l$index2/3 sets both bits (as isa/asm does);
	// with the destination bit alone the kept bytes came from
	// *l$index0/1.
	dstLM, srcLM := lmA, lmB
	if swap {
		dstLM, srcLM = lmB, lmA
	}
	if dstLM {
		in.Flags |= FlagDstLMExt | FlagSrcLMExt
	}
	if srcLM {
		in.Flags |= FlagSrcLMExt
	}
	return in
}

// packImmed finds a 16-bit value and byte shift with v16 << 8*s == v.
func packImmed(v uint32) (uint16, uint8, bool) {
	switch {
	case v < 1<<16:
		return uint16(v), 0, true
	case v&0xff0000ff == 0:
		return uint16(v >> 8), 1, true
	case v&0xffff == 0:
		return uint16(v >> 16), 2, true
	}
	return 0, 0, false
}

// immedFields places the destination and the low byte like the kernel:
// a bank-B destination goes in the B field, everything else in A.
func immedFields(in *ImmedInstr, dst Operand, v16 uint16) {
	if dst.Kind == KImm {
		in.err = fmt.Errorf("an immediate cannot be a destination")
		return
	}
	f, lm, err := encode10(dst)
	if err != nil {
		in.err = err
		return
	}
	lo := Opnd10(0x300 | v16&0xff)
	in.ImmHi = uint8(v16 >> 8)
	if dst.isBank(BankB) {
		in.A, in.B = lo, f
	} else {
		in.A, in.B = f, lo
	}
	if dst.Kind == KGPR && dst.Bank == BankBoth || dst.Kind == KAbsGPR && dst.Bank == BankBoth {
		in.Flags |= FlagWrBoth
	}
	if lm {
		in.Flags |= FlagDstLMExt
	}
}

// Immed builds immed[dst, v]: one instruction loading a 32-bit constant,
// directly (a 16-bit value shifted by 0, 1 or 2 bytes) or inverted. It
// records an error when v needs two instructions (see ImmedW).
func Immed(dst Operand, v uint32) ImmedInstr {
	var in ImmedInstr
	v16, s, ok := packImmed(v)
	if !ok {
		v16, s, ok = packImmed(^v)
		in.Inv = true
	}
	if !ok {
		in.err = fmt.Errorf("immediate 0x%x does not fit one immed (needs immed + immed_w1)", v)
		return in
	}
	in.Shift = s
	immedFields(&in, dst, v16)
	return in
}

// ImmedW builds immed_w0/immed_w1[dst, v16]: replace 16-bit half `half`.
func ImmedW(dst Operand, v16 uint16, half int) ImmedInstr {
	in := ImmedInstr{Width: WidthWord, Shift: uint8(2 * half)}
	if half < 0 || half > 1 {
		in.err = fmt.Errorf("immed_w half %d out of range 0..1", half)
		return in
	}
	immedFields(&in, dst, v16)
	return in
}

// ImmedB builds immed_bN[dst, v8]: replace byte n.
func ImmedB(dst Operand, v8 uint8, n int) ImmedInstr {
	in := ImmedInstr{Width: WidthByte, Shift: uint8(n)}
	if n < 0 || n > 3 {
		in.err = fmt.Errorf("immed_b byte %d out of range 0..3", n)
		return in
	}
	immedFields(&in, dst, uint16(v8))
	return in
}

// Nop is immed[--, 0] with both fields "no destination" (0x0f0000c0300).
func Nop() ImmedInstr { return ImmedInstr{A: NoDst10, B: NoDst10} }

func target(t int) (uint16, error) {
	if t < 0 || t >= 1<<14 {
		return 0, fmt.Errorf("branch target %d out of range 0..16383", t)
	}
	return uint16(t), nil
}

// Br builds a branch on condition codes to an absolute target; set Defer
// for delay slots. Fields EvPip and CSS are filled as the kernel does.
func Br(c Cond, t int) BranchInstr {
	in := BranchInstr{Cond: c, CSS: 2}
	if c != BR {
		in.EvPip = 1
	}
	if int(c) >= 32 || condNames[c] == "" {
		in.err = fmt.Errorf("branch condition %d does not exist", c)
	}
	var err error
	in.Addr, err = target(t)
	in.err = firstErr(in.err, err)
	return in
}

// regAndConst8 places a register operand in its bank's field and a
// constant in the other (br_bset/br_bclr, br=byte have no swap bit).
func regAndConst8(reg Operand, c uint32, hasI8 bool) (a, b Opnd8, i8, lmext bool, err error) {
	if reg.Kind == KImm || reg.Kind == KNone {
		return 0, 0, false, false, fmt.Errorf("the tested operand must be a register, not %v", reg)
	}
	fr, lm, _, err := encode8(reg, hasI8)
	if err != nil {
		return 0, 0, false, false, err
	}
	fc, _, i8, err := encode8(Imm(c), hasI8)
	if err != nil {
		return 0, 0, false, false, err
	}
	if reg.isBank(BankB) {
		return fc, fr, i8, lm, nil
	}
	return fr, fc, i8, lm, nil
}

// BrBit builds br_bset[reg, bit, .t] (set) or br_bclr[reg, bit, .t].
func BrBit(reg Operand, bit int, set bool, t int) BrBitInstr {
	in := BrBitInstr{Set: set}
	if bit < 0 || bit > 31 {
		in.err = fmt.Errorf("bit %d out of range 0..31", bit)
		return in
	}
	var lm bool
	var err error
	in.A, in.B, _, lm, err = regAndConst8(reg, uint32(bit+1), false)
	if lm {
		in.Flags |= FlagSrcLMExt
	}
	var e2 error
	in.Addr, e2 = target(t)
	in.err = firstErr(err, e2)
	return in
}

// BrByte builds br=byte[reg, n, value, .t] (eq) or br!=byte[…].
func BrByte(reg Operand, n int, value uint8, eq bool, t int) BrByteInstr {
	in := BrByteInstr{Eq: eq, Byte: uint8(n)}
	if n < 0 || n > 3 {
		in.err = fmt.Errorf("byte %d out of range 0..3", n)
		return in
	}
	var lm bool
	var err error
	in.A, in.B, in.I8, lm, err = regAndConst8(reg, uint32(value), true)
	if lm {
		in.Flags |= FlagSrcLMExt
	}
	var e2 error
	in.Addr, e2 = target(t)
	in.err = firstErr(err, e2)
	return in
}

// Jump builds jump[reg, .imm] (imm != 0) or rtn[reg] (imm == 0): branch to
// reg + imm. The register goes in its bank's field, imm's low byte in the
// other.
func Jump(reg Operand, imm int) JumpInstr {
	var in JumpInstr
	if imm < 0 || imm >= 1<<17 {
		in.err = fmt.Errorf("jump immediate %d out of range 0..131071", imm)
		return in
	}
	if reg.Kind == KImm || reg.Kind == KNone {
		in.err = fmt.Errorf("jump needs a register, not %v", reg)
		return in
	}
	f, lm, err := encode10(reg)
	if err != nil {
		in.err = err
		return in
	}
	lo := Opnd10(0x300 | imm&0xff)
	in.ImmHi = uint16(imm >> 8)
	if reg.isBank(BankB) {
		in.A, in.B = lo, f
	} else {
		in.A, in.B = f, lo
	}
	if lm {
		in.Flags |= FlagSrcLMExt
	}
	return in
}

// Rtn builds rtn[reg]: branch to the address held in reg.
func Rtn(reg Operand) JumpInstr { return Jump(reg, 0) }

// MulStepOp builds mul_step[a, b], <type>_<step> for the start and step
// phases (type MulStart needs step MulStep1).
func MulStepOp(a, b Operand, typ MulType, step MulStep) MulInstr {
	in := MulInstr{Type: typ, Step: step}
	if step >= MulLast || typ > 3 || (typ == MulStart && step != MulStep1) {
		in.err = fmt.Errorf("mul_step type %d step %d is not a start/step form", typ, step)
		return in
	}
	fa, fb, swap, err := placeSources(a, b)
	if err != nil {
		in.err = err
		return in
	}
	in.Swap = swap
	var e1, e2 error
	var lmA, lmB bool
	in.A, lmA, e1 = src10(fa)
	in.B, lmB, e2 = src10(fb)
	in.err = firstErr(e1, e2)
	if lmA || lmB {
		in.Flags |= FlagSrcLMExt
	}
	return in
}

// MulResult builds mul_step[dst, --], <type>_last (or _last2 for the high
// word of a 32x32 product).
func MulResult(dst Operand, typ MulType, last2 bool) MulInstr {
	in := MulInstr{Type: typ, Step: MulLast}
	if last2 {
		in.Step = MulLast2
	}
	if typ == MulStart || typ > 3 {
		in.err = fmt.Errorf("mul_step last needs a 24x8, 16x16 or 32x32 type")
		return in
	}
	var e1, e2 error
	var lm bool
	in.A, lm, e1 = encode10(dst)
	in.DstB, in.Flags, e2 = dstBits(dst)
	if dst.Kind == KNone {
		in.A = 0
	}
	if lm {
		in.Flags |= FlagDstLMExt
	}
	in.err = firstErr(e2, e1)
	return in
}

// CSR numbers (byte address / 4) of the local CSRs the JIT uses.
const (
	CSRCtxPtr       = 0x020 / 4
	CSRActLMAddr0   = 0x064 / 4
	CSRActLMAddr1   = 0x06c / 4
	CSRActLMAddr2   = 0x094 / 4
	CSRActLMAddr3   = 0x09c / 4
	CSRPseudoRndNum = 0x148 / 4
)

// LMPointerCSR returns the LM pointer (0–3) the local CSR numbered csr
// sets (ActLMAddrN), or -1 for any other CSR.
func LMPointerCSR(csr int) int {
	switch csr {
	case CSRActLMAddr0:
		return 0
	case CSRActLMAddr1:
		return 1
	case CSRActLMAddr2:
		return 2
	case CSRActLMAddr3:
		return 3
	}
	return -1
}

// CSRRead builds local_csr_rd[csr]; the value arrives through the next
// immed[dst, 0].
func CSRRead(csr int) CSRInstr {
	in := CSRInstr{CSR: uint16(csr)}
	if csr < 0 || csr >= 1<<11 {
		in.err = fmt.Errorf("CSR number %d out of range", csr)
	}
	return in
}

// CSRWrite builds local_csr_wr[csr, src]. As the kernel does, a register
// goes in its bank's field with constant 0 in the other, and a constant
// goes in both.
func CSRWrite(csr int, src Operand) CSRInstr {
	in := CSRRead(csr)
	in.Write = true
	if in.err != nil {
		return in
	}
	f, lm, err := encode10(src)
	if err != nil || src.Kind == KNone {
		in.err = firstErr(err, fmt.Errorf("local_csr_wr needs a source"))
		return in
	}
	switch {
	case src.Kind == KImm:
		in.A, in.B = f, f
	case src.isBank(BankB):
		in.A, in.B = NoDst10, f
	default:
		in.A, in.B = f, NoDst10
	}
	if lm {
		in.Flags |= FlagSrcLMExt
	}
	return in
}

// CtxArb builds ctx_arb[sigs] waiting for every signal in the mask (or any
// of them). Use CtxArbInstr{} literals for kill/voluntary/bpt forms.
func CtxArb(sigs uint16, any bool) CtxArbInstr { return CtxArbInstr{Sigs: sigs, Any: any} }

// LoadImm32 materialises any 32-bit constant as the kernel's wrp_immed
// does: one immed (direct or inverted) when possible, otherwise
// immed[dst, v & 0xffff] followed by immed_w1[dst, v >> 16].
func LoadImm32(dst Operand, v uint32) []Instr {
	if in := Immed(dst, v); in.err == nil {
		return []Instr{in}
	}
	return []Instr{Immed(dst, v&0xffff), ImmedW(dst, uint16(v>>16), 1)}
}
