package isa

import "testing"

// TestAccessors: the typed views give back what the constructors were given.
func TestAccessors(t *testing.T) {
	m := Ctx4
	a := Decode(0x0009a0aaf0000804).(ALUInstr) // alu[--, gprB_2, -, gprA_4]
	if l, r := a.Sources(m); l != GPRB(2) || r != GPRA(4) {
		t.Errorf("alu sources %v, %v", l, r)
	}
	if d := a.Dest(m); d != None {
		t.Errorf("alu dest %v", d)
	}
	mv := Decode(0x000366a00048c000).(ALUInstr) // alu[gprA_4, --, B, *l$index3++], gpr_wrboth
	if _, r := mv.Sources(m); r != LMInc(3) {
		t.Errorf("lm source %v", r)
	}
	if d := mv.Dest(m); d != GPRBoth(4) {
		t.Errorf("wrboth dest %v", d)
	}
	sh := Decode(0x00098281d0401200).(ShfInstr) // alu_shf[gprA_4, --, B, gprB_4, <<3], gpr_wrboth
	if n, ind := sh.Amount(); n != 3 || ind {
		t.Errorf("shift amount %d %v", n, ind)
	}
	if _, r := sh.Sources(m); r != GPRB(4) {
		t.Errorf("shift source %v", r)
	}
	ind := Decode(0x000bc094002409ff).(ShfInstr) // alu_shf[gprB_2, 0xff, AND, gprB_2, >>indirect]
	if l, _ := ind.Sources(m); l != Imm(0xff) {
		t.Errorf("imm8 source %v", l)
	}
	if _, isInd := ind.Amount(); !isInd {
		t.Error("indirect shift not reported")
	}
	ld := Decode(0x000462c08f080802).(LdFieldInstr) // ld_field[gprB_2, 1111, gprA_2, >>rot8], gpr_wrboth
	if d, s := ld.Operands(m); d != GPRBoth(2) || s != GPRA(2) {
		t.Errorf("ld_field %v %v", d, s)
	}
	im := Decode(0x000142f28edf2c03).(ImmedInstr)
	if d := im.Dest(m); d != GPRBoth(3) || im.Imm16() != 0xedcb || !im.Inv || im.Shift != 1 {
		t.Errorf("immed %v 0x%x", d, im.Imm16())
	}
	if d := Decode(0x000f20f003f05bff).(ImmedInstr).Dest(m); d != GPRB(22) {
		t.Errorf("immed B dest %v", d)
	}
	if s := Decode(0x000340fc06601300).(CSRInstr).Source(m); s != GPRB(4) {
		t.Errorf("csr source %v", s)
	}
	if r, imm := Decode(0x000260e8003c0015).(JumpInstr).Reg(m); r != GPRA(21) || imm != 0 {
		t.Errorf("rtn %v %d", r, imm)
	}
	bb := Decode(0x000dc0d001c49802).(BrBitInstr)
	if _, _, bit := bb.Bit(); bb.Reg(m) != GPRA(2) || bit != 5 {
		t.Errorf("br_bset %v %d", bb.Reg(m), bit)
	}
	if d, _ := Decode(0x0001a2f980500001).(MulInstr).Operands(m); d != GPRBoth(1) {
		t.Errorf("mul last2 dest %v", d)
	}
	c := Decode(0x0000e45c12080c02).(CmdInstr)
	if a, b := c.Operands(m); a != GPRA(2) || b != GPRB(3) || c.Count() != 2 {
		t.Errorf("cmd %v %v %d", a, b, c.Count())
	}
	if tg, name := c.CmdName(); tg != TargetMU || name != "read32_swap" {
		t.Errorf("cmd name %v %q", tg, name)
	}
}
