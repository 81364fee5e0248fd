package verifier_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
)

// TestReservedFields: instructions that set a field their form does not
// use are rejected as the kernel rejects them, and the same instructions
// with the field clear are accepted (the kernel oracle in testsuite/oracle
// compares both verifiers on bpf_conformance's unused-* tests; cilium/ebpf
// drops some of these fields when it encodes, so they are checked here).
func TestReservedFields(t *testing.T) {
	r0 := asm.Mov.Imm(asm.R0, 0)
	for _, c := range []struct {
		name string
		ins  asm.Instruction
		want string // "" when the fields are all clear
	}{
		{"mov imm", asm.Mov.Imm(asm.R1, 1), ""},
		{"mov imm with src", asm.Instruction{OpCode: asm.Mov.Op(asm.ImmSource), Dst: asm.R1, Src: asm.R2, Constant: 1}, "BPF_MOV uses reserved fields"},
		{"mov imm with offset", asm.Instruction{OpCode: asm.Mov.Op(asm.ImmSource), Dst: asm.R1, Offset: 1, Constant: 1}, "BPF_MOV uses reserved fields"},
		{"mov reg with imm", asm.Instruction{OpCode: asm.Mov.Op(asm.RegSource), Dst: asm.R1, Src: asm.R0, Constant: 1}, "BPF_MOV uses reserved fields"},
		{"movsx32 in a 32-bit move", asm.Instruction{OpCode: asm.MovSX32.Op32(asm.RegSource), Dst: asm.R1, Src: asm.R0}, "BPF_MOV uses reserved fields"},
		{"movsx16 in a 32-bit move", asm.Instruction{OpCode: asm.MovSX16.Op32(asm.RegSource), Dst: asm.R1, Src: asm.R0}, ""},
		{"add imm with src", asm.Instruction{OpCode: asm.Add.Op(asm.ImmSource), Dst: asm.R0, Src: asm.R2, Constant: 1}, "BPF_ALU uses reserved fields"},
		{"add reg with imm", asm.Instruction{OpCode: asm.Add.Op(asm.RegSource), Dst: asm.R0, Src: asm.R0, Constant: 1}, "BPF_ALU uses reserved fields"},
		{"neg with imm", asm.Instruction{OpCode: asm.Neg.Op(asm.ImmSource), Dst: asm.R0, Constant: 1}, "BPF_NEG uses reserved fields"},
		{"be16 with src", asm.Instruction{OpCode: asm.HostTo(asm.BE, asm.R0, asm.Half).OpCode, Dst: asm.R0, Src: asm.R1, Constant: 16}, "BPF_END uses reserved fields"},
		{"ldx with imm", asm.Instruction{OpCode: asm.LoadMemOp(asm.Word), Dst: asm.R1, Src: asm.R1, Constant: 1}, "BPF_LDX uses reserved fields"},
		{"stx with imm", asm.Instruction{OpCode: asm.StoreMemOp(asm.DWord), Dst: asm.RFP, Src: asm.R0, Offset: -8, Constant: 1}, "BPF_STX uses reserved fields"},
		{"st with src", asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Src: asm.R1, Offset: -8}, "BPF_ST uses reserved fields"},
		{"jeq imm with src", asm.Instruction{OpCode: asm.JEq.Op(asm.ImmSource), Dst: asm.R0, Src: asm.R1}, "BPF_JMP/JMP32 uses reserved fields"},
		{"jeq reg with imm", asm.Instruction{OpCode: asm.JEq.Op(asm.RegSource), Dst: asm.R0, Src: asm.R0, Constant: 1}, "BPF_JMP/JMP32 uses reserved fields"},
	} {
		p := &loader.Program{Name: "t", Type: ebpf.XDP, Insns: asm.Instructions{r0, c.ins, asm.Mov.Imm(asm.R0, 0), asm.Return()}}
		_, err := verifier.Verify(p, nil, nil)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestAtomicFetchKnownValue: an atomic fetch returns what a load of the
// location would give, so a spilled constant stays known (the kernel's
// check_atomic; found by the kernel oracle on bpf_conformance's lock_*
// tests), and the location itself becomes unknown.
func TestAtomicFetchKnownValue(t *testing.T) {
	p := &loader.Program{Name: "t", Type: ebpf.XDP, Insns: asm.Instructions{
		asm.Mov.Imm(asm.R7, 0xf0),
		asm.StoreMem(asm.RFP, -8, asm.R7, asm.DWord),
		asm.Mov.Imm(asm.R3, 0x0f),
		asm.FetchAnd.Mem(asm.RFP, asm.R3, asm.DWord, -8),
		asm.LoadMem(asm.R4, asm.RFP, -8, asm.DWord),
		asm.Mov.Reg(asm.R0, asm.R3),
		asm.Return(),
	}}
	res, err := verifier.Verify(p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Fact(4, 3); !f.IsConst() || f.Value.ConstValue() != 0xf0 {
		t.Errorf("r3 after the fetch: %v, want the spilled 0xf0", f)
	}
	if f := res.Fact(5, 4); f.IsConst() {
		t.Errorf("r4, loaded after the atomic and: %v, want unknown", f)
	}
}

// TestLdAbsReservedFields: LD_ABS and LD_IND load into r0 implicitly; a
// destination, an offset or (LD_ABS) a source register is refused.
func TestLdAbsReservedFields(t *testing.T) {
	for _, c := range []struct {
		name string
		ins  asm.Instruction
		ok   bool
	}{
		{"ld_abs", asm.LoadAbs(23, asm.Byte), true},
		{"ld_abs with dst", asm.Instruction{OpCode: asm.LoadAbsOp(asm.Byte), Dst: asm.R1, Constant: 23}, false},
		{"ld_abs with src", asm.Instruction{OpCode: asm.LoadAbsOp(asm.Byte), Src: asm.R1, Constant: 23}, false},
		{"ld_abs with offset", asm.Instruction{OpCode: asm.LoadAbsOp(asm.Byte), Offset: 1, Constant: 23}, false},
	} {
		p := &loader.Program{Name: "t", Type: ebpf.SchedCLS, Insns: asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1), c.ins, asm.Mov.Imm(asm.R0, 0), asm.Return(),
		}}
		_, err := verifier.Verify(p, nil, nil)
		if c.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), "BPF_LD_[ABS|IND] uses reserved fields") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
