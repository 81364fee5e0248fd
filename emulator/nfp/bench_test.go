package nfp

import (
	"testing"
	"time"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// BenchmarkLoop measures the hot loop on a typical JIT mix (ALU with both
// banks, shifts, ld_field, LM, immed, compare and branch), reporting
// emulated instructions per second.
func BenchmarkLoop(b *testing.B) {
	const iters = 100_000
	ins := []isa.Instr{
		isa.Immed(Both(0), iters&0xffff), isa.ImmedW(Both(0), iters>>16, 1),
		isa.Immed(Both(2), 0x1234),
		// loop: 3
		isa.ALU(Both(4), A(2), isa.OpAdd, B(0)),
		isa.ALU(Both(5), A(4), isa.OpXor, K(0x55)),
		isa.Shf(Both(6), none, isa.ShfB, B(5), isa.ShiftL, 3),
		isa.LdField(Both(7), 0x3, B(6), isa.ShiftR, 8, true),
		isa.Mov(isa.LM(0, 1), B(7)),
		isa.ALU(Both(8), A(7), isa.OpAnd, isa.LM(0, 1)),
		isa.Immed(Both(9), 0),
		isa.ALU(Both(0), A(0), isa.OpSub, K(1)),
		isa.Br(isa.BNE, 3),
		isa.Br(isa.BR, 0),
	}
	p, err := translate(ins, []image.Reloc{{Index: uint32(len(ins) - 1), Kind: image.RelocBrNextPkt}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	m := &Machine{prog: p, mem: NewMemory()}
	b.ResetTimer()
	start, cpu := m.icount, cpuTime()
	for i := 0; i < b.N; i++ {
		m.ctxs[0].reset(0)
		m.model.start()
		if _, err := m.Run(0, 0); err != nil {
			b.Fatal(err)
		}
	}
	reportSpeed(b, m.icount-start, cpu)
}

// reportSpeed reports emulated instructions per wall-clock second
// ("insns/s") and per second of this process's CPU time ("insns/cpu-s",
// steadier on a shared machine).
func reportSpeed(b *testing.B, insns uint64, cpu0 time.Duration) {
	b.ReportMetric(float64(insns)/b.Elapsed().Seconds(), "insns/s")
	if d := cpuTime() - cpu0; d > 0 {
		b.ReportMetric(float64(insns)/d.Seconds(), "insns/cpu-s")
	}
}
