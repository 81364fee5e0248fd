package asm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
)

// shiftSpec is a parsed shift operand: `>>rotN`, `>>N`, `<<N`,
// `>>indirect`, `<<indirect`, `>>dblN`.
type shiftSpec struct {
	sc    isa.ShiftCtl
	shift uint8
}

func (e *encoder) shift(a *arg, dbl bool) (shiftSpec, error) {
	t := a.Text
	num := func(s string, lo, hi int) (int, error) {
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return 0, e.errAt(a, "shift %q: amount must be %d..%d", t, lo, hi)
		}
		return v, nil
	}
	right := isa.ShiftR
	if dbl {
		right = isa.ShiftDbl
	}
	switch {
	case t == ">>indirect":
		return shiftSpec{right, 0}, nil
	case t == "<<indirect":
		return shiftSpec{isa.ShiftL, 0}, nil
	case strings.HasPrefix(t, ">>rot"):
		v, err := num(t[5:], 0, 31)
		return shiftSpec{isa.ShiftRotR, uint8(v)}, err
	case strings.HasPrefix(t, ">>dbl"):
		v, err := num(t[5:], 0, 31)
		return shiftSpec{isa.ShiftDbl, uint8(v)}, err
	case strings.HasPrefix(t, ">>"):
		v, err := num(t[2:], 1, 31)
		return shiftSpec{right, uint8(v)}, err
	case strings.HasPrefix(t, "<<"):
		v, err := num(t[2:], 1, 31)
		return shiftSpec{isa.ShiftL, uint8(32 - v)}, err
	}
	return shiftSpec{}, e.errAt(a, "%q is not a shift (>>N, <<N, >>rotN, >>indirect, <<indirect)", t)
}

var shfOps = map[string]isa.ShfOp{"B": isa.ShfB, "~B": isa.ShfNotB, "AND": isa.ShfAnd, "~AND": isa.ShfNotAAndB, "AND~": isa.ShfAndNotB, "OR": isa.ShfOr}

// shf encodes alu_shf, dbl_shf, asr and byte_align_be/le.
func (e *encoder) shf() (isa.Instr, error) {
	ms, err := e.mods("no_cc", "gpr_wrboth", "predicate_cc")
	if err != nil {
		return nil, err
	}
	in := isa.ShfInstr{Flags: ms.flags()}
	var left, right, shiftArg *arg
	switch e.in.Mnem {
	case "alu_shf":
		if err := e.nargs(5); err != nil {
			return nil, err
		}
		op, ok := shfOps[e.argText(2)]
		if !ok {
			return nil, e.errAt(e.in.Args[2], "unknown shift-ALU operator %q", e.argText(2))
		}
		in.Op = op
		left, right, shiftArg = e.in.Args[1], e.in.Args[3], e.in.Args[4]
		if op < 2 {
			if left.Text != "--" {
				return nil, e.errAt(left, "operator %s takes no A operand (write --)", e.argText(2))
			}
			left = nil
		}
	case "dbl_shf":
		if err := e.nargs(4); err != nil {
			return nil, err
		}
		left, right, shiftArg = e.in.Args[1], e.in.Args[2], e.in.Args[3]
	case "asr":
		if err := e.nargs(3); err != nil {
			return nil, err
		}
		in.Op = isa.ShfAsr
		right, shiftArg = e.in.Args[1], e.in.Args[2]
	case "byte_align_be", "byte_align_le":
		if err := e.nargs(2); err != nil {
			return nil, err
		}
		in.Op = isa.ShfByteAlign
		if e.in.Mnem == "byte_align_le" {
			in.SC = isa.ShiftL
			left = e.in.Args[1]
		} else {
			in.SC = isa.ShiftR
			right = e.in.Args[1]
		}
	}
	if shiftArg != nil {
		sp, err := e.shift(shiftArg, e.in.Mnem == "dbl_shf")
		if err != nil {
			return nil, err
		}
		switch {
		case e.in.Mnem == "dbl_shf" && sp.sc != isa.ShiftDbl:
			return nil, e.errAt(shiftArg, "dbl_shf shifts right: write >>N or >>indirect")
		case e.in.Mnem != "dbl_shf" && sp.sc == isa.ShiftDbl:
			return nil, e.errAt(shiftArg, "%s is only for dbl_shf", shiftArg.Text)
		}
		in.SC, in.Shift = sp.sc, sp.shift
	}
	var dlm, slm bool
	if in.Dst, in.DstB, dlm, err = e.dst8(e.in.Args[0]); err != nil {
		return nil, err
	}
	lmOK := in.Op != isa.ShfByteAlign
	var lmL, lmR bool
	if in.A, in.B, in.Swap, lmL, lmR, in.I8, err = e.pair8(left, right, lmOK, lmOK); err != nil {
		return nil, err
	}
	slm = lmL || lmR
	if lmL != lmR && left != nil && right != nil && isLM(left.Text) && isLM(right.Text) {
		return nil, e.errAt(left, "the two LM sources must both use *l$index0/1 or both *l$index2/3")
	}
	in.Flags |= lmFlags(slm, dlm)
	return in, nil
}

func isLM(s string) bool { return strings.HasPrefix(s, "*l$index") }

// immed encodes immed, immed_bN, immed_wN and nop.
func (e *encoder) immed() (isa.Instr, error) {
	ms, err := e.mods("gpr_wrboth", "predicate_cc")
	if err != nil {
		return nil, err
	}
	in := isa.ImmedInstr{Flags: ms.flags()}
	m := e.in.Mnem
	if m == "nop" {
		if e.in.Bracket || len(e.in.Mods) > 0 {
			return nil, e.errf("nop takes no operands")
		}
		return isa.ImmedInstr{A: isa.NoDst10, B: isa.NoDst10}, nil
	}
	if err := e.nargs(2, 3); err != nil {
		return nil, err
	}
	valArg := e.in.Args[1]
	v, ok := parseNum(valArg.Text)
	if strings.HasPrefix(valArg.Text, "@") {
		if m != "immed" || len(e.in.Args) != 2 {
			return nil, e.errAt(valArg, "a code address @rel(label) needs a plain immed[dst, @rel(label)]")
		}
		var err error
		if v, e.reloc, err = e.immedReloc(valArg, e.labels); err != nil {
			return nil, err
		}
		e.subst[valArg.Text] = fmt.Sprintf("0x%x", v)
		ok = true
	}
	if !ok {
		return nil, e.errAt(valArg, "%q is not a number", valArg.Text)
	}
	var v16 uint32
	switch {
	case m == "immed":
		switch {
		case v <= 0xffff:
			v16 = v
		case v>>16 == 0xffff:
			in.Inv, v16 = true, v&0xffff^0xffff
		default:
			return nil, e.errAt(valArg, "immed value %#x: want 16 bits, or 0xffffXXXX (inverted)", v)
		}
		if len(e.in.Args) == 3 {
			sa := e.in.Args[2]
			switch sa.Text {
			case "<<8":
				in.Shift = 1
			case "<<16":
				in.Shift = 2
			case "<<24":
				in.Shift = 3
			case "<<0":
			default:
				return nil, e.errAt(sa, "immed shift %q: want <<8, <<16 or <<24", sa.Text)
			}
		}
	case strings.HasPrefix(m, "immed_b") && len(m) == 8 && m[7] >= '0' && m[7] <= '3':
		if v > 0xff || len(e.in.Args) != 2 {
			return nil, e.errAt(valArg, "%s takes a byte", m)
		}
		in.Width, in.Shift, v16 = isa.WidthByte, m[7]-'0', v
	case (m == "immed_w0" || m == "immed_w1"):
		if v > 0xffff || len(e.in.Args) != 2 {
			return nil, e.errAt(valArg, "%s takes a 16-bit value", m)
		}
		in.Width, in.Shift, v16 = isa.WidthWord, 2*(m[7]-'0'), v
	default:
		return nil, e.errf("unknown instruction %q", m)
	}
	in.ImmHi = uint8(v16 >> 8)
	lo := isa.Opnd10(0x300 | v16&0xff)
	dstArg := e.in.Args[0]
	if dstArg.Text == "--" {
		in.A, in.B = isa.NoDst10, lo
		return in, nil
	}
	// The destination goes in the A field unless it is a bank-B register.
	for _, lm := range []bool{false, true} {
		if f, ok := lookup10(e.mode, isa.BankA, lm, dstArg.Text); ok && !f.IsImm() {
			in.A, in.B = f, lo
			in.Flags |= lmFlags(false, lm)
			return in, nil
		}
		if f, ok := lookup10(e.mode, isa.BankB, lm, dstArg.Text); ok && !f.IsImm() {
			in.A, in.B = lo, f
			in.Flags |= lmFlags(false, lm)
			return in, nil
		}
	}
	return nil, e.errAt(dstArg, "%q is not an immed destination", dstArg.Text)
}

// ldField encodes ld_field[dst, mask, src(, shift)] and ld_field_w_clr.
func (e *encoder) ldField() (isa.Instr, error) {
	if err := e.nargs(3, 4); err != nil {
		return nil, err
	}
	ms, err := e.mods("load_cc", "gpr_wrboth", "predicate_cc")
	if err != nil {
		return nil, err
	}
	in := isa.LdFieldInstr{Flags: ms.flags(), LoadCC: ms["load_cc"] != nil, Clear: e.in.Mnem == "ld_field_w_clr"}
	maskArg := e.in.Args[1]
	if len(maskArg.Text) != 4 || strings.Trim(maskArg.Text, "01") != "" {
		return nil, e.errAt(maskArg, "byte mask %q: want four 0/1 digits, byte 3 first", maskArg.Text)
	}
	for i, c := range maskArg.Text {
		if c == '1' {
			in.Mask |= 1 << (3 - i)
		}
	}
	if len(e.in.Args) == 4 {
		sp, err := e.shift(e.in.Args[3], false)
		if err != nil {
			return nil, err
		}
		if sp.sc == isa.ShiftRotR && sp.shift == 0 {
			return nil, e.errAt(e.in.Args[3], ">>rot0 is written without a shift")
		}
		in.SC, in.Shift = sp.sc, sp.shift
	}
	var lmD, lmS bool
	if in.A, in.B, in.Swap, lmD, lmS, in.I8, err = e.pair8(e.in.Args[0], e.in.Args[2], true, true); err != nil {
		return nil, err
	}
	// The destination is also read (the bytes the mask keeps), so an LM
	// destination through *l$index2/3 extends the source side too.
	in.Flags |= lmFlags(lmS || lmD, lmD)
	return in, nil
}

// ctxArb encodes ctx_arb[sigN, …|voluntary|kill|bpt|--], any, br[.N], defer[N].
func (e *encoder) ctxArb() (isa.Instr, error) {
	ms, err := e.mods("any", "br", "defer")
	if err != nil {
		return nil, err
	}
	in := isa.CtxArbInstr{Any: ms["any"] != nil}
	args := e.in.Args
	switch {
	case len(args) == 1 && args[0].Text == "bpt":
		in.Bpt = true
	case len(args) == 1 && args[0].Text == "voluntary":
		in.Sigs = 1
	case len(args) == 1 && args[0].Text == "kill":
		if in.Any {
			return nil, e.errf("ctx_arb[kill] takes no \"any\"")
		}
		in.Any = true // not printed for kill; Netronome's assembler sets it
	case len(args) == 1 && args[0].Text == "--":
		in.NoLoad = true
	default:
		if len(args) == 0 {
			return nil, e.errf("ctx_arb needs signals, voluntary, kill, bpt or --")
		}
		for _, a := range args {
			n, err := strconv.Atoi(strings.TrimPrefix(a.Text, "sig"))
			if !strings.HasPrefix(a.Text, "sig") || err != nil || n < 1 || n > 15 {
				return nil, e.errAt(a, "%q is not a signal sig1..sig15", a.Text)
			}
			in.Sigs |= 1 << n
		}
	}
	if m := ms["br"]; m != nil {
		if len(m.Args) != 1 {
			return nil, &posError{col: m.Pos.Column, msg: "br[] takes one address"}
		}
		t, err := e.target(m.Args[0])
		if err != nil {
			return nil, err
		}
		in.Resume, in.Addr = true, uint16(t)
	}
	d, err := e.modNum(ms["defer"], 3)
	in.Defer = uint8(d)
	return in, err
}

// csrNumbers inverts isa.CSRName.
var csrNumbers = func() map[string]uint16 {
	m := map[string]uint16{}
	for n := uint16(0); n < 2048; n++ {
		if s := isa.CSRName(n); s != "" {
			if _, dup := m[s]; !dup {
				m[s] = n
			}
		}
	}
	return m
}()

// csr encodes local_csr_rd[CSR] and local_csr_wr[CSR, src].
func (e *encoder) csr() (isa.Instr, error) {
	wr := e.in.Mnem == "local_csr_wr"
	if wr {
		if err := e.nargs(2); err != nil {
			return nil, err
		}
	} else if err := e.nargs(1); err != nil {
		return nil, err
	}
	if _, err := e.mods(); err != nil {
		return nil, err
	}
	in := isa.CSRInstr{Write: wr}
	ca := e.in.Args[0]
	if n, ok := csrNumbers[ca.Text]; ok {
		in.CSR = n
	} else if v, ok := parseNum(ca.Text); ok && strings.HasPrefix(ca.Text, "0x") && v%4 == 0 && v/4 < 2048 && isa.CSRName(uint16(v/4)) == "" && v/4 != 1 {
		in.CSR = uint16(v / 4)
	} else {
		return nil, e.errAt(ca, "%q is not a local CSR (a name, or a byte address 0x… without one)", ca.Text)
	}
	if !wr {
		if e.style == StyleNetronome {
			in.B = isa.NoDst10 // Netronome's assembler; the kernel leaves 0
		}
		return in, nil
	}
	src := e.in.Args[1]
	for _, lm := range []bool{false, true} {
		if f, ok := lookup10(e.mode, isa.BankA, lm, src.Text); ok {
			in.A, in.B = f, isa.NoDst10
			if f.IsImm() {
				in.B = f
			}
			in.Flags |= lmFlags(lm, false)
			return in, nil
		}
		if f, ok := lookup10(e.mode, isa.BankB, lm, src.Text); ok && !f.IsImm() {
			in.A, in.B = isa.NoDst10, f
			in.Flags |= lmFlags(lm, false)
			return in, nil
		}
	}
	return nil, e.errAt(src, "%q is not a CSR source operand", src.Text)
}

// branch encodes the conditional branches and br=ctx, br_signal, ….
func (e *encoder) branch(c isa.Cond) (isa.Instr, error) {
	ms, err := e.mods("defer")
	if err != nil {
		return nil, err
	}
	// Unprinted fields as Netronome's assembler mostly writes them (CoreNIC:
	// 4317 of 4339 conditional branches): CSS 2 ("none"), EvPip 1 for the
	// flag conditions, 0 for br, 2 for the signal and state tests.
	in := isa.BranchInstr{Cond: c, CSS: 2}
	switch {
	case c < isa.BrCtxEq:
		in.EvPip = 1
	case c >= isa.BrSignal && c != isa.BR:
		in.EvPip = 2
	}
	args := e.in.Args
	switch {
	case c >= isa.BrCtxEq && c <= isa.BrNotSignal:
		if err := e.nargs(2); err != nil {
			return nil, err
		}
		v, ok := parseNum(args[0].Text)
		if !ok || v > 15 {
			return nil, e.errAt(args[0], "%q: want a context or signal number 0..15", args[0].Text)
		}
		in.CSS = uint8(v)
		args = args[1:]
	case c == isa.BrInpState || c == isa.BrNotInpState:
		if err := e.nargs(2); err != nil {
			return nil, err
		}
		n := -1
		for i, s := range inpStates {
			if s == args[0].Text {
				n = i
			}
		}
		if n < 0 {
			return nil, e.errAt(args[0], "%q is not an input state (nn_empty, nn_full, ctm_ringN_status)", args[0].Text)
		}
		in.CSS = uint8(n)
		args = args[1:]
	case c == isa.BrClsState || c == isa.BrNotClsState:
		if err := e.nargs(2); err != nil {
			return nil, err
		}
		var n int
		if _, err := fmt.Sscanf(args[0].Text, "cls_ring%d_status", &n); err != nil || n < 0 || n > 15 || fmt.Sprintf("cls_ring%d_status", n) != args[0].Text {
			return nil, e.errAt(args[0], "%q is not cls_ringN_status", args[0].Text)
		}
		in.CSS = uint8(n)
		args = args[1:]
	default:
		if err := e.nargs(1); err != nil {
			return nil, err
		}
	}
	e.relocOK = true
	t, err := e.target(args[0])
	if err != nil {
		return nil, err
	}
	in.Addr = uint16(t)
	d, err := e.modNum(ms["defer"], 3)
	in.Defer = uint8(d)
	return in, err
}

var inpStates = [16]string{"nn_empty", "nn_full", "ctm_ring0_status", "ctm_ring1_status",
	"ctm_ring2_status", "ctm_ring3_status", "ctm_ring4_status", "ctm_ring5_status",
	"ctm_ring6_status", "ctm_ring7_status", "ctm_ring8_status", "ctm_ring9_status",
	"ctm_ring10_status", "ctm_ring11_status", "ctm_ring12_status", "ctm_ring13_status"}

// regAndConst8 places a register operand and a restricted constant in the
// A/B fields. A bank-A register goes in the A field and a bank-B one in
// the B field. Other registers go where Netronome's assembler mostly puts
// them (counted in the CoreNIC firmware's 1139 br_bset/br_bclr): for
// br_bset/br_bclr (regInA) the transfer registers $xfer_0..31 (164 of 298)
// and *l$index2/3 (200 of 232) in A, $xfer_32..63 (60 of 68), *l$index0/1
// (366 of 374), *$index and *n$index (all) in B; for br=byte all in B.
func (e *encoder) regAndConst8(reg *arg, c uint32, regInA func(f isa.Opnd8, lm bool) bool) (a, b isa.Opnd8, i8, lm bool, err error) {
	cf := func(i8 bool) (isa.Opnd8, bool) {
		return lookup8(e.mode, isa.BankA, false, i8, fmt.Sprintf("0x%x", c))
	}
	for _, l := range []bool{false, true} {
		for _, msb := range []bool{false, true} {
			k, okC := cf(msb)
			if !okC {
				continue
			}
			fa, okA := lookup8(e.mode, isa.BankA, l, msb, reg.Text)
			fb, okB := lookup8(e.mode, isa.BankB, l, msb, reg.Text)
			switch {
			case okA && !fa.IsImm() && (isBankA(reg.Text) || (!isBankB(reg.Text) && regInA(fa, l))):
				return fa, k, msb, l, nil
			case okB && !fb.IsImm():
				return k, fb, msb, l, nil
			}
		}
	}
	return 0, 0, false, false, e.errAt(reg, "%q is not a register operand here", reg.Text)
}

// brBitRegInA is br_bset/br_bclr's placement of a register that is not a
// GPR (see regAndConst8).
func brBitRegInA(f isa.Opnd8, lm bool) bool {
	switch {
	case f>>5 == 4: // $xfer_0..31
		return true
	case f>>4 == 5: // *l$indexN[M]
		return lm
	}
	return false
}

// brBit encodes br_bset/br_bclr[reg, bit, target].
func (e *encoder) brBit() (isa.Instr, error) {
	if err := e.nargs(3); err != nil {
		return nil, err
	}
	ms, err := e.mods("defer")
	if err != nil {
		return nil, err
	}
	bit, ok := parseNum(e.argText(1))
	if !ok || bit > 31 {
		return nil, e.errAt(e.in.Args[1], "bit %q: want 0..31", e.argText(1))
	}
	in := isa.BrBitInstr{Set: e.in.Mnem == "br_bset"}
	var i8, lm bool
	// The constant is bit+1 taken mod 32 (the rotate amount that brings
	// the bit to the top), so bit 31 is the constant 0.
	if in.A, in.B, i8, lm, err = e.regAndConst8(e.in.Args[0], (bit+1)&31, brBitRegInA); err != nil {
		return nil, err
	}
	if i8 {
		return nil, e.errAt(e.in.Args[1], "bit %d does not fit", bit)
	}
	in.Flags |= lmFlags(lm, false)
	e.relocOK = true
	t, err := e.target(e.in.Args[2])
	if err != nil {
		return nil, err
	}
	in.Addr = uint16(t)
	d, err := e.modNum(ms["defer"], 3)
	in.Defer = uint8(d)
	return in, err
}

// brByte encodes br=byte/br!=byte[reg, byte, value, target].
func (e *encoder) brByte() (isa.Instr, error) {
	if err := e.nargs(4); err != nil {
		return nil, err
	}
	ms, err := e.mods("defer")
	if err != nil {
		return nil, err
	}
	by, ok := parseNum(e.argText(1))
	if !ok || by > 3 {
		return nil, e.errAt(e.in.Args[1], "byte %q: want 0..3", e.argText(1))
	}
	v, ok := parseNum(e.argText(2))
	if !ok || v > 0xff {
		return nil, e.errAt(e.in.Args[2], "value %q: want a byte", e.argText(2))
	}
	in := isa.BrByteInstr{Eq: e.in.Mnem == "br=byte", Byte: uint8(by)}
	var lm bool
	if in.A, in.B, in.I8, lm, err = e.regAndConst8(e.in.Args[0], v, func(isa.Opnd8, bool) bool { return false }); err != nil {
		return nil, err
	}
	in.Flags |= lmFlags(lm, false)
	e.relocOK = true
	t, err := e.target(e.in.Args[3])
	if err != nil {
		return nil, err
	}
	in.Addr = uint16(t)
	d, err := e.modNum(ms["defer"], 3)
	in.Defer = uint8(d)
	return in, err
}

// jump encodes rtn[reg] and jump[reg, .imm].
func (e *encoder) jump() (isa.Instr, error) {
	ms, err := e.mods("defer")
	if err != nil {
		return nil, err
	}
	var imm int
	if e.in.Mnem == "jump" {
		if err := e.nargs(2); err != nil {
			return nil, err
		}
		if imm, err = e.target(e.in.Args[1]); err != nil {
			return nil, err
		}
		if imm == 0 || imm > 0x1ffff {
			return nil, e.errAt(e.in.Args[1], "jump offset %d: want 1..%d (0 is rtn)", imm, 0x1ffff)
		}
	} else if err := e.nargs(1); err != nil {
		return nil, err
	}
	in := isa.JumpInstr{ImmHi: uint16(imm >> 8)}
	k := isa.Opnd10(0x300 | imm&0xff)
	reg := e.in.Args[0]
	placed := false
	for _, lm := range []bool{false, true} {
		if f, ok := lookup10(e.mode, isa.BankA, lm, reg.Text); ok && !f.IsImm() && isBankA(reg.Text) {
			in.A, in.B, placed = f, k, true
		} else if f, ok := lookup10(e.mode, isa.BankB, lm, reg.Text); ok && !f.IsImm() {
			in.A, in.B, placed = k, f, true
		}
		if placed {
			in.Flags |= lmFlags(lm, false)
			break
		}
	}
	if !placed {
		return nil, e.errAt(reg, "%q is not a register operand here", reg.Text)
	}
	d, err := e.modNum(ms["defer"], 3)
	in.Defer = uint8(d)
	return in, err
}

var mulTypes = map[string]isa.MulType{"start": isa.MulStart, "24x8": isa.Mul24x8, "16x16": isa.Mul16x16, "32x32": isa.Mul32x32}
var mulSteps = map[string]isa.MulStep{"step1": isa.MulStep1, "step2": isa.MulStep2, "step3": isa.MulStep3, "step4": isa.MulStep4, "last": isa.MulLast, "last2": isa.MulLast2}

// mul encodes mul_step[A, B], TYPE_STEP and mul_step[dst, --], TYPE_last.
func (e *encoder) mul() (isa.Instr, error) {
	if err := e.nargs(2); err != nil {
		return nil, err
	}
	if len(e.in.Mods) == 0 {
		return nil, e.errf("mul_step needs its type, e.g. \", 32x32_step1\"")
	}
	tm := e.in.Mods[0]
	rest := &encoder{mode: e.mode, in: &instr{Pos: e.in.Pos, Mnem: e.in.Mnem, Mods: e.in.Mods[1:]}}
	ms, err := rest.mods("no_cc", "gpr_wrboth", "predicate_cc")
	if err != nil {
		return nil, err
	}
	in := isa.MulInstr{Flags: ms.flags()}
	typ, step, _ := strings.Cut(tm.Name, "_")
	var ok bool
	if in.Type, ok = mulTypes[typ]; !ok || tm.Bracket || (typ == "start") != (step == "") {
		return nil, &posError{col: tm.Pos.Column, msg: fmt.Sprintf("%q is not a mul_step type (start, 24x8_…, 16x16_…, 32x32_…)", tm.Name)}
	}
	if step != "" {
		if in.Step, ok = mulSteps[step]; !ok {
			return nil, &posError{col: tm.Pos.Column, msg: fmt.Sprintf("%q: unknown step (step1..step4, last, last2)", tm.Name)}
		}
	}
	if in.Step >= isa.MulLast {
		if e.argText(1) != "--" {
			return nil, e.errAt(e.in.Args[1], "%s writes a result: the second operand is --", tm.Name)
		}
		var lm bool
		if in.A, in.DstB, lm, err = e.dst10(e.in.Args[0]); err != nil {
			return nil, err
		}
		in.B = e.fill10()
		in.Flags |= lmFlags(false, lm)
		return in, nil
	}
	var lm bool
	if in.A, in.B, in.Swap, lm, err = e.pair10(e.in.Args[0], e.in.Args[1]); err != nil {
		return nil, err
	}
	in.Flags |= lmFlags(lm, false)
	return in, nil
}

// isBankA reports a bank-A register (relative or absolute).
func isBankA(s string) bool { return strings.HasPrefix(s, "gprA_") || strings.HasPrefix(s, "@gprA_") }

// isBankB reports a bank-B register (relative or absolute).
func isBankB(s string) bool { return strings.HasPrefix(s, "gprB_") || strings.HasPrefix(s, "@gprB_") }
