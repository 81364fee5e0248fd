package asm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
)

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
	in.Addr, in.Defer, err = e.branchTail(args[0], ms)
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
	in.Addr, in.Defer, err = e.branchTail(e.in.Args[2], ms)
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
	in.Addr, in.Defer, err = e.branchTail(e.in.Args[3], ms)
	return in, err
}

// branchTail reads what every branch ends with: its target, which may be
// a load-time target, and its defer count.
func (e *encoder) branchTail(target *arg, ms modifiers) (addr uint16, deferN uint8, err error) {
	e.relocOK = true
	t, err := e.target(target)
	if err != nil {
		return 0, 0, err
	}
	d, err := e.modNum(ms["defer"], 3)
	return uint16(t), uint8(d), err
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
