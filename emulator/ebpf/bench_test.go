package ebpf

import (
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// loopProgram sums n..1 with a load and a store per iteration through the
// stack, a mix of ALU, memory and branch instructions (6 per iteration).
func loopProgram(n int32) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.Mov.Imm(asm.R1, n),
		asm.StoreMem(asm.R10, -8, asm.R0, asm.DWord),
		asm.LoadMem(asm.R2, asm.R10, -8, asm.DWord).WithSymbol("loop"),
		asm.Add.Reg(asm.R2, asm.R1),
		asm.StoreMem(asm.R10, -8, asm.R2, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R1),
		asm.Sub.Imm(asm.R1, 1),
		asm.JNE.Imm(asm.R1, 0, "loop"),
		asm.Return(),
	}
}

// aluLoop is pure register work: 3 instructions per iteration.
func aluLoop(n int32) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.Mov.Imm(asm.R1, n),
		asm.Add.Reg(asm.R0, asm.R1).WithSymbol("loop"),
		asm.Sub.Imm(asm.R1, 1),
		asm.JNE.Imm(asm.R1, 0, "loop"),
		asm.Return(),
	}
}

func benchProgram(b *testing.B, insns asm.Instructions) {
	linked, err := linkForTest(insns)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New([]Prog{{Name: "bench", Hook: emulator.HookNone, Insns: linked}}, nil, nil, Options{MaxInstructions: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	var total uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := m.Run(0, Input{})
		if err != nil {
			b.Fatal(err)
		}
		total += res.Instructions
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "insns/s")
}

func BenchmarkALULoop(b *testing.B)    { benchProgram(b, aluLoop(100_000)) }
func BenchmarkMemoryLoop(b *testing.B) { benchProgram(b, loopProgram(100_000)) }
