package isa

import "testing"

// goldens are nfp-isa.md §8: kernel emitter calls, their words with ECC and
// GNU objdump's text in 4-context mode.
var goldens = []struct {
	name string
	in   Instr
	word Word
	text string
}{
	{"nop", Nop(), 0x000000f0000c0300, "nop"},
	{"immed both 2", Immed(GPRBoth(0), 2), 0x000502f0000c0800, "immed[gprA_0, 0x2], gpr_wrboth"},
	{"immed b22", Immed(GPRB(22), 0x3fff), 0x000f20f003f05bff, "immed[gprB_22, 0x3fff]"},
	{"immed inverted", Immed(GPRBoth(2), 0xffffffea), 0x000562f0800c5402, "immed[gprA_2, 0xffffffea], gpr_wrboth"},
	{"immed inverted shifted", Immed(GPRBoth(3), 0xff1234ff), 0x000142f28edf2c03, "immed[gprA_3, 0xffff1234, <<8], gpr_wrboth"},
	{"immed part1", Immed(GPRBoth(3), 0x5678), 0x000e62f0056de003, "immed[gprA_3, 0x5678], gpr_wrboth"},
	{"immed_w1", ImmedW(GPRBoth(3), 0x1234, 1), 0x0001e2f4412cd003, "immed_w1[gprA_3, 0x1234], gpr_wrboth"},
	{"immed none", Immed(None, 0x1f80), 0x000880f001fe0300, "immed[--, 0x1f80]"},
	{"alu and lm", ALU(GPRB(22), GPRB(22), OpAnd, LM(1, 0)), 0x000700b441605a20, "alu[gprB_22, gprB_22, AND, *l$index1]"},
	{"alu add", ALU(GPRBoth(4), GPRA(4), OpAdd, GPRB(6)), 0x000a02a080401804, "alu[gprA_4, gprA_4, +, gprB_6], gpr_wrboth"},
	{"alu addc", ALU(GPRBoth(5), GPRA(5), OpAddCarry, GPRB(7)), 0x000362a880501c05, "alu[gprA_5, gprA_5, +carry, gprB_7], gpr_wrboth"},
	{"alu sub imm", ALU(GPRBoth(4), Imm(0), OpSub, GPRB(4)), 0x000e22aa80401300, "alu[gprA_4, 0x0, -, gprB_4], gpr_wrboth"},
	{"alu swap", ALU(None, GPRB(2), OpSub, GPRA(4)), 0x0009a0aaf0000804, "alu[--, gprB_2, -, gprA_4]"},
	{"mov b", Mov(GPRBoth(2), GPRB(4)), 0x000942a000201000, "alu[gprA_2, --, B, gprB_4], gpr_wrboth"},
	{"mov xfer", Mov(Xfer(0), GPRA(2)), 0x000360a058000002, "alu[$xfer_0, --, B, gprA_2]"},
	{"mov from xfer", Mov(GPRBoth(2), Xfer(1)), 0x000642a000260400, "alu[gprA_2, --, B, $xfer_1], gpr_wrboth"},
	{"mov to lm", Mov(LM(0, 3), GPRB(4)), 0x000120a020301000, "alu[*l$index0[3], --, B, gprB_4]"},
	{"mov lm inc", Mov(GPRBoth(4), LMInc(3)), 0x000366a00048c000, "alu[gprA_4, --, B, *l$index3++], gpr_wrboth"},
	{"mov lm2", Mov(GPRBoth(8), LM(2, 5)), 0x000186a000881400, "alu[gprA_8, --, B, *l$index2[5]], gpr_wrboth"},
	{"shl", Shf(GPRBoth(4), None, ShfB, GPRB(4), ShiftL, 3), 0x00098281d0401200, "alu_shf[gprA_4, --, B, gprB_4, <<3], gpr_wrboth"},
	{"shr", Shf(GPRBoth(4), None, ShfB, GPRB(4), ShiftR, 3), 0x0008028030401100, "alu_shf[gprA_4, --, B, gprB_4, >>3], gpr_wrboth"},
	{"dbl_shf", DblShf(GPRBoth(5), GPRA(5), GPRB(4), 29), 0x0006e281d0501305, "dbl_shf[gprA_5, gprA_5, gprB_4, >>29], gpr_wrboth"},
	{"asr", Asr(GPRBoth(4), GPRB(4), 7), 0x0003628c70401100, "asr[gprA_4, gprB_4, >>7], gpr_wrboth"},
	{"shr indirect", Shf(GPRBoth(4), None, ShfB, GPRB(4), ShiftR, 0), 0x0004028000401100, "alu_shf[gprA_4, --, B, gprB_4, >>indirect], gpr_wrboth"},
	{"and shr indirect", Shf(GPRB(2), Imm(0xff), ShfAnd, GPRB(2), ShiftR, 0), 0x000bc094002409ff, "alu_shf[gprB_2, 0xff, AND, gprB_2, >>indirect]"},
	{"ld_field rot", LdField(GPRBoth(2), 0xf, GPRA(2), ShiftRotR, 8, false), 0x000462c08f080802, "ld_field[gprB_2, 1111, gprA_2, >>rot8], gpr_wrboth"},
	{"ld_field_w_clr", LdField(GPRBoth(2), 0x3, Xfer(0), ShiftRotR, 0, true), 0x000482c003120002, "ld_field_w_clr[gprA_2, 0011, $xfer_0], gpr_wrboth"},
	{"beq", Br(BEQ, 100), 0x000880d819008120, "beq[.100]"},
	{"bcc", Br(BLO, 10), 0x000080d802808125, "bcc[.10]"},
	{"br defer", func() Instr { b := Br(BR, 9000); b.Defer = 2; return b }(), 0x000ac1d8ca208038, "br[.9000], defer[2]"},
	{"br_bset", BrBit(GPRA(2), 5, true, 7), 0x000dc0d001c49802, "br_bset[gprA_2, 5, .7]"},
	{"rtn", func() Instr { j := Rtn(GPRA(21)); j.Defer = 3; return j }(), 0x000260e8003c0015, "rtn[gprA_21], defer[3]"},
	{"read8", Cmd(TargetMU, "read8", 0, LM(1, 2), Imm(14), Mode32, 4, CtxSwapWait), 0x0005d0431604b85a, "mem[read8, $xfer_0, *l$index1[2], 0xe, 4], ctx_swap[sig1]"},
	{"read32_swap", Cmd(TargetMU, "read32_swap", 0, GPRA(2), Imm(0), Mode32, 2, CtxSwapWait), 0x0007505c12088002, "mem[read32_swap, $xfer_0, gprA_2, 0x0, 2], ctx_swap[sig1]"},
	{"read32_swap 40BA", Cmd(TargetMU, "read32_swap", 0, GPRA(2), GPRB(3), Mode40BA, 2, CtxSwapWait), 0x0000e45c12080c02, "mem[read32_swap, $xfer_0, gprB_3, <<8, gprA_2, 2], ctx_swap[sig1]"},
	{"write8_swap", Cmd(TargetMU, "write8_swap", 0, GPRA(4), Imm(6), Mode32, 2, CtxSwapWait), 0x0007504212089804, "mem[write8_swap, $xfer_0, gprA_4, 0x6, 2], ctx_swap[sig1]"},
	{"add64", Cmd(TargetMU, "add64", 0, GPRA(2), GPRB(3), Mode40BA, 5, CtxSwapDefer2), 0x0003844718000e02, "mem[add64, $xfer_0, gprB_3, <<8, gprA_2, 5], ctx_swap[sig1], defer[2]"},
	{"add_imm indirect", func() Instr {
		c := Cmd(TargetMU, "add_imm", 0, GPRA(2), GPRB(3), Mode40BA, 1, CtxNoSwap)
		c.Indirect = true
		return c
	}(), 0x0000c64700080f02, "mem[add_imm, $xfer_0, gprB_3, <<8, gprA_2, 1], indirect_ref"},
	{"csr wr b", CSRWrite(CSRActLMAddr0, GPRB(4)), 0x000340fc06601300, "local_csr_wr[ActLMAddr0, gprB_4]"},
	{"csr wr a", CSRWrite(CSRActLMAddr3, GPRA(22)), 0x000780fc09ec0016, "local_csr_wr[ActLMAddr3, gprA_22]"},
	{"csr wr imm", CSRWrite(CSRActLMAddr2, Imm(5)), 0x000ca0fc096c1705, "local_csr_wr[ActLMAddr2, 0x5]"},
	{"csr rd", CSRRead(CSRPseudoRndNum), 0x000ea0fc14800000, "local_csr_rd[PseudoRndNum]"},
	{"mul start", MulStepOp(GPRA(0), GPRB(2), MulStart, MulStep1), 0x0000c0f800000800, "mul_step[gprA_0, gprB_2], start"},
	{"mul step1", MulStepOp(GPRA(0), GPRB(2), Mul32x32, MulStep1), 0x000cc0f980000800, "mul_step[gprA_0, gprB_2], 32x32_step1"},
	{"mul last", MulResult(GPRBoth(0), Mul32x32, false), 0x000402f980400000, "mul_step[gprA_0, --], 32x32_last, gpr_wrboth"},
	{"mul last2", MulResult(GPRBoth(1), Mul32x32, true), 0x0001a2f980500001, "mul_step[gprA_1, --], 32x32_last2, gpr_wrboth"},
	{"mul 16 last", MulResult(GPRBoth(0), Mul16x16, false), 0x000302f900400000, "mul_step[gprA_0, --], 16x16_last, gpr_wrboth"},
	// §8.1 image words not covered above.
	{"immed hi 0", Immed(GPRBoth(1), 0), 0x000cc2f0000c0001, "immed[gprA_1, 0x0], gpr_wrboth"},
	{"mov imm", Mov(GPRA(0), Imm(0)), 0x000a00a0000c0000, "alu[gprA_0, --, B, 0x0]"},
	{"ld_field imm8", LdField(GPRA(0), 0xc, Imm(0x82), ShiftL, 16, false), 0x000800c10c048a00, "ld_field[gprA_0, 1100, 0x82, <<16]"},
	{"xdp range", ALU(None, Imm(3), OpSub, GPRB(0)), 0x000460aab0000303, "alu[--, 0x3, -, gprB_0]"},
	{"immed_w1 b2", ImmedW(GPRB(2), 0x4411, 1), 0x000b60f444400b11, "immed_w1[gprB_2, 0x4411]"},
	{"shl a1", Shf(GPRA(1), None, ShfB, GPRB(0), ShiftL, 3), 0x000b0081d0100200, "alu_shf[gprA_1, --, B, gprB_0, <<3]"},
	{"or 0", ALU(None, GPRA(1), OpOr, Imm(0)), 0x000200aa300c0001, "alu[--, gprA_1, OR, 0x0]"},
	{"ld_field b2", LdField(GPRA(0), 0xc, GPRB(2), ShiftL, 16, false), 0x000100c10c000a00, "ld_field[gprA_0, 1100, gprB_2, <<16]"},
}

func TestGoldenEncodings(t *testing.T) {
	for _, g := range goldens {
		w, err := Encode(g.in)
		if err != nil {
			t.Errorf("%s: Encode: %v", g.name, err)
			continue
		}
		if w != g.word {
			t.Errorf("%s: Encode = 0x%016x, want 0x%016x (diff 0x%x)", g.name, uint64(w), uint64(g.word), uint64(w^g.word))
		}
		if err := CheckECC(g.word); err != nil {
			t.Errorf("%s: %v", g.name, err)
		}
		if txt, ok := Text(g.in, Options{Mode: Ctx4}); txt != g.text || !ok {
			t.Errorf("%s: Text = %q (ok %v), want %q", g.name, txt, ok, g.text)
		}
		if got := Decode(g.word); got != g.in {
			t.Errorf("%s: Decode = %#v, want %#v", g.name, got, g.in)
		}
	}
}

func TestLoadImm32(t *testing.T) {
	seq := LoadImm32(GPRBoth(3), 0x12345678)
	if len(seq) != 2 || MustEncode(seq[0]) != 0x000e62f0056de003 || MustEncode(seq[1]) != 0x0001e2f4412cd003 {
		t.Errorf("0x12345678: %v", seq)
	}
	for _, v := range []uint32{0, 0xff, 0xffffffea, 0xff1234ff, 0xffff0000, 0x00ab0000} {
		if seq := LoadImm32(GPRA(1), v); len(seq) != 1 {
			t.Errorf("0x%x needs %d instructions", v, len(seq))
		} else if got := seq[0].(ImmedInstr); got.Loaded() != v {
			t.Errorf("0x%x loads as %v", v, got)
		}
	}
}
