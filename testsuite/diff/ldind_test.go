package diff

import "github.com/cilium/ebpf/asm"

// ldIndProgram makes legacy BPF_IND packet loads at offsets from packet
// byte 14: small ones in bounds or past short frames, a negative src with a
// positive imm, a 32-bit sum that wraps to a small offset (in bounds), one
// that wraps to 2^32-1 (out of bounds: r0 = 0) on odd bytes, and up to
// 1020 bytes away (mostly out of bounds). Each result is folded into r0.
func ldIndProgram() asm.Instructions {
	fold := asm.Instructions{
		asm.Xor.Reg(asm.R9, asm.R0),
		asm.LSh.Imm(asm.R9, 3),
		asm.Add.Reg(asm.R9, asm.R0),
	}
	code := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadAbs(14, asm.Byte),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.Mov.Reg(asm.R9, asm.R0),
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.And.Imm(asm.R2, 31),
		asm.LoadInd(asm.R0, asm.R2, 20, asm.Word),
	}
	code = append(code, fold...)
	code = append(code,
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.And.Imm(asm.R2, 63),
		asm.LoadInd(asm.R0, asm.R2, 30, asm.Half),
	)
	code = append(code, fold...)
	code = append(code,
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.Sub.Imm(asm.R2, 128),
		asm.LoadInd(asm.R0, asm.R2, 130, asm.Byte),
	)
	code = append(code, fold...)
	code = append(code,
		asm.Mov.Imm(asm.R2, -2),
		asm.LoadInd(asm.R0, asm.R2, 3, asm.Byte),
	)
	code = append(code, fold...)
	code = append(code,
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.And.Imm(asm.R2, 1),
		asm.JEq.Imm(asm.R2, 0, "far"),
		asm.Mov.Imm(asm.R2, -2),
		asm.LoadInd(asm.R0, asm.R2, 1, asm.Byte),
		asm.Mov.Imm(asm.R9, 5),
		asm.Mov.Reg(asm.R2, asm.R7).WithSymbol("far"),
		asm.LSh.Imm(asm.R2, 2),
		asm.LoadInd(asm.R0, asm.R2, 0, asm.Byte),
	)
	code = append(code, fold...)
	code = append(code,
		asm.Mov.Reg(asm.R0, asm.R9),
		asm.And.Imm(asm.R0, 15),
		asm.Return(),
	)
	return code
}
