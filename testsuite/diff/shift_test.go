package diff

import "github.com/cilium/ebpf/asm"

// shiftProgram runs one shift op (LSH, RSH or ARSH), 64- and 32-bit, by
// immediates and by registers, on operands whose upper half is zero, not
// zero or negative — packet values and 64-bit constants (a LD_IMM64
// operand needs a scratch register to live in: the finding
// miscompile_lsh64_lddw.o) — and folds every result into a hash written
// to bytes 0–7.
//
// Amounts are 0, 1, 31, 32, 33 and 63 (masked to 31 by the 32-bit ops),
// each in a register three ways: exactly (on the structured frames; the
// random ones may set bit 6), with packet garbage above bit 5, and with
// bits 31–63 set too (the finding miscompile_arsh64_reg.o: arsh took its
// sign from the amount). eBPF masks a register amount with 63 (31).
func shiftProgram(op asm.ALUOp) asm.Instructions {
	code := packetGuard(24,
		asm.Mov.Reg(asm.R6, asm.R2),
		asm.LoadMem(asm.R7, asm.R6, 8, asm.Word), // amount garbage: 0x0b0a0908 on structured frames
		asm.Mov.Imm(asm.R9, 0),                   // the hash
	)
	mix := func(r asm.Register) {
		code = append(code,
			asm.Xor.Reg(asm.R9, r),
			asm.Mov.Reg(asm.R5, asm.R9),
			asm.RSh.Imm(asm.R5, 57),
			asm.LSh.Imm(asm.R9, 7),
			asm.Or.Reg(asm.R9, asm.R5))
	}
	// Operands into R4: packet words with the upper half zero, not zero
	// (and positive) and negative, then constants.
	operands := []func() asm.Instructions{
		func() asm.Instructions { return asm.Instructions{asm.LoadMem(asm.R4, asm.R6, 12, asm.Word)} },
		func() asm.Instructions {
			return asm.Instructions{
				asm.LoadMem(asm.R4, asm.R6, 0, asm.DWord),
				asm.LoadImm(asm.R8, 0x7fffffffffffffff, asm.DWord),
				asm.And.Reg(asm.R4, asm.R8),
				asm.LoadImm(asm.R8, 1<<32, asm.DWord),
				asm.Or.Reg(asm.R4, asm.R8),
			}
		},
		func() asm.Instructions {
			return asm.Instructions{
				asm.LoadMem(asm.R4, asm.R6, 16, asm.DWord),
				asm.LoadImm(asm.R8, -1<<63, asm.DWord),
				asm.Or.Reg(asm.R4, asm.R8),
			}
		},
		func() asm.Instructions { return asm.Instructions{asm.LoadImm(asm.R4, -5, asm.DWord)} },
		func() asm.Instructions { return asm.Instructions{asm.LoadImm(asm.R4, -0x7edcba9876543211, asm.DWord)} }, // 0x8123456789abcdef
		func() asm.Instructions { return asm.Instructions{asm.LoadImm(asm.R4, 0x180000000, asm.DWord)} },
		func() asm.Instructions { return asm.Instructions{asm.LoadImm(asm.R4, 0x80000001, asm.DWord)} },
	}
	amounts := []int32{0, 1, 31, 32, 33, 63}
	// Amount registers (R3) holding c in their low 6 bits.
	amountForms := []func(c int32) asm.Instructions{
		func(c int32) asm.Instructions { // c (c | 64 on some random frames)
			return asm.Instructions{asm.Mov.Reg(asm.R3, asm.R7), asm.And.Imm(asm.R3, 0x40), asm.Or.Imm(asm.R3, c)}
		},
		func(c int32) asm.Instructions { // packet garbage above bit 5
			return asm.Instructions{asm.Mov.Reg(asm.R3, asm.R7), asm.And.Imm(asm.R3, -64), asm.Or.Imm(asm.R3, c)}
		},
		func(c int32) asm.Instructions { // and bits 31–63 set
			return asm.Instructions{asm.Mov.Reg(asm.R3, asm.R7), asm.Or.Imm(asm.R3, -0x80000000), asm.And.Imm(asm.R3, -64), asm.Or.Imm(asm.R3, c)}
		},
	}
	for _, x := range operands {
		for _, c := range amounts {
			code = append(code, x()...)
			code = append(code, op.Imm(asm.R4, c))
			mix(asm.R4)
			if c < 32 {
				code = append(code, x()...)
				code = append(code, op.Imm32(asm.R4, c))
				mix(asm.R4)
			}
			for _, amt := range amountForms {
				code = append(code, amt(c)...)
				code = append(code, x()...)
				code = append(code, op.Reg(asm.R4, asm.R3))
				mix(asm.R4)
				code = append(code, x()...)
				code = append(code, op.Reg32(asm.R4, asm.R3))
				mix(asm.R4)
			}
		}
	}
	return append(code,
		asm.StoreMem(asm.R6, 0, asm.R9, asm.DWord),
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return())
}
