package isa_test

import (
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
)

// TestEncodeRejects: what the hardware cannot do is refused by Encode
// with a message naming the problem.
func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   isa.Instr
		want string
	}{
		{"two bank A sources", isa.ALU(isa.GPRA(1), isa.GPRA(2), isa.OpAdd, isa.GPRA(3)), "two bank A GPR sources"},
		{"two bank B sources", isa.ALU(isa.GPRA(1), isa.GPRB(2), isa.OpAdd, isa.GPRB(3)), "two bank B GPR sources"},
		{"two immediates", isa.ALU(isa.GPRA(1), isa.Imm(2), isa.OpAdd, isa.Imm(3)), "two immediate sources"},
		{"two LM sources", isa.ALU(isa.GPRA(1), isa.LM(0, 1), isa.OpAdd, isa.LM(1, 2)), "two local-memory sources"},
		{"two xfer sources", isa.ALU(isa.GPRA(1), isa.Xfer(0), isa.OpAdd, isa.XferIndexed(isa.ModInc)), "two transfer register sources"},
		{"immediate too big", isa.ALU(isa.GPRA(1), isa.GPRA(2), isa.OpAdd, isa.Imm(256)), "immediate 0x100 does not fit an unrestricted operand"},
		{"restricted immediate", isa.Shf(isa.GPRA(1), isa.None, isa.ShfB, isa.Imm(0x100), isa.ShiftL, 1), "does not fit a restricted operand"},
		{"immediate destination", isa.ALU(isa.Imm(1), isa.None, isa.OpB, isa.GPRB(1)), "immediate cannot be a destination"},
		{"no ALU op", isa.ALU(isa.GPRA(1), isa.None, 2, isa.GPRB(1)), "ALU op 0x2 does not exist"},
		{"gpr range", isa.Mov(isa.GPRA(32), isa.GPRB(1)), "relative GPR number 32 out of range"},
		{"lm offset", isa.Mov(isa.GPRA(1), isa.LM(0, 16)), "LM offset 16 out of range"},
		{"restricted lm offset", isa.Shf(isa.GPRA(1), isa.None, isa.ShfB, isa.LM(0, 8), isa.ShiftL, 1), "LM offset 8 out of range 0..7"},
		{"restricted nn", isa.Shf(isa.GPRA(1), isa.None, isa.ShfB, isa.NN(1), isa.ShiftL, 1), "needs an unrestricted operand"},
		{"shift range", isa.Shf(isa.GPRA(1), isa.None, isa.ShfB, isa.GPRB(1), isa.ShiftL, 32), "shift amount 32 out of range"},
		{"immed", isa.Immed(isa.GPRA(1), 0x12345678), "does not fit one immed"},
		{"branch target", isa.Br(isa.BEQ, 16384), "branch target 16384 out of range"},
		{"negative target", isa.Br(isa.BEQ, -1), "branch target -1 out of range"},
		{"branch cond", isa.Br(12, 0), "branch condition 12 does not exist"},
		{"defer", isa.BranchInstr{Cond: isa.BR, Defer: 4}, "defer = 4 does not fit 2 bits"},
		{"bit", isa.BrBit(isa.GPRA(1), 32, true, 0), "bit 32 out of range"},
		{"jump imm", isa.Jump(isa.GPRA(1), 1<<17), "out of range 0..131071"},
		{"mul start step", isa.MulStepOp(isa.GPRA(0), isa.GPRB(1), isa.MulStart, isa.MulStep2), "not a start/step form"},
		{"csr", isa.CSRRead(4096), "CSR number 4096 out of range"},
		{"cmd name", isa.Cmd(isa.TargetMU, "frobnicate", 0, isa.GPRA(1), isa.Imm(0), isa.Mode32, 1, isa.CtxSwapWait), `has no command "frobnicate"`},
		{"cmd count", isa.Cmd(isa.TargetMU, "add64", 0, isa.GPRA(1), isa.GPRB(2), isa.Mode40BA, 1, isa.CtxSwapWait), "count 1 does not select this command"},
		{"cmd swap", isa.Cmd(isa.TargetMU, "read", 0, isa.GPRB(1), isa.GPRA(2), isa.Mode32, 1, isa.CtxSwapWait), "commands cannot swap"},
		{"cmd lm ext", isa.Cmd(isa.TargetMU, "read", 0, isa.LM(2, 1), isa.Imm(0), isa.Mode32, 1, isa.CtxSwapWait), "LM-extension"},
		{"cmd imm", isa.Cmd(isa.TargetMU, "read", 0, isa.GPRA(1), isa.Imm(0x80), isa.Mode32, 1, isa.CtxSwapWait), "does not fit a restricted operand (max 0x7f)"},
		{"xfer range", isa.CmdInstr{Xfer: 64}, "xfer 64 out of range"},
		{"no_cc on immed", isa.ImmedInstr{A: isa.NoDst10, B: isa.NoDst10, Flags: isa.FlagNoCC}, "no no_cc bit"},
		{"invalid bits", isa.InvalidInstr{Bits: 1 << 45}, "bits above bit 44"},
		{"wrong class", isa.InvalidInstr{Bits: 0x0f0000c0300}, "decodes as immed"},
		{"nil", nil, "nil instruction"},
	} {
		_, err := isa.Encode(tc.in)
		if err == nil {
			t.Errorf("%s: Encode accepted it", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
}
