package verifier_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
)

// TestEncodings: instructions given as raw bytes (struct bpf_insn, little
// endian), decoded by cilium/ebpf as the loader decodes them, are rejected
// with the kernel's message when the kernel rejects their encoding —
// including the fields the decoder folds away (an atomic's immediate above
// 0x1ff) — and accepted when the same instruction is well formed.
func TestEncodings(t *testing.T) {
	const (
		mov0 = "b700000000000000" // r0 = 0
		exit = "9500000000000000"
		// *(u64 *)(r10 -8) = r0, the target of the atomics below
		spill = "7b0af8ff00000000"
	)
	for _, c := range []struct {
		name, code string // code: the program after r0 = 0, hex
		want       string // "" when accepted
	}{
		{"exit", exit, ""},
		{"exit with imm", "9500000001000000", "BPF_EXIT uses reserved fields"},
		{"exit with dst", "9501000000000000", "BPF_EXIT uses reserved fields"},
		{"exit with src", "9510000000000000", "BPF_EXIT uses reserved fields"},
		{"exit in jmp32", "9600000000000000", "unknown opcode 96"},
		{"exit with X", "9d00000000000000", "unknown opcode 9d"},
		{"ja", "0500000000000000" + exit, ""},
		{"ja with imm", "0500000007000000" + exit, "BPF_JA uses reserved fields"},
		{"ja with dst", "0501000000000000" + exit, "BPF_JA uses reserved fields"},
		{"ja with src", "0510000000000000" + exit, "BPF_JA uses reserved fields"},
		{"gotol with off", "0600010000000000" + exit, "BPF_JA uses reserved fields"},
		{"call", "8500000005000000" + mov0 + exit, ""}, // ktime_get_ns
		{"call with off", "8500010005000000" + mov0 + exit, "BPF_CALL uses reserved fields"},
		{"call with dst", "8501000005000000" + mov0 + exit, "BPF_CALL uses reserved fields"},
		{"call with src 3", "8530000005000000" + mov0 + exit, "BPF_CALL uses reserved fields"},
		{"call in jmp32", "8600000005000000" + mov0 + exit, "unknown opcode 86"},
		{"atomic add", spill + "db0af8ff00000000" + exit, ""},
		{"atomic fetch add", spill + "db0af8ff01000000" + exit, ""},
		{"atomic cmpxchg", spill + "db0af8fff1000000" + exit, ""},
		{"atomic imm 0x200", spill + "db0af8ff00020000" + exit, "BPF_ATOMIC uses invalid atomic opcode 200"},
		{"atomic imm 0xd600", spill + "db0af8ff00d60000" + exit, "BPF_ATOMIC uses invalid atomic opcode d600"},
		{"atomic imm 0x10000000", spill + "db0af8ff00000010" + exit, "BPF_ATOMIC uses invalid atomic opcode 10000000"},
		{"atomic imm 0x02", spill + "db0af8ff02000000" + exit, "BPF_ATOMIC uses invalid atomic opcode 02"},
		{"atomic add of a byte", spill + "d30af8ff00000000" + exit, "invalid atomic operand size"},
		{"opcode 0xff", "ff00000000000000" + exit, "unknown opcode ff"},
		{"opcode 0x00", "0000000000000000" + exit, "unknown opcode 00"},
		{"ld abs dw", "3800000000000000" + exit, "unknown opcode 38"},
		{"alu64 end with X", "df00000000000000" + exit, "unknown opcode df"},
		{"lddw", "1801000001000000" + "0000000002000000" + exit, ""},
		{"lddw with off", "1801010001000000" + "0000000002000000" + exit, "BPF_LD_IMM64 uses reserved fields"},
		{"lddw with src 7", "1871000001000000" + "0000000002000000" + exit, "unrecognized bpf_ld_imm64 insn"},
	} {
		raw, err := hex.DecodeString(mov0 + c.code)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var insns asm.Instructions
		r := bytes.NewReader(raw)
		for r.Len() > 0 {
			var ins asm.Instruction
			if err := ins.Unmarshal(r, binary.LittleEndian, "linux"); err != nil {
				t.Fatalf("%s: decode: %v", c.name, err)
			}
			insns = append(insns, ins)
		}
		p := &loader.Program{Name: "t", Type: ebpf.XDP, Insns: insns}
		_, err = verifier.Verify(p, nil, nil)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && err == nil:
			t.Errorf("%s: accepted, want %q", c.name, c.want)
		case c.want != "" && !strings.HasSuffix(err.Error(), c.want):
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// TestEncodingsBuiltInGo: atomics built with cilium/ebpf's constructors
// carry their operation only in the opcode; they are as valid as the same
// instruction decoded from bytes.
func TestEncodingsBuiltInGo(t *testing.T) {
	for _, op := range []asm.AtomicOp{asm.AddAtomic, asm.FetchAdd, asm.OrAtomic, asm.FetchXor, asm.Xchg, asm.CmpXchg} {
		p := &loader.Program{Name: "t", Type: ebpf.XDP, Insns: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0),
			asm.StoreMem(asm.RFP, -8, asm.R0, asm.DWord),
			op.Mem(asm.RFP, asm.R0, asm.DWord, -8),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		}}
		if _, err := verifier.Verify(p, nil, nil); err != nil {
			t.Errorf("%v: %v", op, err)
		}
	}
}
