package diff

import "github.com/cilium/ebpf/asm"

// divProgram divides packet words by constants that are not powers of two
// (3, 7, 10, 257, 1000, 65521, 2^31-1), 32- and 64-bit (a zero-extended
// dividend), quotient and remainder, and writes each result over the
// packet, then the same by packet values in registers (0 included: x / 0
// is 0, x % 0 is x); random packet bytes give dividends across the range.
func divProgram() asm.Instructions {
	code := packetGuard(64,
		asm.Mov.Reg(asm.R6, asm.R2),
	)
	divs := []int32{3, 7, 10, 257, 1000, 65521, 0x7fffffff}
	for i, c := range divs {
		off := int16(4 * i)
		code = append(code,
			asm.LoadMem(asm.R1, asm.R6, off, asm.Word),
			asm.Mov.Reg32(asm.R2, asm.R1),
			asm.Div.Imm32(asm.R1, c),
			asm.Mod.Imm32(asm.R2, c),
			asm.StoreMem(asm.R6, off, asm.R1, asm.Word),
			asm.StoreMem(asm.R6, off+32, asm.R2, asm.Word),
			asm.LoadMem(asm.R1, asm.R6, off+2, asm.Word),
			asm.Mov.Reg(asm.R2, asm.R1),
			asm.Div.Imm(asm.R1, c),
			asm.Mod.Imm(asm.R2, c),
			asm.Xor.Reg(asm.R1, asm.R2),
			asm.StoreMem(asm.R6, off+2, asm.R1, asm.Half),
		)
	}
	// By registers: 0 or 1, a byte, a random word (often >= 2^31), a half
	// with bit 31 set; 32- and 64-bit, quotient and remainder.
	divisors := asm.Instructions{
		asm.And.Imm(asm.R3, 1),
		asm.And.Imm(asm.R3, 0xff),
		asm.Mov.Reg32(asm.R3, asm.R3),
		asm.Or.Imm32(asm.R3, -0x80000000),
	}
	for i, mk := range divisors {
		off := int16(4 * i)
		code = append(code,
			asm.LoadMem(asm.R3, asm.R6, 40+off, asm.Word),
			mk,
			asm.LoadMem(asm.R1, asm.R6, 48-off, asm.Word),
			asm.Mov.Reg32(asm.R2, asm.R1),
			asm.Div.Reg32(asm.R1, asm.R3),
			asm.Mod.Reg32(asm.R2, asm.R3),
			asm.StoreMem(asm.R6, 48-off, asm.R1, asm.Word),
			asm.StoreMem(asm.R6, off, asm.R2, asm.Word),
			asm.LoadMem(asm.R1, asm.R6, off+2, asm.Word),
			asm.Mov.Reg(asm.R2, asm.R1),
			asm.Div.Reg(asm.R1, asm.R3),
			asm.Mod.Reg(asm.R2, asm.R3),
			asm.Xor.Reg(asm.R1, asm.R2),
			asm.StoreMem(asm.R6, off+2, asm.R1, asm.Half),
		)
	}
	code = append(code,
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return(),
	)
	return code
}
