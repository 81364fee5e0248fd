package nfp

import (
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

var (
	A, B, Both = isa.GPRA, isa.GPRB, isa.GPRBoth
	K          = isa.Imm
	none       = isa.None
)

// seq runs ins on context 0 from address 0; a final br to the firmware
// (RELO_BR_NEXT_PKT) ends the run. init may set registers first.
func seq(t *testing.T, init func(m *Machine, c *context), ins ...isa.Instr) (*Machine, *context, error) {
	t.Helper()
	ins = append(ins, isa.Br(isa.BR, 0))
	for i, in := range ins {
		if err := in.Err(); err != nil {
			t.Fatalf("instruction %d: %v", i, err)
		}
	}
	p, err := translate(ins, []image.Reloc{{Index: uint32(len(ins) - 1), Kind: image.RelocBrNextPkt}}, nil)
	if err != nil {
		return nil, nil, err
	}
	m := &Machine{prog: p, mem: NewMemory()}
	c := &m.ctxs[0]
	c.reset(0)
	if init != nil {
		init(m, c)
	}
	m.model.start()
	_, err = m.Run(0, 0)
	return m, c, err
}

func mustSeq(t *testing.T, init func(m *Machine, c *context), ins ...isa.Instr) (*Machine, *context) {
	t.Helper()
	m, c, err := seq(t, init, ins...)
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

func TestALUAndFlags(t *testing.T) {
	// 64-bit add (lo + then hi +carry): 0x1_ffffffff + 1 = 0x2_00000000.
	_, c := mustSeq(t, nil,
		isa.Immed(Both(0), 0xffffffff), isa.Immed(Both(1), 1),
		isa.ALU(Both(0), A(0), isa.OpAdd, K(1)),
		isa.ALU(Both(1), A(1), isa.OpAddCarry, K(0)),
		// 3 - 5: borrow (C clear), negative, no overflow.
		isa.Immed(Both(2), 3),
		isa.ALU(none, A(2), isa.OpSub, K(5)),
	)
	if c.r[rA+0] != 0 || c.r[rA+1] != 2 || c.r[rB+1] != 2 {
		t.Errorf("64-bit add: %#x:%#x", c.r[rA+1], c.r[rA+0])
	}
	if c.flag(ccC) || !c.flag(ccN) || c.flag(ccZ) || c.flag(ccV) {
		t.Errorf("3-5 flags z=%v n=%v c=%v v=%v; want n only", c.flag(ccZ), c.flag(ccN), c.flag(ccC), c.flag(ccV))
	}
	// Signed overflow: 0x7fffffff + 1.
	_, c = mustSeq(t, nil, isa.Immed(A(0), 0x7fffffff), isa.ALU(B(3), A(0), isa.OpAdd, K(1)))
	if !c.flag(ccV) || !c.flag(ccN) || c.r[rB+3] != 0x80000000 || c.r[rA+3] != 0 {
		t.Errorf("overflow: v=%v n=%v B3=%#x A3=%#x", c.flag(ccV), c.flag(ccN), c.r[rB+3], c.r[rA+3])
	}
}

func TestShiftsUsePrevALU(t *testing.T) {
	_, c := mustSeq(t, nil,
		isa.Immed(Both(4), 0xf0000000),
		isa.Immed(Both(5), 7),
		isa.ALU(none, A(5), isa.OpOr, K(0)), // indirect amount 7
		isa.Shf(Both(6), none, isa.ShfB, B(4), isa.ShiftR, 0),
		isa.ALU(none, A(4), isa.OpOr, K(0)), // sign source: MSB set
		isa.Asr(Both(7), B(4), 4),
		isa.Shf(Both(8), none, isa.ShfB, B(5), isa.ShiftL, 3),
		isa.DblShf(Both(9), A(5), B(4), 28),
		isa.LdField(Both(10), 0x3, B(4), isa.ShiftR, 16, true),
	)
	for _, x := range []struct {
		n    int
		want uint32
	}{{6, 0xf0000000 >> 7}, {7, 0xff000000}, {8, 56}, {9, 0x7f}, {10, 0xf000}} {
		if c.r[rA+x.n] != x.want || c.r[rB+x.n] != x.want {
			t.Errorf("gpr %d = %#x/%#x, want %#x", x.n, c.r[rA+x.n], c.r[rB+x.n], x.want)
		}
	}
}

func TestLMPointerLatency(t *testing.T) {
	// LM3 moves from 0 to 0x40: the three next instructions still use the
	// old pointer, the fourth the new one.
	m, c := mustSeq(t, func(m *Machine, c *context) {
		m.lm[0], m.lm[0x10] = 111, 222
	},
		isa.CSRWrite(isa.CSRActLMAddr3, K(0x40)),
		isa.Mov(Both(0), isa.LM(3, 0)),
		isa.Mov(Both(1), isa.LM(3, 0)),
		isa.Mov(Both(2), isa.LM(3, 0)),
		isa.Mov(Both(3), isa.LM(3, 0)),
		isa.Mov(isa.LMInc(3), K(9)),
		isa.Mov(Both(4), isa.LM(3, 0)),
	)
	if c.r[rA+0] != 111 || c.r[rA+2] != 111 || c.r[rA+3] != 222 {
		t.Errorf("reads through LM3: %d %d %d %d, want 111 111 111 222", c.r[rA+0], c.r[rA+1], c.r[rA+2], c.r[rA+3])
	}
	if m.lm[0x10] != 9 || c.lmp[3] != 0x44 || c.r[rA+4] != 0 {
		t.Errorf("post-increment store: lm=%d ptr=%#x next=%d", m.lm[0x10], c.lmp[3], c.r[rA+4])
	}
}

func TestMulStep(t *testing.T) {
	_, c := mustSeq(t, nil,
		isa.Immed(Both(0), 0xbeef), isa.ImmedW(Both(0), 0xdead, 1),
		isa.Immed(Both(2), 0x5678), isa.ImmedW(Both(2), 0x1234, 1),
		isa.MulStepOp(A(0), B(2), isa.MulStart, isa.MulStep1),
		isa.MulStepOp(A(0), B(2), isa.Mul32x32, isa.MulStep1),
		isa.MulStepOp(A(0), B(2), isa.Mul32x32, isa.MulStep2),
		isa.MulStepOp(A(0), B(2), isa.Mul32x32, isa.MulStep3),
		isa.MulStepOp(A(0), B(2), isa.Mul32x32, isa.MulStep4),
		isa.MulResult(Both(4), isa.Mul32x32, false),
		isa.MulResult(Both(5), isa.Mul32x32, true),
	)
	p := uint64(0xdeadbeef) * 0x12345678
	if c.r[rA+4] != uint32(p) || c.r[rB+5] != uint32(p>>32) {
		t.Errorf("32x32 = %#x:%#x, want %#x", c.r[rA+5], c.r[rA+4], p)
	}
	_, _, err := seq(t, nil,
		isa.MulStepOp(A(0), B(2), isa.MulStart, isa.MulStep1),
		isa.MulStepOp(A(0), B(2), isa.Mul16x16, isa.MulStep1),
		isa.MulResult(Both(4), isa.Mul16x16, false),
	)
	if err == nil || !strings.Contains(err.Error(), "at .2") {
		t.Errorf("16x16 last after one step: err = %v, want a stop at .2", err)
	}
}

func TestCSRReadFeedsImmed(t *testing.T) {
	m, c := mustSeq(t, func(m *Machine, c *context) { m.prng = 7 },
		isa.CSRRead(isa.CSRPseudoRndNum), isa.Immed(Both(0), 0))
	if c.r[rA+0] == 0 || c.r[rA+0] != m.prng {
		t.Errorf("immed after local_csr_rd got %#x, CSR state %#x", c.r[rA+0], m.prng)
	}
	_, _, err := seq(t, nil, isa.CSRRead(isa.CSRPseudoRndNum), isa.Nop())
	if err != nil {
		t.Errorf("nop is an immed and takes the value: %v", err)
	}
	_, _, err = seq(t, nil, isa.CSRRead(isa.CSRPseudoRndNum), isa.Mov(Both(0), K(1)))
	if err == nil || !strings.Contains(err.Error(), "at .1") {
		t.Errorf("alu after local_csr_rd: err = %v", err)
	}
}

func TestDeferSlots(t *testing.T) {
	br := isa.Br(isa.BR, 4)
	br.Defer = 2
	m, c := mustSeq(t, nil,
		br,
		isa.Immed(Both(0), 1), // slot
		isa.Immed(Both(1), 2), // slot
		isa.Immed(Both(2), 3), // skipped
		isa.Immed(Both(3), 4), // target
	)
	if c.r[rA+0] != 1 || c.r[rA+1] != 2 || c.r[rA+2] != 0 || c.r[rA+3] != 4 {
		t.Errorf("defer: %v", c.r[rA:rA+4])
	}
	// Model: br 4, slots not counted, immed 1, final br 4.
	if m.model.t != FirmwareCycles+9 {
		t.Errorf("model %d, want %d", m.model.t, FirmwareCycles+9)
	}
}

func TestCommands(t *testing.T) {
	init := func(m *Machine, c *context) {
		ctm := m.mem.Region("CTM").Data
		copy(ctm[PacketOffset:], []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88})
		c.r[rA+2] = CTMBase | PacketOffset
	}
	add64 := isa.Cmd(isa.TargetMU, "add64", 0, A(2), B(3), isa.Mode40BA, 5, isa.CtxSwapDefer2)
	m, c := mustSeq(t, func(m *Machine, c *context) {
		init(m, c)
		m.mem.Add(&Region{Name: "EMEM", Base: EMEMBase, Data: make([]byte, 64)})
		c.r[rB+3] = uint32(EMEMBase >> 8)
	},
		isa.Cmd(isa.TargetMU, "read32_swap", 0, A(2), K(0), isa.Mode32, 2, isa.CtxSwapWait),
		isa.Cmd(isa.TargetMU, "read8", 2, A(2), K(1), isa.Mode32, 3, isa.CtxSwapWait),
		isa.Mov(isa.Xfer(0), K(0xab)),
		isa.Cmd(isa.TargetMU, "write8_swap", 0, A(2), K(7), isa.Mode32, 1, isa.CtxSwapWait),
		// add64 at EMEM+0 pulls its data after the two defer slots.
		isa.Immed(A(2), 8),
		add64,
		isa.Immed(isa.Xfer(0), 0xffffffff),
		isa.Immed(isa.Xfer(1), 1),
	)
	if c.r[rXin+0] != 0x44332211 || c.r[rXin+1] != 0x88776655 {
		t.Errorf("read32_swap: %#x %#x", c.r[rXin+0], c.r[rXin+1])
	}
	if c.r[rXin+2] != 0x22334400 {
		t.Errorf("read8 of 3 bytes: %#x, want 0x22334400", c.r[rXin+2])
	}
	if got := m.mem.Region("CTM").Data[PacketOffset+7]; got != 0xab {
		t.Errorf("write8_swap: %#x", got)
	}
	e := m.mem.Region("EMEM").Data
	if string(e[8:16]) != "\xff\xff\xff\xff\x00\x00\x00\x01" {
		t.Errorf("add64: % x", e[8:16])
	}
	// 40-bit blocking command: 25 cycles when issued right at the start.
	if _, _, err := seq(t, init, isa.Cmd(isa.TargetMU, "read32_swap", 0, A(2), K(0), isa.Mode32, 1, isa.CtxSwapWait)); err != nil {
		t.Fatal(err)
	}
	_, _, err := seq(t, init, isa.Cmd(isa.TargetMU, "read32_swap", 0, A(4), K(0), isa.Mode32, 1, isa.CtxSwapWait))
	if err == nil || !strings.Contains(err.Error(), "outside every emulated region") || !strings.Contains(err.Error(), "at .0 (") {
		t.Errorf("read of address 0: %v", err)
	}
}

func TestCycleModelRules(t *testing.T) {
	cases := []struct {
		name string
		ins  []isa.Instr
		want int64
	}{
		// A packet read right at the start costs 16, then br 4.
		{"mem32 first", []isa.Instr{isa.Cmd(isa.TargetMU, "read32_swap", 0, A(2), K(0), isa.Mode32, 1, isa.CtxSwapWait)}, 16 + 4},
		{"mem40 first", []isa.Instr{isa.Cmd(isa.TargetMU, "read32_swap", 0, A(0), B(2), isa.Mode40BA, 1, isa.CtxSwapWait)}, 25 + 4},
		{"mem after 13", append(nops(13), isa.Cmd(isa.TargetMU, "read32_swap", 0, A(2), K(0), isa.Mode32, 1, isa.CtxSwapWait)), 13 + 3 + 4},
		{"mem after 10", append(nops(10), isa.Cmd(isa.TargetMU, "read32_swap", 0, A(2), K(0), isa.Mode32, 1, isa.CtxSwapWait)), 10 + 6 + 4},
		// Taken conditional right after a CC writer: 4; one later: 3.
		{"bne late", []isa.Instr{isa.ALU(none, K(1), isa.OpOr, B(0)), isa.Br(isa.BNE, 3), isa.Nop()}, 1 + 4 + 4},
		{"bne early", []isa.Instr{isa.ALU(none, K(1), isa.OpOr, B(0)), isa.Nop(), isa.Br(isa.BNE, 4), isa.Nop()}, 1 + 1 + 3 + 4},
		{"beq not taken", []isa.Instr{isa.ALU(none, K(1), isa.OpOr, B(0)), isa.Br(isa.BEQ, 3), isa.Nop()}, 1 + 1 + 1 + 4},
	}
	for _, tc := range cases {
		init := func(m *Machine, c *context) {
			c.r[rA+2] = CTMBase
			c.r[rB+2] = uint32(IMEMBase >> 8)
		}
		m, _, err := seq(t, init, tc.ins...)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := m.model.t - FirmwareCycles; got != tc.want {
			t.Errorf("%s: %d cycles after the firmware's 224, want %d", tc.name, got, tc.want)
		}
	}
}

func nops(n int) []isa.Instr {
	out := make([]isa.Instr, n)
	for i := range out {
		out[i] = isa.Nop()
	}
	return out
}

func TestUnmodelledStops(t *testing.T) {
	_, _, err := seq(t, nil, isa.Nop(), isa.ALU(Both(0), A(1), isa.OpFFS, B(2)))
	if err == nil || !strings.Contains(err.Error(), "at .1") || !strings.Contains(err.Error(), "ffs") {
		t.Errorf("ffs: %v", err)
	}
}

// TestUndefinedFlagsStop: C and V after a logical operation, and every flag
// after mul_step, are not documented; reading them stops the run rather
// than guessing. Z and N after logical operations are fine.
func TestUndefinedFlagsStop(t *testing.T) {
	if _, _, err := seq(t, nil, isa.ALU(none, A(0), isa.OpOr, K(0)), isa.Br(isa.BEQ, 2)); err != nil {
		t.Errorf("beq after OR: %v", err)
	}
	for name, ins := range map[string][]isa.Instr{
		"bcs after OR":     {isa.ALU(none, A(0), isa.OpOr, K(0)), isa.Br(isa.BCS, 2)},
		"blt after shift":  {isa.Shf(Both(1), none, isa.ShfB, B(0), isa.ShiftL, 3), isa.Br(isa.BLT, 2)},
		"+carry after AND": {isa.ALU(none, A(0), isa.OpAnd, K(1)), isa.ALU(Both(1), A(1), isa.OpAddCarry, K(0))},
		"beq after mul": {
			isa.MulStepOp(A(0), B(2), isa.MulStart, isa.MulStep1),
			isa.MulStepOp(A(0), B(2), isa.Mul16x16, isa.MulStep1),
			isa.MulStepOp(A(0), B(2), isa.Mul16x16, isa.MulStep2),
			isa.MulResult(Both(4), isa.Mul16x16, false),
			isa.Br(isa.BEQ, 5),
		},
	} {
		_, _, err := seq(t, nil, ins...)
		if err == nil || !strings.Contains(err.Error(), "undefined") {
			t.Errorf("%s: err = %v, want a stop", name, err)
		}
	}
}
