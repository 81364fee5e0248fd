package nfp

import (
	"fmt"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// Program is code ready to run: the pre-decoded ops, the instructions
// (whose text error messages and traces print), and where execution
// starts.
type Program struct {
	Code  []op
	Entry uint32
	Type  image.ProgType

	ins []isa.Instr
	// text is the instructions' text where the loader was given it (a
	// dump); otherwise InstrText prints an instruction when asked, so that
	// loading an image costs no printing (the differential fuzzer loads
	// thousands a second).
	text []string
	// fast is Code for Run's fast loop (fast.go), one more word at the end.
	fast []fop
}

// InstrText is the text of the instruction at pc, for messages and traces.
func (p *Program) InstrText(pc uint32) string {
	switch {
	case int(pc) < len(p.text):
		return p.text[pc]
	case int(pc) < len(p.ins):
		s, _ := isa.Text(p.ins[pc], isa.Options{Mode: isa.Ctx4})
		return s
	}
	return ""
}

// branchInfo is what a relocation says about a branch word.
type branchInfo struct {
	exit   uint8
	target uint32
	aux    uint32
}

// translate turns decoded instructions into ops. relocs says, per word
// index, how a branch fixed at load is to be taken (nfp-isa.md §4.12). The
// error names the address and instruction of the first thing the emulator
// cannot run faithfully.
func translate(ins []isa.Instr, relocs []image.Reloc, text []string) (*Program, error) {
	if text != nil && len(text) != len(ins) {
		return nil, fmt.Errorf("%d instruction texts for %d instructions", len(text), len(ins))
	}
	p := &Program{Code: make([]op, len(ins)), ins: ins, text: text}
	br := map[uint32]branchInfo{}
	for _, r := range relocs {
		switch r.Kind {
		case image.RelocBrGoOut:
			br[r.Index] = branchInfo{exit: exitOut, target: r.Value}
		case image.RelocBrGoAbort:
			br[r.Index] = branchInfo{exit: exitAbort, target: r.Value}
		case image.RelocBrGoCallPushRegs, image.RelocBrGoCallPopRegs:
			br[r.Index] = branchInfo{target: r.Value}
		case image.RelocBrNextPkt:
			br[r.Index] = branchInfo{exit: exitDone}
		case image.RelocBrHelper:
			br[r.Index] = branchInfo{exit: exitHelper, aux: r.Value}
		case image.RelocBrRel, image.RelocImmedRel:
			// Code runs at address 0 here, so program-relative values are
			// already right.
		default:
			return nil, &RunError{PC: r.Index, Msg: fmt.Sprintf("relocation kind %v is not modelled", r.Kind)}
		}
	}
	for i, in := range ins {
		o, err := translateOne(in)
		if err != nil {
			return nil, &RunError{PC: uint32(i), Instr: p.InstrText(uint32(i)), Msg: err.Error()}
		}
		o.dst.both = o.dst.idx
		if o.flags&fWrBoth != 0 {
			if !(o.dst.kind == oReg && o.dst.idx < rXin) {
				return nil, &RunError{PC: uint32(i), Instr: p.InstrText(uint32(i)), Msg: "gpr_wrboth without a GPR destination is not modelled"}
			}
			o.dst.both = o.dst.idx ^ rB
		}
		if o.kind == kBr || o.kind == kBrBit || o.kind == kJump {
			if bi, ok := br[uint32(i)]; ok {
				if o.kind == kJump {
					return nil, &RunError{PC: uint32(i), Instr: p.InstrText(uint32(i)), Msg: "relocation on a register jump"}
				}
				o.exit, o.aux = bi.exit, bi.aux
				if bi.exit != exitHelper && bi.exit != exitDone {
					o.target = bi.target
				}
			}
			if o.exit == exitNone && o.kind != kJump && int(o.target) >= len(ins) {
				return nil, &RunError{PC: uint32(i), Instr: p.InstrText(uint32(i)), Msg: fmt.Sprintf("branch target .%d is outside the code (%d words) and no relocation says where it goes", o.target, len(ins))}
			}
		}
		p.Code[i] = o
	}
	p.buildFast()
	return p, nil
}

// operand conversion --------------------------------------------------------

func conv(o isa.Operand, dst bool) (operand, error) {
	switch o.Kind {
	case isa.KNone:
		return operand{kind: oNone}, nil
	case isa.KImm:
		if dst {
			return operand{kind: oNone}, nil
		}
		return operand{kind: oConst, val: o.Value}, nil
	case isa.KGPR:
		if o.Num < 0 || o.Num > 31 {
			return operand{}, fmt.Errorf("GPR number %d out of range", o.Num)
		}
		if o.Bank == isa.BankB {
			return operand{kind: oReg, idx: uint8(rB + o.Num)}, nil
		}
		return operand{kind: oReg, idx: uint8(rA + o.Num)}, nil
	case isa.KXfer:
		if o.Num < 0 || o.Num > 63 {
			return operand{}, fmt.Errorf("transfer register %d out of range", o.Num)
		}
		if dst {
			return operand{kind: oReg, idx: uint8(rXout + o.Num)}, nil
		}
		return operand{kind: oReg, idx: uint8(rXin + o.Num)}, nil
	case isa.KNN:
		return operand{kind: oReg, idx: uint8(rNN + o.Num&31)}, nil
	case isa.KLM:
		switch o.Mod {
		case isa.ModInc:
			return operand{kind: oLMInc, idx: uint8(o.Index)}, nil
		case isa.ModDec:
			return operand{kind: oLMDec, idx: uint8(o.Index)}, nil
		}
		return operand{kind: oLM, idx: uint8(o.Index), off: uint8(o.Off)}, nil
	case isa.KAbsGPR:
		return operand{}, fmt.Errorf("absolute register %v is not modelled", o)
	case isa.KXferIndexed, isa.KNNIndexed:
		return operand{}, fmt.Errorf("indexed register %v is not modelled", o)
	}
	return operand{}, fmt.Errorf("invalid operand field %#x", o.Raw)
}

func src10(f isa.Opnd10, bank isa.Bank, lmext bool) (operand, error) {
	return conv(f.Operand(bank, lmext, isa.Ctx4), false)
}

func src8(f isa.Opnd8, bank isa.Bank, lmext, i8 bool) (operand, error) {
	return conv(f.Operand(bank, lmext, i8, isa.Ctx4), false)
}

// sources reads the A and B fields and orders them as (left, right).
func sources(a, b operand, swap bool) (operand, operand) {
	if swap {
		return b, a
	}
	return a, b
}

func bankOf(dstB bool) isa.Bank {
	if dstB {
		return isa.BankB
	}
	return isa.BankA
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func translateOne(in isa.Instr) (op, error) {
	var o op
	switch x := in.(type) {
	case isa.ALUInstr:
		if x.Flags&isa.FlagPredCC != 0 {
			return o, fmt.Errorf("predicate_cc is not modelled")
		}
		sl := x.Flags&isa.FlagSrcLMExt != 0
		a, e1 := src10(x.A, isa.BankA, sl)
		b, e2 := src10(x.B, isa.BankB, sl)
		d, e3 := conv(x.Dst.Operand(bankOf(x.DstB), x.Flags&isa.FlagDstLMExt != 0, isa.Ctx4), true)
		if err := firstErr(e1, e2, e3); err != nil {
			return o, err
		}
		switch x.Op {
		case isa.OpB, isa.OpAdd, isa.OpNotB, isa.OpAdd16, isa.OpAnd, isa.OpAdd8, isa.OpNotAAndB,
			isa.OpSubCarry, isa.OpAndNotB, isa.OpAddCarry, isa.OpOr, isa.OpSub, isa.OpXor, isa.OpBMinusA:
		default:
			return o, fmt.Errorf("alu operation %v is not modelled", x.Op)
		}
		o = op{kind: kALU, sub: uint8(x.Op), dst: d, mclass: mcOneCC}
		o.a, o.b = sources(a, b, x.Swap)
		if x.Swap {
			o.flags |= fSwapped
		}
		o.flags |= aluFlags(x.Flags)
	case isa.ShfInstr:
		if x.Flags&isa.FlagPredCC != 0 {
			return o, fmt.Errorf("predicate_cc is not modelled")
		}
		sl := x.Flags&isa.FlagSrcLMExt != 0
		a, e1 := src8(x.A, isa.BankA, sl, x.I8)
		b, e2 := src8(x.B, isa.BankB, sl, x.I8)
		d, e3 := conv(x.Dst.Operand(bankOf(x.DstB), x.Flags&isa.FlagDstLMExt != 0, false, isa.Ctx4), true)
		if err := firstErr(e1, e2, e3); err != nil {
			return o, err
		}
		o = op{dst: d, mclass: mcOneCC, sub: uint8(x.Op), sc: uint8(x.SC)}
		o.a, o.b = sources(a, b, x.Swap)
		if x.Swap {
			o.flags |= fSwapped
		}
		o.flags |= aluFlags(x.Flags)
		switch {
		case x.Op == isa.ShfByteAlign:
			return o, fmt.Errorf("byte_align is not modelled")
		case x.SC == isa.ShiftDbl:
			if x.Op != isa.ShfB {
				return o, fmt.Errorf("dbl_shf with operation %v is not modelled", x.Op)
			}
			o.kind = kDblShf
			o.shift = x.Shift
			if x.Shift == 0 {
				o.shift = shfInd
			}
		case x.Op == isa.ShfAsr:
			if x.SC != isa.ShiftR {
				return o, fmt.Errorf("asr with shift control %d is not modelled", x.SC)
			}
			o.kind = kShf
			o.shift = x.Shift
			if x.Shift == 0 {
				o.shift = shfInd
			}
		default:
			o.kind = kShf
			o.shift = x.Shift
			switch x.SC {
			case isa.ShiftL:
				if x.Shift == 0 {
					o.shift = shfInd
				} else {
					o.shift = 32 - x.Shift
				}
			case isa.ShiftR:
				if x.Shift == 0 {
					o.shift = shfInd
				}
			}
		}
	case isa.LdFieldInstr:
		if x.Flags&isa.FlagPredCC != 0 {
			return o, fmt.Errorf("predicate_cc is not modelled")
		}
		sl := x.Flags&isa.FlagSrcLMExt != 0
		a, e1 := src8(x.A, isa.BankA, sl, x.I8)
		b, e2 := src8(x.B, isa.BankB, sl, x.I8)
		if err := firstErr(e1, e2); err != nil {
			return o, err
		}
		d, s := a, b
		if x.Swap {
			d, s = b, a
		}
		if d.kind == oConst || d.kind == oNone {
			return o, fmt.Errorf("ld_field destination is a constant")
		}
		if x.Flags&isa.FlagDstLMExt != 0 && d.kind == oLM {
			d.idx |= 2
		}
		// a reads the preserved bytes, dst is written: for a transfer
		// register those are the transfer-in and transfer-out files.
		w := d
		if w.kind == oReg && w.idx >= rXin && w.idx < rXout {
			w.idx += rXout - rXin
		}
		o = op{kind: kLdField, a: d, dst: w, b: s, sc: uint8(x.SC), mask: x.Mask, imm: byteMask(x.Mask), mclass: mcOneCC}
		switch x.SC {
		case isa.ShiftL:
			if x.Shift != 0 {
				o.shift = 32 - x.Shift
			}
		case isa.ShiftDbl:
			return o, fmt.Errorf("ld_field with >>dbl is not modelled")
		default:
			o.shift = x.Shift
		}
		if x.Clear {
			o.flags |= fClear
		}
		if x.LoadCC {
			o.flags |= fLoadCC
		}
		if x.Flags&isa.FlagWrBoth != 0 {
			o.flags |= fWrBoth
		}
	case isa.ImmedInstr:
		if x.Flags&isa.FlagPredCC != 0 {
			return o, fmt.Errorf("predicate_cc is not modelled")
		}
		var dstF, immF isa.Opnd10
		var bank isa.Bank
		switch {
		case x.B.IsImm():
			dstF, immF, bank = x.A, x.B, isa.BankA
		default:
			dstF, immF, bank = x.B, x.A, isa.BankB
		}
		if !immF.IsImm() {
			return o, fmt.Errorf("immed without a constant field")
		}
		d, err := conv(dstF.Operand(bank, x.Flags&isa.FlagDstLMExt != 0, isa.Ctx4), true)
		if err != nil {
			return o, err
		}
		if dstF.IsImm() {
			d = operand{kind: oNone}
		}
		v := uint32(x.ImmHi)<<8 | immF.ImmValue()
		o = op{kind: kImmed, dst: d, mclass: mcOne}
		switch x.Width {
		case isa.WidthAll:
			o.imm = v << (8 * x.Shift)
			if x.Inv {
				o.imm = ^o.imm
			}
		case isa.WidthWord, isa.WidthByte:
			if x.Inv {
				return o, fmt.Errorf("inverted partial immed is not modelled")
			}
			if x.Width == isa.WidthWord && x.Shift&1 != 0 {
				return o, fmt.Errorf("immed_w with byte shift %d is not modelled", x.Shift)
			}
			o.sc = immByte
			if x.Width == isa.WidthWord {
				o.sc = immWord
			}
			o.shift = x.Shift
			o.imm = v
			if d.kind == oNone {
				return o, fmt.Errorf("partial immed without a destination")
			}
		default:
			return o, fmt.Errorf("immed width %d is not modelled", x.Width)
		}
		if x.Flags&isa.FlagWrBoth != 0 {
			o.flags |= fWrBoth
		}
	case isa.BranchInstr:
		o = op{kind: kBr, sub: uint8(x.Cond), defer_: x.Defer, target: uint32(x.Addr), mclass: mcCondBr}
		switch {
		case x.Cond == isa.BR:
			o.mclass = mcUncondBr
		case x.Cond <= isa.BGT:
		case x.Cond == isa.BrCtxEq || x.Cond == isa.BrCtxNe:
			o.aux = uint32(x.CSS)
		default:
			return o, fmt.Errorf("branch condition %v is not modelled", x.Cond)
		}
		if x.Defer > 2 {
			return o, fmt.Errorf("branch defer %d is not modelled", x.Defer)
		}
	case isa.BrBitInstr:
		a, e1 := src8(x.A, isa.BankA, x.Flags&isa.FlagSrcLMExt != 0, false)
		b, e2 := src8(x.B, isa.BankB, x.Flags&isa.FlagSrcLMExt != 0, false)
		if err := firstErr(e1, e2); err != nil {
			return o, err
		}
		reg, bit := a, b
		if a.kind == oConst {
			reg, bit = b, a
		}
		if bit.kind != oConst || reg.kind == oConst {
			return o, fmt.Errorf("br_bit needs one register and one constant")
		}
		o = op{kind: kBrBit, a: reg, shift: uint8((bit.val - 1) & 31), defer_: x.Defer, target: uint32(x.Addr), mclass: mcCondBr}
		if x.Set {
			o.flags |= fTaken
		}
	case isa.JumpInstr:
		a, e1 := src10(x.A, isa.BankA, x.Flags&isa.FlagSrcLMExt != 0)
		b, e2 := src10(x.B, isa.BankB, x.Flags&isa.FlagSrcLMExt != 0)
		if err := firstErr(e1, e2); err != nil {
			return o, err
		}
		reg, k := a, b
		if a.kind == oConst {
			reg, k = b, a
		}
		if k.kind != oConst || reg.kind == oConst {
			return o, fmt.Errorf("jump needs one register and one constant")
		}
		o = op{kind: kJump, a: reg, imm: uint32(x.ImmHi)<<8 | k.val, defer_: x.Defer, mclass: mcUncondBr}
	case isa.MulInstr:
		sl := x.Flags&isa.FlagSrcLMExt != 0
		a, e1 := src10(x.A, isa.BankA, sl)
		b, e2 := src10(x.B, isa.BankB, sl)
		if err := firstErr(e1, e2); err != nil {
			return o, err
		}
		o = op{kind: kMul, sub: uint8(x.Type), sc: uint8(x.Step), mclass: mcOne}
		if x.Type == isa.MulStart && x.Step != isa.MulStep1 {
			return o, fmt.Errorf("mul_step start with a step")
		}
		if x.Step == isa.MulLast || x.Step == isa.MulLast2 {
			o.mclass = mcOneCC
			d, err := conv(x.A.Operand(bankOf(x.DstB), x.Flags&isa.FlagDstLMExt != 0, isa.Ctx4), true)
			if err != nil {
				return o, err
			}
			o.dst = d
		} else if x.Step > isa.MulLast2 {
			return o, fmt.Errorf("mul_step step %d is not modelled", x.Step)
		}
		o.a, o.b = sources(a, b, x.Swap)
		if x.Flags&isa.FlagWrBoth != 0 {
			o.flags |= fWrBoth
		}
	case isa.CSRInstr:
		o = op{kind: kCSRRd, imm: uint32(x.CSR) * 4, mclass: mcOne}
		if x.Write {
			o.kind = kCSRWr
			sl := x.Flags&isa.FlagSrcLMExt != 0
			a, e1 := src10(x.A, isa.BankA, sl)
			b, e2 := src10(x.B, isa.BankB, sl)
			if err := firstErr(e1, e2); err != nil {
				return o, err
			}
			o.a = a
			if a.kind == oConst && b.kind != oConst {
				o.a = b
			}
			if lmPointerCSR(o.imm) < 0 && o.imm != csrPseudoRnd {
				return o, fmt.Errorf("local_csr_wr of CSR %#x is not modelled", o.imm)
			}
		}
	case isa.CmdInstr:
		return translateCmd(x)
	case isa.CtxArbInstr:
		o = op{kind: kCtxArb, mclass: mcOne}
	case isa.BrByteInstr:
		return o, fmt.Errorf("br=byte / br!=byte is not modelled")
	case isa.InvalidInstr:
		return o, fmt.Errorf("invalid instruction word %#x", x.Bits)
	default:
		return o, fmt.Errorf("instruction %T is not modelled", in)
	}
	return o, nil
}

func aluFlags(f isa.Flags) uint16 {
	var r uint16
	if f&isa.FlagWrBoth != 0 {
		r |= fWrBoth
	}
	if f&isa.FlagNoCC != 0 {
		r |= fNoCC
	}
	return r
}

// translateCmd decodes a command's target and action (nfp-isa.md §2.12.2)
// and looks it up in the command table.
func translateCmd(x isa.CmdInstr) (op, error) {
	var o op
	t, name := x.CmdName()
	if name == "" {
		return o, fmt.Errorf("unknown command (tgt_cmd %#x, token %d)", x.TgtCmd, x.Token)
	}
	if t != isa.TargetMU && t != isa.TargetCLS {
		return o, fmt.Errorf("command %s to target %d is not modelled", name, t)
	}
	idx, ok := cmdIndex(t == isa.TargetCLS, name)
	if !ok {
		return o, fmt.Errorf("command %s is not modelled", name)
	}
	a, e1 := src8(x.A, isa.BankA, false, false)
	b, e2 := src8(x.B, isa.BankB, false, false)
	if err := firstErr(e1, e2); err != nil {
		return o, err
	}
	o = op{kind: kCmd, sub: idx, a: a, b: b, sc: uint8(x.Mode), imm: uint32(x.Cnt), xfer: x.Xfer}
	switch {
	case t == isa.TargetCLS && x.Mode == isa.Mode32:
	case t == isa.TargetMU && (x.Mode == isa.Mode40AB || x.Mode == isa.Mode40BA):
		o.flags |= fWide
	case t == isa.TargetMU && x.Mode == isa.Mode32:
	default:
		return o, fmt.Errorf("command address mode %d is not modelled", x.Mode)
	}
	if x.Indirect {
		o.flags |= fIndirect
	}
	switch x.Ctx {
	case isa.CtxNoSwap:
		o.mclass = mcMemNoSwap
	default:
		o.mclass = mcMemSwap
		o.flags |= fSwap
		o.defer_ = uint8(x.Ctx) // 0, 1 or 2 defer slots
	}
	if o.flags&fWide != 0 {
		switch cmdTable[idx].kind {
		case cRead32:
			o.dram = dramRead32
		case cAddImm:
			o.dram = dramAddImm
		case cAdd, cSet, cClr, cXor:
			// Every other atomic works the DRAM engine as add_imm does
			// (an estimate: the paper measured add_imm only).
			o.xdram = dramAddImm
		}
	}
	return o, nil
}
