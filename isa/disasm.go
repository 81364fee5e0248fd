package isa

import (
	"fmt"
	"strings"
)

// Options select how words are printed, as GNU's -M options and the ME
// configuration found in an ELF image do.
type Options struct {
	// Mode is the context mode (Ctx8 if zero).
	Mode Mode
	// ThirdParty32 prints accelerated third-party command addresses
	// (modes 2 and 3) without "<<8" (MiscControl bit 4).
	ThirdParty32 bool
	// NoPC drops the program-counter column of objdump lines (-M no-pc).
	NoPC bool
}

func (o Options) mode() Mode {
	if o.Mode == Ctx4 {
		return Ctx4
	}
	return Ctx8
}

// printer accumulates text and whether an operand or op was malformed, in
// which case GNU appends "\t # ERROR".
type printer struct {
	b   strings.Builder
	m   Mode
	bad bool
}

func (p *printer) s(s string)                       { p.b.WriteString(s) }
func (p *printer) f(format string, a ...any)        { fmt.Fprintf(&p.b, format, a...) }
func (p *printer) o10(f Opnd10, bank Bank, lm bool) { p.op(f.Operand(bank, lm, p.m)) }
func (p *printer) o8(f Opnd8, bank Bank, lm, i8 bool) {
	p.op(f.Operand(bank, lm, i8, p.m))
}

// op prints an operand unless an earlier part was malformed: GNU chains
// its operand printers with "err = err || !print(...)", so after the first
// error the remaining operands are left out (the separators are not).
func (p *printer) op(o Operand) {
	if p.bad {
		return
	}
	p.s(o.String())
	p.bad = o.Kind == KInvalid
}

func bankIf(swap bool, ifSwap, otherwise Bank) Bank {
	if swap {
		return ifSwap
	}
	return otherwise
}

func dstBank(b bool) Bank {
	if b {
		return BankB
	}
	return BankA
}

// Text returns GNU objdump's text for one instruction and false where
// objdump would flag it with "# ERROR" (an undefined op, operand or
// command). Disasm adds that marker.
func Text(in Instr, opt Options) (string, bool) {
	p := &printer{m: opt.mode()}
	switch i := in.(type) {
	case ALUInstr:
		p.alu(i)
	case ShfInstr:
		p.shf(i)
	case ImmedInstr:
		p.immed(i)
	case LdFieldInstr:
		p.ldField(i)
	case CtxArbInstr:
		p.ctxArb(i)
	case CSRInstr:
		p.csr(i)
	case BranchInstr:
		p.branch(i)
	case BrByteInstr:
		p.brByte(i)
	case BrBitInstr:
		p.brBit(i)
	case JumpInstr:
		p.jump(i)
	case MulInstr:
		p.mul(i)
	case CmdInstr:
		p.cmd(i, opt.ThirdParty32)
	case InvalidInstr:
		p.f("<invalid_instruction>: 0x%x", uint64(WithECC(i.Bits)))
		p.bad = true
	default:
		p.f("<unknown instruction %T>", in)
		p.bad = true
	}
	return p.b.String(), !p.bad
}

// Disasm returns objdump's text for a word, including the "\t # ERROR"
// marker. Unlike Text it prints an undecodable word with its own ECC bits.
func Disasm(w Word, opt Options) string {
	in := Decode(w)
	var s string
	ok := true
	if _, isInv := in.(InvalidInstr); isInv {
		s, ok = fmt.Sprintf("<invalid_instruction>: 0x%x", uint64(w)), false
	} else {
		s, ok = Text(in, opt)
	}
	if !ok {
		s += "\t # ERROR"
	}
	return s
}

func (p *printer) tail(f Flags, nocc bool) {
	if nocc && f&FlagNoCC != 0 {
		p.s(", no_cc")
	}
	if f&FlagWrBoth != 0 {
		p.s(", gpr_wrboth")
	}
	if f&FlagPredCC != 0 {
		p.s(", predicate_cc")
	}
}

func (p *printer) dst10(f Opnd10, b Bank, lm bool) {
	if f.IsImm() {
		p.s("--")
	} else {
		p.o10(f, b, lm)
	}
}

func (p *printer) alu(i ALUInstr) {
	a, b := i.A, i.B
	if i.Swap {
		a, b = b, a
	}
	bankA, bankB := bankIf(i.Swap, BankB, BankA), bankIf(i.Swap, BankA, BankB)
	src, dst := i.Flags&FlagSrcLMExt != 0, i.Flags&FlagDstLMExt != 0
	db := dstBank(i.DstB)
	closeBr := true
	switch i.Op {
	case OpPopCount3, OpPopCount1, OpPopCount2, OpFFS, OpCamReadTag, OpCamReadSt:
		p.f("%s[", aluOpNames[i.Op])
		if i.Op != OpPopCount1 && i.Op != OpPopCount2 {
			p.dst10(i.Dst, db, dst)
			p.s(", ")
		}
		p.o10(b, bankB, src)
	case OpCamClear:
		closeBr = false
		p.s("cam_clear")
	case OpCamLookup:
		closeBr = false
		p.s("cam_lookup[")
		p.dst10(i.Dst, db, dst)
		p.s(", ")
		p.o10(a, bankA, src)
		p.s("]")
		if b&3 != 0 {
			n := int(b >> 1 & 1)
			if b>>4&1 == 1 {
				n += 2
			}
			p.f(", lm_addr%d[%d]", n, b>>2&3)
		}
	case OpCamWrite, OpCamWriteSt:
		p.f("%s[", aluOpNames[i.Op])
		p.o10(b, bankB, src)
		p.s(", ")
		if i.Op == OpCamWrite {
			p.o10(a, bankA, src)
			p.s(", ")
		}
		p.f("%d", i.Dst&0xf)
	case OpCRC:
		closeBr = false
		le := "be"
		if a>>3&1 == 1 {
			le = "le"
		}
		p.f("crc_%s[", le)
		if n := crcOps[a>>5&7]; n == "" {
			p.s(", <invalid CRC operator>, ")
			p.bad = true
		} else {
			p.f("%s, ", n)
		}
		p.dst10(i.Dst, db, dst)
		p.s(", ")
		p.o10(b, bankB, src)
		p.s("]")
		if a&7 != 0 {
			p.f(", %s", crcBytes[a&7])
		}
		if a>>4&1 == 1 {
			p.s(", bit_swap")
		}
	default:
		p.s("alu[")
		p.dst10(i.Dst, db, dst)
		p.s(", ")
		if i.Op == OpB || i.Op == OpNotB {
			p.s("--")
		} else {
			p.o10(a, bankA, src)
		}
		if aluOpNames[i.Op&31] == "" {
			p.f(", <operator:0x%x>, ", uint8(i.Op))
			p.bad = true
		} else {
			p.f(", %s, ", aluOpNames[i.Op])
		}
		p.o10(b, bankB, src)
	}
	if closeBr {
		p.s("]")
	}
	p.tail(i.Flags, true)
}

// crcOps and crcBytes name the CRC unit's operation (A field bits 7:5) and
// byte selection (bits 2:0); "" is undefined.
var crcOps = [8]string{0: "--", 2: "crc_ccitt", 4: "crc_32", 5: "crc_iscsi", 6: "crc_10", 7: "crc_5"}
var crcBytes = [8]string{"bytes_0_3", "bytes_1_3", "bytes_2_3", "byte_3", "bytes_0_2", "bytes_0_1", "byte_0", "(null)"} // glibc prints a NULL %s as "(null)"

func (p *printer) shf(i ShfInstr) {
	a, b := i.A, i.B
	if i.Swap {
		a, b = b, a
	}
	bankA, bankB := bankIf(i.Swap, BankB, BankA), bankIf(i.Swap, BankA, BankB)
	src, dst := i.Flags&FlagSrcLMExt != 0, i.Flags&FlagDstLMExt != 0
	dstOp := func() {
		if i.Dst.IsImm() {
			p.s("--")
		} else {
			p.o8(i.Dst, dstBank(i.DstB), dst, i.I8)
		}
		p.s(", ")
	}
	if i.Op == ShfByteAlign {
		if i.SC == ShiftL {
			p.s("byte_align_le[")
			dstOp()
			p.o8(a, bankA, false, i.I8)
		} else {
			p.s("byte_align_be[")
			dstOp()
			p.o8(b, bankB, false, i.I8)
		}
	} else {
		switch {
		case i.SC == ShiftDbl:
			p.s("dbl_shf[")
		case i.Op == ShfAsr:
			p.s("asr[")
		default:
			p.s("alu_shf[")
		}
		dstOp()
		if i.Op != ShfAsr {
			if i.Op < 2 && i.SC != ShiftDbl {
				p.s("--")
			} else {
				p.o8(a, bankA, src, i.I8)
			}
			p.s(", ")
			if i.SC != ShiftDbl {
				p.f("%s, ", shfOpNames[i.Op])
			}
		}
		p.o8(b, bankB, src, i.I8)
		p.s(", ")
		switch {
		case i.SC == ShiftRotR:
			p.f(">>rot%d", i.Shift)
		case i.SC == ShiftL && i.Shift != 0:
			p.f("<<%d", 32-int(i.Shift))
		case i.SC == ShiftL:
			p.s("<<indirect")
		case i.Shift != 0:
			p.f(">>%d", i.Shift)
		default:
			p.s(">>indirect")
		}
	}
	p.s("]")
	p.tail(i.Flags, true)
}

// Value returns the 32-bit value an immed writes (before width masking), as
// GNU prints it: the 16-bit immediate, or its inversion with ones above.
func (i ImmedInstr) Value() uint32 {
	var v uint32
	if i.B.IsImm() {
		v = uint32(i.ImmHi)<<8 | i.B.ImmValue()
	} else if i.A.IsImm() {
		v = uint32(i.ImmHi)<<8 | i.A.ImmValue()
	} else {
		v = 0xffffffff // GNU ORs in ~0 when no field is a constant
	}
	if i.Inv {
		v = v ^ 0xffff | 0xffff0000
	}
	return v
}

// IsNop reports whether GNU prints the word as "nop".
func (i ImmedInstr) IsNop() bool {
	return i.B.IsImm() && i.A.IsImm() && i.ImmHi == 0 && i.B.ImmValue() == 0
}

func (p *printer) immed(i ImmedInstr) {
	if i.IsNop() {
		p.s("nop")
		return
	}
	imm := i.Value()
	by, wd := i.Width&1 == 1, i.Width&2 == 2
	switch {
	case by:
		p.f("immed_b%d[", i.Shift)
		imm &= 0xff
	case wd:
		p.f("immed_w%d[", i.Shift/2)
		imm &= 0xffff
	default:
		p.s("immed[")
	}
	dl := i.Flags&FlagDstLMExt != 0
	switch {
	case i.A.IsImm() && i.B.IsImm():
		p.s("--")
	case i.A.IsImm():
		p.o10(i.B, BankB, dl)
	default:
		p.o10(i.A, BankA, dl)
	}
	p.f(", 0x%x", imm)
	if !by && !wd && i.Shift != 0 {
		p.f(", <<%d", int(i.Shift)*8)
	}
	p.s("]")
	p.tail(i.Flags, false)
}

func (p *printer) ldField(i LdFieldInstr) {
	dst, src := i.A, i.B
	if i.Swap {
		dst, src = src, dst
	}
	if i.Clear {
		p.s("ld_field_w_clr[")
	} else {
		p.s("ld_field[")
	}
	p.o8(dst, bankIf(i.Swap, BankB, BankA), i.Flags&FlagDstLMExt != 0, i.I8)
	m := i.Mask
	p.f(", %d%d%d%d, ", m>>3&1, m>>2&1, m>>1&1, m&1)
	p.o8(src, bankIf(i.Swap, BankA, BankB), i.Flags&FlagSrcLMExt != 0, i.I8)
	switch {
	case i.SC == ShiftRotR && i.Shift != 0:
		p.f(", >>rot%d", i.Shift)
	case i.SC == ShiftR && i.Shift != 0:
		p.f(", >>%d", i.Shift)
	case i.SC == ShiftR:
		p.s(", >>indirect")
	case i.SC == ShiftL && i.Shift != 0:
		p.f(", <<%d", 32-int(i.Shift))
	case i.SC == ShiftL:
		p.s(", <<indirect")
	case i.SC == ShiftDbl:
		p.f(", >>dbl%d", i.Shift)
	}
	p.s("]")
	if i.LoadCC {
		p.s(", load_cc")
	}
	p.tail(i.Flags, false)
}

func (p *printer) ctxArb(i CtxArbInstr) {
	p.s("ctx_arb[")
	any := i.Any
	switch {
	case i.Bpt:
		p.s("bpt")
	case i.Sigs == 1:
		p.s("voluntary")
	case !i.NoLoad && i.Sigs == 0:
		p.s("kill")
		any = false
	case i.Sigs == 0:
		p.s("--")
	default:
		sep := ""
		for n := 1; n < 16; n++ {
			if i.Sigs>>n&1 == 1 {
				p.f("%ssig%d", sep, n)
				sep = ", "
			}
		}
	}
	p.s("]")
	if any {
		p.s(", any")
	}
	if i.Resume {
		p.f(", br[.%d]", i.Addr)
	}
	if i.Defer != 0 {
		p.f(", defer[%d]", i.Defer)
	}
}

// CSRName is the name GNU gives a local CSR number ("" if none).
func CSRName(n uint16) string {
	if int(n) < len(csrNames) {
		return csrNames[n]
	}
	return ""
}

func (p *printer) csr(i CSRInstr) {
	src, bank := i.A, BankA
	if i.A.IsImm() && !i.B.IsImm() {
		src, bank = i.B, BankB
	}
	lm := i.Flags&FlagSrcLMExt != 0
	if i.CSR == 1 { // ME 2.7's urd/uwr; GNU still decodes it
		if i.Write {
			p.f("uwr[*u$index%d++, ", 0)
			p.o10(src, bank, lm)
		} else {
			p.s("urd[")
			p.o10(src, bank, lm)
			p.f(", *u$index%d++", 0)
		}
		p.s("]")
		return
	}
	if i.Write {
		p.s("local_csr_wr[")
	} else {
		p.s("local_csr_rd[")
	}
	if n := CSRName(i.CSR); n != "" {
		p.s(n)
	} else {
		p.f("0x%x", uint32(i.CSR)*4)
	}
	if i.Write {
		p.s(", ")
		p.o10(src, bank, lm)
	}
	p.s("]")
}

var brInpStates = [16]string{"nn_empty", "nn_full", "ctm_ring0_status", "ctm_ring1_status",
	"ctm_ring2_status", "ctm_ring3_status", "ctm_ring4_status", "ctm_ring5_status",
	"ctm_ring6_status", "ctm_ring7_status", "ctm_ring8_status", "ctm_ring9_status",
	"ctm_ring10_status", "ctm_ring11_status", "ctm_ring12_status", "ctm_ring13_status"}

func (p *printer) branch(i BranchInstr) {
	if n := condNames[i.Cond&31]; n == "" {
		p.s("<invalid branch>[")
		p.bad = true
	} else {
		p.f("%s[", n)
	}
	switch i.Cond {
	case BrCtxEq, BrCtxNe, BrSignal, BrNotSignal:
		p.f("%d, ", i.CSS)
	case BrInpState, BrNotInpState:
		p.f("%s, ", brInpStates[i.CSS&15])
	case BrClsState, BrNotClsState:
		p.f("cls_ring%d_status, ", i.CSS)
	}
	p.f(".%d]", i.Addr)
	if i.Defer != 0 {
		p.f(", defer[%d]", i.Defer)
	}
}

func (p *printer) brByte(i BrByteInstr) {
	if i.Eq {
		p.s("br=byte[")
	} else {
		p.s("br!=byte[")
	}
	lm := i.Flags&FlagSrcLMExt != 0
	if i.A.IsImm() {
		p.o8(i.B, BankB, lm, i.I8)
	} else {
		p.o8(i.A, BankA, lm, i.I8)
	}
	p.f(", %d, ", i.Byte)
	if i.A.IsImm() {
		p.o8(i.A, BankA, lm, i.I8)
	} else {
		p.o8(i.B, BankB, lm, i.I8)
	}
	p.f(", .%d]", i.Addr)
	if i.Defer != 0 {
		p.f(", defer[%d]", i.Defer)
	}
}

// Bit returns the tested register field and bit number of br_bset/br_bclr.
func (i BrBitInstr) Bit() (reg Opnd8, bank Bank, bit int) {
	if i.A.IsImm() {
		return i.B, BankB, int(immOr(i.A)-1) & 31
	}
	return i.A, BankA, int(immOr(i.B)-1) & 31
}

// immOr is GNU's nfp_me_imm_opnd8 without the imm8 bit: the constant, or
// all ones for a non-constant field.
func immOr(f Opnd8) uint32 {
	if f.IsImm() {
		return f.ImmValue(false)
	}
	return ^uint32(0)
}

func (p *printer) brBit(i BrBitInstr) {
	if i.Set {
		p.s("br_bset[")
	} else {
		p.s("br_bclr[")
	}
	reg, bank, bit := i.Bit()
	p.o8(reg, bank, i.Flags&FlagSrcLMExt != 0, false)
	p.f(", %d, .%d]", bit, i.Addr)
	if i.Defer != 0 {
		p.f(", defer[%d]", i.Defer)
	}
}

// Target returns the register field of a jump/rtn and its immediate.
func (i JumpInstr) Target() (reg Opnd10, bank Bank, imm uint32) {
	if i.A.IsImm() {
		return i.B, BankB, uint32(i.ImmHi)<<8 | i.A.ImmValue()
	}
	lo := uint32(0xffffffff)
	if i.B.IsImm() {
		lo = i.B.ImmValue()
	}
	return i.A, BankA, uint32(i.ImmHi)<<8 | lo
}

func (p *printer) jump(i JumpInstr) {
	reg, bank, imm := i.Target()
	if imm == 0 {
		p.s("rtn[")
	} else {
		p.s("jump[")
	}
	p.o10(reg, bank, i.Flags&FlagSrcLMExt != 0)
	if imm != 0 {
		p.f(", .%d", int32(imm)) // GNU prints the unsigned value with %d
	}
	p.s("]")
	if i.Defer != 0 {
		p.f(", defer[%d]", i.Defer)
	}
}

var mulSteps = [8]string{"step1", "step2", "step3", "step4", "last", "last2", "", ""}
var mulTypes = [4]string{"start", "24x8", "16x16", "32x32"}

func (p *printer) mul(i MulInstr) {
	a, b := i.A, i.B
	if i.Swap {
		a, b = b, a
	}
	src := i.Flags&FlagSrcLMExt != 0
	p.s("mul_step[")
	if i.Step >= MulLast {
		p.o10(a, dstBank(i.DstB), i.Flags&FlagDstLMExt != 0)
		p.s(", --")
	} else {
		p.o10(a, bankIf(i.Swap, BankB, BankA), src)
		p.s(", ")
		p.o10(b, bankIf(i.Swap, BankA, BankB), src)
	}
	p.f("], %s", mulTypes[i.Type&3])
	if i.Type > 0 {
		s := mulSteps[i.Step&7]
		if s == "" {
			s = "<invalid mul_step>"
			p.bad = true
		}
		p.f("_%s", s)
	}
	p.tail(i.Flags, true)
}

func (p *printer) cmd(i CmdInstr, thirdParty32 bool) {
	imm := uint32(i.Sig)<<10 | uint32(i.Cnt)<<7 | uint32(i.Xfer&0x1f)<<2 | uint32(i.Token)
	valBA := uint32(i.B)<<8 | uint32(i.A)
	xfer, sig := uint32(i.Xfer), i.Sig
	if i.Mode == ModeImmAddrD {
		xfer, sig = 0, 0
	}
	t, act, ok := SplitTgtCmd(i.TgtCmd)
	tok := i.Token
	if i.Mode == ModeImmAddrD {
		tok = 0
	}
	if !ok {
		act := i.TgtCmd & 3
		if i.TgtCmd>>5&3 != 0 {
			act = i.TgtCmd & 0x1f
		}
		p.f("<invalid cmd target %d:%d:%d>[]", -1, act, tok)
		p.bad = true
		return
	}
	p.f("%s[", targetPrefix[t])
	_, name := i.CmdName()
	if name == "" {
		p.f("<invalid cmd action %d:%d:%d>[]", t, act, tok)
		p.bad = true
		return
	}
	p.f("%s, ", name)
	a, b := i.A, i.B
	visswap := i.Mode == Mode40BA || i.Mode == Mode3rdBA
	if visswap {
		a, b = b, a
	}
	bankA, bankB := bankIf(visswap, BankB, BankA), bankIf(visswap, BankA, BankB)
	switch i.Mode {
	case Mode40AB, Mode40BA:
		p.f("$xfer_%d, ", xfer)
		p.o8(a, bankA, false, false)
		p.s(", <<8, ")
		p.o8(b, bankB, false, false)
		p.f(", %d", i.Cnt+1)
	case Mode3rdAB, Mode3rdBA:
		p.f("0x%x, ", uint32(b2i(i.Indirect))<<6|xfer)
		p.o8(a, bankA, false, false)
		if thirdParty32 {
			p.s(", ")
		} else {
			p.s(", <<8, ")
		}
		p.o8(b, bankB, false, false)
		p.f(", %d", i.Cnt+1)
	case Mode32:
		p.f("$xfer_%d, ", xfer)
		p.o8(a, BankA, false, false)
		p.s(", ")
		p.o8(b, BankB, false, false)
		p.f(", %d", i.Cnt+1)
	case ModeImmAddr:
		p.f("$xfer_%d, 0x%x, %d", xfer, valBA, i.Cnt+1)
	case ModeImmAddrD:
		p.f("0x%x, 0x%x", valBA, imm)
	case ModeImmData:
		p.f("0x%x, --, %d", xfer<<16|valBA, i.Cnt+1)
	}
	p.s("]")
	if i.Indirect && i.Mode != Mode3rdAB && i.Mode != Mode3rdBA {
		p.s(", indirect_ref")
	}
	if i.Ctx != CtxNoSwap {
		p.s(", ctx_swap[")
		if sig != 0 {
			p.f("sig%d]", sig)
		} else {
			p.s("--]")
		}
		if i.Ctx != CtxSwapWait {
			p.f(", defer[%d]", i.Ctx)
		}
	} else if sig != 0 {
		p.f(", sig_done[sig%d]", sig)
	}
}
