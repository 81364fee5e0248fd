package isa_test

import (
	"testing"

	"github.com/nfpcc/nfpcc/isa"
)

// Operand samples: every kind and the edges of every range.
var (
	regs = []isa.Operand{
		isa.GPRA(0), isa.GPRA(7), isa.GPRA(31), isa.GPRB(0), isa.GPRB(22), isa.GPRB(31),
		isa.GPRBoth(5), isa.AbsGPR(isa.BankA, 100), isa.AbsGPR(isa.BankB, 3),
	}
	others = []isa.Operand{
		isa.Xfer(0), isa.Xfer(13), isa.Xfer(31), isa.Xfer(32), isa.Xfer(63),
		isa.XferIndexed(isa.ModNone), isa.XferIndexed(isa.ModInc), isa.XferIndexed(isa.ModDec),
		isa.NN(0), isa.NN(17), isa.NNIndexed(false), isa.NNIndexed(true),
		isa.LM(0, 0), isa.LM(1, 7), isa.LM(2, 3), isa.LM(3, 15), isa.LMInc(0), isa.LMDec(1), isa.LMInc(2), isa.LMDec(3),
	}
	imms = []isa.Operand{isa.Imm(0), isa.Imm(1), isa.Imm(0x1f), isa.Imm(0x20), isa.Imm(0x7f), isa.Imm(0x80), isa.Imm(0xff)}
)

func operands(withNone bool) []isa.Operand {
	var out []isa.Operand
	out = append(out, regs...)
	out = append(out, others...)
	out = append(out, imms...)
	if withNone {
		out = append(out, isa.None)
	}
	return out
}

// allForms builds every instruction form the constructors can emit over the
// operand samples, keeping those the encoder accepts; rejected counts the
// others (which must fail with an error, never panic).
func allForms() (ok []isa.Instr, rejected int) {
	add := func(in isa.Instr) {
		if _, err := isa.Encode(in); err != nil {
			rejected++
			return
		}
		ok = append(ok, in)
	}
	all := operands(true)
	aluOps := []isa.ALUOp{isa.OpB, isa.OpAdd, isa.OpPopCount3, isa.OpNotB, isa.OpAdd16, isa.OpPopCount1,
		isa.OpPopCount2, isa.OpAnd, isa.OpAdd8, isa.OpCamClear, isa.OpNotAAndB, isa.OpSubCarry, isa.OpFFS,
		isa.OpCamReadTag, isa.OpAndNotB, isa.OpAddCarry, isa.OpCRC, isa.OpCamWrite, isa.OpOr, isa.OpSub,
		isa.OpCamLookup, isa.OpXor, isa.OpBMinusA, isa.OpCamWriteSt, isa.OpCamReadSt, 2, 10}
	for _, op := range aluOps {
		for _, d := range all {
			for _, a := range all {
				for _, b := range []isa.Operand{isa.GPRB(3), isa.GPRA(9), isa.Xfer(40), isa.LM(3, 2), isa.Imm(0x9c), isa.NN(2), isa.None} {
					add(isa.ALU(d, a, op, b))
				}
			}
		}
	}
	for op := isa.ShfOp(0); op < 8; op++ {
		for sc := isa.ShiftCtl(0); sc < 4; sc++ {
			for _, n := range []int{0, 1, 7, 31} {
				for _, d := range all {
					for _, b := range []isa.Operand{isa.GPRB(4), isa.GPRA(4), isa.Xfer(33), isa.LM(2, 7), isa.Imm(0xc5)} {
						add(isa.Shf(d, isa.GPRA(1), op, b, sc, n))
						add(isa.Shf(isa.GPRB(2), d, op, b, sc, n))
					}
				}
			}
		}
	}
	for _, d := range all {
		for _, n := range []int{0, 3, 31} {
			add(isa.DblShf(d, isa.GPRA(5), isa.GPRB(6), n))
			add(isa.Asr(d, isa.GPRB(6), n))
		}
	}
	for mask := uint8(0); mask < 16; mask++ {
		for sc := isa.ShiftCtl(0); sc < 4; sc++ {
			for _, n := range []int{0, 8, 24} {
				for _, s := range all {
					add(isa.LdField(isa.GPRA(3), mask, s, sc, n, mask&1 == 0))
					add(isa.LdField(s, mask, isa.GPRB(4), sc, n, false))
				}
			}
		}
	}
	vals := []uint32{0, 1, 0xff, 0x100, 0x1234, 0xffff, 0x10000, 0x12300, 0xff0000, 0xffff0000, 0x12340000,
		0xffffffff, 0xfffffffe, 0xffff1234, 0xff1234ff, 0x12345678, 0x80000000}
	for _, d := range all {
		for _, v := range vals {
			add(isa.Immed(d, v))
		}
		add(isa.ImmedW(d, 0xbeef, 0))
		add(isa.ImmedW(d, 0x1234, 1))
		for n := 0; n < 4; n++ {
			add(isa.ImmedB(d, 0xa5, n))
		}
	}
	add(isa.Nop())
	for c := isa.Cond(0); c < 32; c++ {
		for _, tg := range []int{0, 1, 100, 8191, 8192, 16383, 16384, -1} {
			for def := uint8(0); def < 4; def++ {
				b := isa.Br(c, tg)
				b.Defer = def
				add(b)
				if c >= 16 && c < 24 {
					b.CSS = uint8(tg) & 15
					add(b)
				}
			}
		}
	}
	for _, r := range all {
		for _, bit := range []int{0, 5, 31, 32} {
			add(isa.BrBit(r, bit, bit&1 == 1, 77))
		}
		for n := 0; n < 5; n++ {
			add(isa.BrByte(r, n, uint8(0x31*n+0x7e), n&1 == 0, 9000))
		}
		for _, imm := range []int{0, 1, 0xff, 0x100, 12345, 1<<17 - 1, 1 << 17} {
			j := isa.Jump(r, imm)
			j.Defer = uint8(imm) & 3
			add(j)
		}
		for typ := isa.MulType(0); typ < 4; typ++ {
			for st := isa.MulStep(0); st < 6; st++ {
				add(isa.MulStepOp(r, isa.GPRB(2), typ, st))
				add(isa.MulStepOp(isa.GPRA(1), r, typ, st))
			}
			add(isa.MulResult(r, typ, false))
			add(isa.MulResult(r, typ, true))
		}
		add(isa.CSRWrite(isa.CSRActLMAddr3, r))
	}
	for csr := 0; csr < 130; csr++ {
		add(isa.CSRRead(csr))
		add(isa.CSRWrite(csr, isa.GPRB(csr&31)))
	}
	add(isa.CSRRead(2047))
	for _, sigs := range []uint16{0, 1, 2, 0x8006, 0xffff} {
		add(isa.CtxArb(sigs, false))
		add(isa.CtxArb(sigs, true))
		add(isa.CtxArbInstr{Sigs: sigs, NoLoad: true, Resume: true, Addr: 4321, Defer: 1})
		add(isa.CtxArbInstr{Sigs: sigs, Bpt: true})
	}
	addrs := [][2]isa.Operand{{isa.GPRA(2), isa.GPRB(3)}, {isa.GPRA(2), isa.Imm(0x7f)}, {isa.LM(1, 2), isa.Imm(14)},
		{isa.Xfer(5), isa.GPRB(1)}, {isa.GPRB(1), isa.GPRA(2)}, {isa.Imm(3), isa.Imm(4)}}
	for _, d := range isa.CmdDefs() {
		for mode := isa.AddrMode(0); mode < 8; mode++ {
			for count := 1; count <= 8; count++ {
				for k, ab := range addrs {
					ctx := isa.CtxSwap(k % 4)
					c := isa.Cmd(d.Target, d.Name, 7*k+count, ab[0], ab[1], mode, count, ctx)
					c.Indirect = k == 2
					add(c)
				}
			}
		}
	}
	return ok, rejected
}

// TestFormsRoundTrip: every constructed instruction encodes, decodes back
// to itself, re-encodes to the same word and prints without an error
// marker.
func TestFormsRoundTrip(t *testing.T) {
	forms, rejected := allForms()
	t.Logf("%d forms encodable, %d rejected by the encoder", len(forms), rejected)
	if len(forms) < 10000 {
		t.Fatalf("only %d forms", len(forms))
	}
	bad := 0
	for _, in := range forms {
		w := isa.MustEncode(in)
		back := isa.Decode(w)
		if back != in {
			bad++
			if bad < 10 {
				t.Errorf("Decode(Encode(%#v)) = %#v", in, back)
			}
			continue
		}
		if w2, err := isa.Encode(back); err != nil || w2 != w {
			t.Errorf("re-encode 0x%x: 0x%x %v", uint64(w), uint64(w2), err)
		}
		if err := isa.CheckECC(w); err != nil {
			t.Error(err)
		}
	}
}
