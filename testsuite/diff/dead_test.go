package diff

import "github.com/cilium/ebpf/asm"

// deadSextProgram compares sign-extended packet bytes in 32 bits with
// constants outside [-128, 127] (the findings verifier_divzero_panic.o and
// verifier_empty_range_bug.o): the verifier proves the equal branches dead,
// so their code — a 64-bit division by a register the NFP cannot do, a
// subtraction whose range would be empty — is never lifted, and the
// program compiles and agrees with the reference. A byte compared with a
// constant inside the range keeps both branches.
func deadSextProgram() asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 64),
		asm.JGT.Reg(asm.R4, asm.R3, "short"),
		asm.LoadMem(asm.R8, asm.R2, 56, asm.DWord),
		asm.LoadMem(asm.R9, asm.R2, 32, asm.DWord),
		asm.Mov.Imm(asm.R3, 708934302),
		asm.MovSX8.Reg(asm.R0, asm.R9),
		asm.JNE.Reg32(asm.R0, asm.R3, "next"),
		asm.Sub.Reg(asm.R3, asm.R0),
		asm.Div.Reg(asm.R8, asm.R3),
		asm.StoreMem(asm.R2, 8, asm.R8, asm.DWord),
		asm.LoadMem(asm.R8, asm.R2, 24, asm.DWord).WithSymbol("next"),
		asm.MovSX8.Reg(asm.R8, asm.R8),
		asm.Mov.Imm(asm.R1, -1714137390),
		asm.JNE.Imm32(asm.R8, -1403242032, "inside"),
		asm.Sub.Reg(asm.R8, asm.R1),
		asm.StoreMem(asm.R2, 0, asm.R8, asm.DWord),
		asm.JNE.Imm32(asm.R8, -3, "out").WithSymbol("inside"),
		asm.Sub.Reg(asm.R8, asm.R1),
		asm.StoreMem(asm.R2, 0, asm.R8, asm.DWord),
		asm.Mov.Imm(asm.R0, 3).WithSymbol("out"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return(),
	}
}
