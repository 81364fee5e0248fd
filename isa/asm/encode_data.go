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
