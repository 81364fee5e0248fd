package diff

import "github.com/cilium/ebpf/asm"

// stackAtomicsProgram applies every atomic (add, and, or, xor, their fetch
// forms, xchg, cmpxchg; 32- and 64-bit) to stack slots holding packet
// words, with packet words and edge constants (0, 1, -1, 2^31, 2^32-1) as
// operands, at slots low in the frame (*l$index0) and high (an *l$index3
// window). cmpxchg runs once with r0 equal to the slot (it stores) and once
// with another value (it does not). Each slot's new value XOR the fetched
// old one is written over the packet as a doubleword, so the zero upper
// half of a 32-bit fetch shows.
func stackAtomicsProgram() asm.Instructions {
	code := packetGuard(64,
		asm.Mov.Reg(asm.R6, asm.R2),
		// Touch the frame's bottom: the stack is 256 bytes deep.
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.R10, -256, asm.R1, asm.DWord),
	)
	ops := []asm.AtomicOp{asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic,
		asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor, asm.Xchg, asm.CmpXchg, asm.CmpXchg}
	slots := []int16{-8, -96, -248, -256}
	operands := []asm.Instruction{
		asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R2, 1), asm.Mov.Imm(asm.R2, -1),
		asm.Mov.Imm32(asm.R2, -0x80000000), asm.Mov.Imm32(asm.R2, -1),
	}
	n := 0
	for _, size := range []asm.Size{asm.DWord, asm.Word} {
		for i, op := range ops {
			slot := slots[n%len(slots)]
			in := int16(n*4) % 56
			var operand asm.Instruction
			if n%3 == 2 {
				operand = operands[(n/3)%len(operands)]
			} else {
				operand = asm.LoadMem(asm.R2, asm.R6, (in+12)%56, asm.DWord)
			}
			code = append(code,
				asm.LoadMem(asm.R1, asm.R6, in, asm.DWord),
				asm.StoreMem(asm.R10, slot, asm.R1, asm.DWord),
				operand,
			)
			if op == asm.CmpXchg {
				// The first time r0 is the slot's value, the second a
				// packet word (another value, almost always).
				if i == len(ops)-2 {
					code = append(code, asm.Mov.Reg(asm.R0, asm.R1))
				} else {
					code = append(code, asm.LoadMem(asm.R0, asm.R6, (in+20)%56, asm.DWord))
				}
			}
			fetched := asm.R2
			if op == asm.CmpXchg {
				fetched = asm.R0
			}
			code = append(code,
				op.Mem(asm.R10, asm.R2, size, slot),
				asm.LoadMem(asm.R3, asm.R10, slot, asm.DWord),
				asm.Xor.Reg(asm.R3, fetched),
				asm.StoreMem(asm.R6, in, asm.R3, asm.DWord),
			)
			n++
		}
	}
	return append(code,
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return())
}
