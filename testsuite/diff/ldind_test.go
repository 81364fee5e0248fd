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

// ldIndNegativeProgram makes legacy loads at negative offsets, which the
// kernel reads relative to the network header (from SKF_NET_OFF =
// -0x100000, 14 bytes into a tc frame) or the mac header (from SKF_LL_OFF
// = -0x200000, the frame's start): constant LD_ABS (mapped at compile
// time), LD_IND with a src of the frame's length, one whose 32-bit sum
// wraps, then by the length's bits 1-3 one of: a NET or LL load ending
// 1 byte before to 2 past the frame's end, a positive one past the end,
// and offsets that always fail (-1-k: about 1 MiB past the network
// header; below SKF_LL_OFF; just below SKF_NET_OFF, about 1 MiB past the
// mac header). Each result is folded into r0 and the frame's first 8
// bytes.
func ldIndNegativeProgram() asm.Instructions {
	const net, ll = -0x100000, -0x200000
	fold := asm.Instructions{
		asm.Xor.Reg(asm.R9, asm.R0),
		asm.LSh.Imm(asm.R9, 5),
		asm.Add.Reg(asm.R9, asm.R0),
	}
	var code asm.Instructions
	load := func(pre ...asm.Instruction) {
		code = append(code, pre...)
		code = append(code, fold...)
	}
	code = asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R7, asm.R6, 0, asm.Word), // skb->len
		asm.Mov.Reg(asm.R9, asm.R7),
	}
	load(asm.LoadAbs(ll+12, asm.Half))
	load(asm.LoadAbs(net, asm.Word))
	load(asm.Mov.Reg(asm.R2, asm.R7), asm.And.Imm(asm.R2, 1), asm.LoadInd(asm.R0, asm.R2, net+2, asm.Half))
	load(asm.Mov.Reg(asm.R2, asm.R7), asm.And.Imm(asm.R2, 7), asm.LoadInd(asm.R0, asm.R2, ll+5, asm.Byte))
	// src's upper half is ignored and src + imm wraps: NET + (len & 3).
	load(asm.LoadImm(asm.R2, int64(0xdead)<<32|(net+0x1000)&0xffffffff, asm.DWord),
		asm.Mov.Reg(asm.R3, asm.R7), asm.And.Imm(asm.R3, 3), asm.Add.Reg(asm.R2, asm.R3),
		asm.LoadInd(asm.R0, asm.R2, -0x1000, asm.Byte))
	code = append(code,
		asm.Mov.Reg(asm.R8, asm.R7), asm.RSh.Imm(asm.R8, 3), asm.And.Imm(asm.R8, 3), // k
		asm.Mov.Reg(asm.R3, asm.R7), asm.RSh.Imm(asm.R3, 1), asm.And.Imm(asm.R3, 3),
		asm.JEq.Imm(asm.R3, 1, "ll"),
		asm.JEq.Imm(asm.R3, 2, "fail"),
		asm.JEq.Imm(asm.R3, 3, "past"),
		// NET: frame offset len - 5 + k, 4 bytes.
		asm.Mov.Reg(asm.R2, asm.R7), asm.Add.Reg(asm.R2, asm.R8), asm.Add.Imm(asm.R2, net-19),
		asm.LoadInd(asm.R0, asm.R2, 0, asm.Word),
		asm.Ja.Label("out"),
		// LL: frame offset len - 3 + k, 2 bytes.
		asm.Mov.Reg(asm.R2, asm.R7).WithSymbol("ll"), asm.Add.Reg(asm.R2, asm.R8), asm.Add.Imm(asm.R2, -3),
		asm.LoadInd(asm.R0, asm.R2, ll, asm.Half),
		asm.Ja.Label("out"),
		asm.JEq.Imm(asm.R8, 0, "below").WithSymbol("fail"),
		asm.Mov.Imm(asm.R2, -1), asm.Sub.Reg(asm.R2, asm.R8),
		asm.LoadInd(asm.R0, asm.R2, 0, asm.Byte),
		asm.Ja.Label("out"),
		asm.Mov.Imm(asm.R2, ll-1).WithSymbol("below"), asm.Sub.Reg(asm.R2, asm.R7),
		asm.LoadInd(asm.R0, asm.R2, 0, asm.Byte),
		asm.Ja.Label("out"),
		asm.JEq.Imm(asm.R8, 0, "netm1").WithSymbol("past"),
		asm.Mov.Reg(asm.R2, asm.R7), asm.Add.Reg(asm.R2, asm.R8), asm.Add.Imm(asm.R2, -3),
		asm.LoadInd(asm.R0, asm.R2, 0, asm.Half),
		asm.Ja.Label("out"),
		asm.Mov.Imm(asm.R2, net-1).WithSymbol("netm1"), asm.Sub.Reg(asm.R2, asm.R7),
		asm.LoadInd(asm.R0, asm.R2, 0, asm.Byte),
		asm.Xor.Reg(asm.R9, asm.R0).WithSymbol("out"),
		asm.LSh.Imm(asm.R9, 5),
		asm.Add.Reg(asm.R9, asm.R0),
		// The harness compares r0 only as a return code: the fold goes
		// into the frame's first 8 bytes too.
		asm.LoadMem(asm.R1, asm.R6, 76, asm.Word), // data
		asm.LoadMem(asm.R2, asm.R6, 80, asm.Word), // data_end
		asm.Mov.Reg(asm.R3, asm.R1),
		asm.Add.Imm(asm.R3, 8),
		asm.JGT.Reg(asm.R3, asm.R2, "ret"),
		asm.StoreMem(asm.R1, 0, asm.R9, asm.DWord),
		asm.Mov.Reg(asm.R0, asm.R9).WithSymbol("ret"),
		asm.And.Imm(asm.R0, 7),
		asm.Return(),
	)
	return code
}
