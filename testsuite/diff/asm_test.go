package diff

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
)

// TestHandWritten compiles small eBPF programs no corpus object covers — the
// tc outro's whole return table, legacy packet loads in and out of bounds,
// 64-bit arithmetic on packet words — and checks them against the
// reference like the corpus programs.
func TestHandWritten(t *testing.T) {
	progs := []struct {
		name string
		typ  ebpf.ProgramType
		code asm.Instructions
	}{
		{"tc_codes", ebpf.SchedCLS, asm.Instructions{
			// r0 = packet byte 14 & 7 (every tc code), or -1 past the end.
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.LoadAbs(14, asm.Byte),
			asm.And.Imm(asm.R0, 7),
			asm.JNE.Imm(asm.R0, 6, "out"),
			asm.Mov.Imm(asm.R0, -1),
			asm.Return().WithSymbol("out"),
		}},
		{"tc_ldabs", ebpf.SchedCLS, asm.Instructions{
			// Big-endian halfword and word loads; 60 is past short frames.
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.LoadAbs(12, asm.Half),
			asm.Mov.Reg(asm.R7, asm.R0),
			asm.LoadAbs(60, asm.Word),
			asm.Xor.Reg(asm.R0, asm.R7),
			asm.RSh.Imm(asm.R0, 3),
			asm.And.Imm(asm.R0, 7),
			asm.Return(),
		}},
		{"xdp_arith64", ebpf.XDP, asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
			asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
			asm.Mov.Reg(asm.R4, asm.R2),
			asm.Add.Imm(asm.R4, 16),
			asm.JGT.Reg(asm.R4, asm.R3, "short"),
			asm.LoadMem(asm.R5, asm.R2, 0, asm.DWord),
			asm.LoadMem(asm.R6, asm.R2, 8, asm.DWord),
			asm.Mul.Reg(asm.R5, asm.R6),
			asm.Sub.Imm(asm.R5, 123456789),
			asm.ArSh.Imm(asm.R5, 17),
			asm.Mov.Reg(asm.R7, asm.R6),
			asm.LSh.Imm(asm.R7, 33),
			asm.Xor.Reg(asm.R5, asm.R7),
			asm.StoreMem(asm.R2, 0, asm.R5, asm.DWord),
			asm.JSGT.Reg(asm.R5, asm.R6, "two"),
			asm.Mov.Imm(asm.R0, 1),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 2).WithSymbol("two"),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 3).WithSymbol("short"),
			asm.Return(),
		}},
	}
	progs = append(progs, struct {
		name string
		typ  ebpf.ProgramType
		code asm.Instructions
	}{"xdp_compares", ebpf.XDP, comparesProgram()})
	for _, p := range progs {
		t.Run(p.name, func(t *testing.T) {
			resolve(t, p.code)
			obj := &loader.Object{Path: p.name + ".o", Programs: []*loader.Program{{Name: p.name, Section: "prog", Type: p.typ, License: "GPL", Insns: p.code}}}
			imgs, _, err := compiler.Compile(obj, compiler.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if n := checkProgram(t, p.name, obj, 0, imgs[0]); n < 70 {
				t.Errorf("only %d packets compared", n)
			}
		})
	}
}

// resolve sets the offsets of jumps to symbols (one slot per instruction:
// these programs have no 64-bit immediates).
func resolve(t *testing.T, insns asm.Instructions) {
	at := map[string]int{}
	for i, ins := range insns {
		if s := ins.Symbol(); s != "" {
			at[s] = i
		}
	}
	for i := range insns {
		if r := insns[i].Reference(); r != "" && insns[i].OpCode.JumpOp() != asm.InvalidJumpOp {
			tgt, ok := at[r]
			if !ok {
				t.Fatalf("no symbol %s", r)
			}
			insns[i].Offset = int16(tgt - i - 1)
		}
	}
}

// comparesProgram tests every ordered compare, 64- and 32-bit, against
// constants at the edges (0, -1, 255, 256, the signed maximum) with values
// next to them (c + d, d in -1..2 from the low bits of packet byte 22: an
// IPv4 TTL, or random), and flips one bit of packet bytes 0–9 per taken
// branch (packet contents keep the verifier's states after each test
// equal, so it does not explore 2^80 paths).
func comparesProgram() asm.Instructions {
	ops := []asm.JumpOp{asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE}
	consts := []int32{0, -1, 255, 256, 0x7fffffff}
	code := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R2),
		asm.Add.Imm(asm.R1, 24),
		asm.JGT.Reg(asm.R1, asm.R3, "short"),
	}
	n := 0
	for _, wide := range []bool{true, false} {
		for _, op := range ops {
			for _, c := range consts {
				set, next := fmt.Sprintf("s%d", n), fmt.Sprintf("n%d", n)
				j := op.Imm(asm.R4, c, set)
				if !wide {
					j = op.Imm32(asm.R4, c, set)
				}
				code = append(code,
					asm.LoadMem(asm.R4, asm.R2, 22, asm.Byte),
					asm.And.Imm(asm.R4, 3),
					asm.Sub.Imm(asm.R4, 1),
					asm.Add.Imm(asm.R4, c),
					j,
					asm.Ja.Label(next),
					asm.LoadMem(asm.R7, asm.R2, int16(n/8), asm.Byte).WithSymbol(set),
					asm.Xor.Imm(asm.R7, 1<<(n%8)),
					asm.StoreMem(asm.R2, int16(n/8), asm.R7, asm.Byte),
					asm.Mov.Imm(asm.R4, 0).WithSymbol(next),
					asm.Mov.Imm(asm.R7, 0))
				n++
			}
		}
	}
	return append(code,
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return())
}
