package diff

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/passes"
)

// divWideProgram divides, unsigned and signed (cpu v4), 64- and 32-bit,
// dividends from packet doublewords and edge constants (0, 1, -1, INT_MIN,
// 2^31, 2^32-1, 2^63, INT32_MIN) by divisors from packet doublewords —
// whole (wider than 32 bits), a byte (often 0), a word, a small signed
// value, with bit 63 set — and by edge constants (0, 1, -1, 3, 1000, -7,
// 2^31, 2^32-1, 2^32+5, 2^63, -2^31), writing each result over the packet
// (results of one op at its own offsets, so a wrong one shows).
func divWideProgram() asm.Instructions {
	code := packetGuard(64,
		asm.Mov.Reg(asm.R6, asm.R2),
	)
	dividends := []asm.Instructions{
		{asm.LoadMem(asm.R1, asm.R6, 0, asm.DWord)},
		{asm.LoadMem(asm.R1, asm.R6, 16, asm.DWord)},
		{asm.LoadMem(asm.R1, asm.R6, 24, asm.DWord), asm.ArSh.Imm(asm.R1, 20)},
		{asm.LoadImm(asm.R1, 0, asm.DWord)},
		{asm.LoadImm(asm.R1, 1, asm.DWord)},
		{asm.LoadImm(asm.R1, -1, asm.DWord)},
		{asm.LoadImm(asm.R1, -1<<63, asm.DWord)},
		{asm.LoadImm(asm.R1, 1<<31, asm.DWord)},
		{asm.LoadImm(asm.R1, 1<<32-1, asm.DWord)},
		{asm.LoadImm(asm.R1, -1<<31, asm.DWord)},
	}
	divisors := []asm.Instructions{
		{asm.LoadMem(asm.R3, asm.R6, 8, asm.DWord)},
		{asm.LoadMem(asm.R3, asm.R6, 32, asm.DWord), asm.And.Imm(asm.R3, 0xff)},
		{asm.LoadMem(asm.R3, asm.R6, 40, asm.DWord), asm.RSh.Imm(asm.R3, 32)},
		{asm.LoadMem(asm.R3, asm.R6, 48, asm.DWord), asm.ArSh.Imm(asm.R3, 52)},
		{asm.LoadMem(asm.R3, asm.R6, 56, asm.DWord), asm.LoadImm(asm.R4, -1<<63, asm.DWord), asm.Or.Reg(asm.R3, asm.R4)},
		{asm.LoadMem(asm.R3, asm.R6, 12, asm.DWord), asm.And.Imm(asm.R3, 1)},
	}
	consts := []int32{0, 1, -1, 3, 1000, -7, -1 << 31}
	wideConsts := []int64{1<<31 + 0, 1<<32 - 1, 1<<32 + 5, -1 << 63}
	ops := []asm.ALUOp{asm.Div, asm.Mod, asm.SDiv, asm.SMod}
	n := 0
	out := func() int16 { o := int16(n*8) % 56; n++; return o }
	emit := func(x asm.Instructions, rest ...asm.Instruction) {
		code = append(code, x...)
		code = append(code, rest...)
		code = append(code, asm.StoreMem(asm.R6, out(), asm.R1, asm.DWord))
	}
	// Each dividend meets two register divisors with two 64-bit ops and
	// one 32-bit op, two constants in registers or immediates, and a
	// 64-bit constant; the choices rotate so that every op meets every
	// kind of operand (the code store holds 16384 words).
	k := 0
	for _, x := range dividends {
		for j := 0; j < 2; j++ {
			y := divisors[k%len(divisors)]
			emit(append(append(asm.Instructions{}, x...), y...), ops[k%len(ops)].Reg(asm.R1, asm.R3))
			emit(append(append(asm.Instructions{}, x...), y...), ops[(k+1)%len(ops)].Reg(asm.R1, asm.R3))
			if j == 0 {
				emit(append(append(asm.Instructions{}, x...), y...), ops[(k+2)%len(ops)].Reg32(asm.R1, asm.R3))
			}
			k++
		}
		for j := 0; j < 2; j++ {
			// An immediate 0 is refused by the verifier: a register the
			// verifier knows holds the constant, for 0 and others.
			c := consts[k%len(consts)]
			op := ops[(k/2)%len(ops)]
			div := op.Imm(asm.R1, c)
			if k%2 == 1 {
				div = op.Imm32(asm.R1, c)
			}
			if c == 0 || k%3 == 0 {
				code = append(code, asm.Mov.Imm(asm.R3, c))
				div = op.Reg(asm.R1, asm.R3)
				if k%2 == 1 {
					div = op.Reg32(asm.R1, asm.R3)
				}
			}
			emit(x, div)
			k++
		}
		emit(x, asm.LoadImm(asm.R3, wideConsts[k%len(wideConsts)], asm.DWord), ops[k%len(ops)].Reg(asm.R1, asm.R3))
		k++
	}
	return append(code,
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return())
}

// TestHandWrittenO0 runs the hand-written programs whose operations the
// middle end would otherwise fold or rewrite (divisions by constants,
// stack atomics) without optimisation, so that the backend's own
// lowerings of every shape are compared, also with 3 registers.
func TestHandWrittenO0(t *testing.T) {
	progs := []handWritten{
		{"xdp_div_wide", ebpf.XDP, divWideProgram()},
		{"xdp_stack_atomics", ebpf.XDP, stackAtomicsProgram()},
		{"xdp_div_const", ebpf.XDP, divProgram()},
		{"xdp_stack_index", ebpf.XDP, stackIndexProgram()},
	}
	for _, p := range progs {
		t.Run(p.name, func(t *testing.T) {
			resolve(t, p.code)
			obj := &loader.Object{Path: p.name + ".o", Programs: []*loader.Program{{Name: p.name, Section: "prog", Type: p.typ, License: "GPL", Insns: p.code}}}
			for _, regs := range []int{0, 3} {
				imgs, _, err := compiler.Compile(obj, compiler.Options{Regs: regs, Passes: passes.Config{Level: passes.O0}, MCPU: "emulator"})
				if err != nil {
					t.Fatalf("-O0, %d registers: %v", regs, err)
				}
				if n := checkProgram(t, p.name+" -O0", obj, 0, obj.Programs[0].Type, imgs[0]); n < 70 {
					t.Errorf("only %d packets compared (-O0, %d registers)", n, regs)
				}
			}
		})
	}
}

// stackIndexProgram reads a two-entry table on the stack (packet
// doublewords) at fp - 16 + ((c & 1) << 3) for c = 51 and 50: an index the
// verifier proves constant (bpf_conformance stack.data), which -O0 leaves
// to the backend.
func stackIndexProgram() asm.Instructions {
	code := packetGuard(32,
		asm.Mov.Reg(asm.R6, asm.R2),
		asm.LoadMem(asm.R1, asm.R6, 0, asm.DWord),
		asm.StoreMem(asm.R10, -16, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, 8, asm.DWord),
		asm.StoreMem(asm.R10, -8, asm.R1, asm.DWord),
	)
	for i, c := range []int32{51, 50} {
		code = append(code,
			asm.Mov.Imm(asm.R1, c),
			asm.And.Imm(asm.R1, 1),
			asm.LSh.Imm(asm.R1, 3),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Reg(asm.R2, asm.R1),
			asm.LoadMem(asm.R3, asm.R2, -16, asm.DWord),
			asm.LoadMem(asm.R4, asm.R2, -12, asm.Word),
			asm.Add.Reg(asm.R3, asm.R4),
			asm.StoreMem(asm.R6, int16(16+8*i), asm.R3, asm.DWord),
		)
	}
	return append(code,
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return())
}
