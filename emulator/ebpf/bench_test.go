package ebpf

import (
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/testsuite"
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

// benchFrames are the packets real programs are benchmarked on: UDP and
// TCP over IPv4, and an ARP frame.
var benchFrames = [][]byte{
	mustHex("0200000000010200000000020800450000200001000040110000c0a80001c0a800020035003500080000deadbeef"),
	mustHex("02000000000102000000000208004500002800010000400600000a0000010a00000204d2005000000000000000005002ffff00000000"),
	mustHex("ffffffffffff0200000000020806000108000604000102000000000200000000ffffffffffff0a000002"),
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// benchObject runs every XDP/tc program of an object over benchFrames
// and reports eBPF instructions per second.
func benchObject(b *testing.B, path string) {
	obj, err := loader.Load(path)
	if err != nil {
		b.Skipf("%v", err)
	}
	for i, p := range obj.Programs {
		if HookOf(p.Type) == emulator.HookNone {
			continue
		}
		b.Run(p.Name, func(b *testing.B) {
			m, err := FromObject(obj, i, Options{})
			if err != nil {
				b.Skipf("%v", err)
			}
			var total uint64
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				res, err := m.Run(i, Input{Packet: benchFrames[n%len(benchFrames)]})
				if err != nil {
					b.Fatal(err)
				}
				total += res.Instructions
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "insns/s")
			b.ReportMetric(float64(total)/float64(b.N), "insns/op")
		})
	}
}

// BenchmarkTestPrograms runs the project's own test programs
// (testdata/progs/*.o: router, load balancer, firewall…).
func BenchmarkTestPrograms(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "*.o"))
	if len(files) == 0 {
		b.Skip("no testdata/progs/*.o")
	}
	for _, f := range files {
		b.Run(strings.TrimSuffix(filepath.Base(f), ".o"), func(b *testing.B) { benchObject(b, f) })
	}
}

// BenchmarkKernelSamples runs XDP samples of the Linux tree (the hXDP
// paper's programs) from the ebpf-samples corpus.
func BenchmarkKernelSamples(b *testing.B) {
	dir := filepath.Join(testsuite.Corpus(b, "ebpf-samples"), "linux")
	for _, name := range []string{"xdp1_kern", "xdp2_kern", "xdp_router_ipv4_kern", "xdp_adjust_tail_kern", "xdp_rxq_info_kern"} {
		b.Run(name, func(b *testing.B) { benchObject(b, filepath.Join(dir, name+".o")) })
	}
}
