package verifier

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// aluSyms are the operators of the kernel's disassembly (kernel/bpf/disasm.c).
var aluSyms = map[asm.ALUOp]string{
	asm.Add: "+=", asm.Sub: "-=", asm.Mul: "*=", asm.Div: "/=", asm.SDiv: "s/=", asm.Or: "|=", asm.And: "&=",
	asm.LSh: "<<=", asm.RSh: ">>=", asm.Mod: "%=", asm.SMod: "s%=", asm.Xor: "^=", asm.Mov: "=", asm.ArSh: "s>>=",
}

var jmpSyms = map[asm.JumpOp]string{
	asm.JEq: "==", asm.JNE: "!=", asm.JGT: ">", asm.JGE: ">=", asm.JLT: "<", asm.JLE: "<=",
	asm.JSGT: "s>", asm.JSGE: "s>=", asm.JSLT: "s<", asm.JSLE: "s<=", asm.JSet: "&",
}

var sizeNames = map[asm.Size]string{asm.Byte: "u8", asm.Half: "u16", asm.Word: "u32", asm.DWord: "u64"}

// Disasm prints one instruction in the Linux verifier log's syntax
// ("r2 = *(u32 *)(r1 +4)", "if r3 > r2 goto pc+12", "call bpf_map_lookup_elem#1").
func Disasm(ins asm.Instruction) string {
	op := ins.OpCode
	reg := func(r asm.Register, w bool) string {
		if w {
			return fmt.Sprintf("w%d", r)
		}
		return fmt.Sprintf("r%d", r)
	}
	mem := func(sz asm.Size, signed bool, r asm.Register, off int16) string {
		t := sizeNames[sz]
		if signed {
			t = "s" + t[1:]
		}
		return fmt.Sprintf("*(%s *)(r%d %+d)", t, r, off)
	}
	switch cls := op.Class(); {
	case cls.IsALU():
		w := cls == asm.ALUClass
		a := op.ALUOp()
		d := reg(ins.Dst, w)
		src := fmt.Sprintf("%d", int32(ins.Constant))
		if op.Source() == asm.RegSource {
			src = reg(ins.Src, w)
		}
		switch a {
		case asm.Neg:
			return fmt.Sprintf("%s = -%s", d, d)
		case asm.Swap:
			kind := "le"
			if op.Endianness() == asm.BE {
				kind = "be"
			}
			if cls == asm.ALU64Class {
				kind = "bswap"
			}
			return fmt.Sprintf("r%d = %s%d r%d", ins.Dst, kind, ins.Constant, ins.Dst)
		case asm.MovSX8, asm.MovSX16, asm.MovSX32:
			bits := map[asm.ALUOp]int{asm.MovSX8: 8, asm.MovSX16: 16, asm.MovSX32: 32}[a]
			return fmt.Sprintf("%s = (s%d)%s", d, bits, reg(ins.Src, w))
		}
		if s, ok := aluSyms[a]; ok {
			return fmt.Sprintf("%s %s %s", d, s, src)
		}
	case cls == asm.LdClass:
		if op.IsDWordLoad() {
			switch ins.Src {
			case asm.PseudoMapFD:
				return fmt.Sprintf("r%d = map[id:%d]", ins.Dst, ins.Constant)
			case asm.PseudoMapValue:
				return fmt.Sprintf("r%d = map[id:%d][0]+%d", ins.Dst, uint32(ins.Constant), uint32(ins.Constant>>32))
			}
			return fmt.Sprintf("r%d = %#x ll", ins.Dst, uint64(ins.Constant))
		}
		if op.Mode() == asm.IndMode {
			return fmt.Sprintf("r0 = *(%s *)skb[r%d + %d]", sizeNames[op.Size()], ins.Src, int32(ins.Constant))
		}
		return fmt.Sprintf("r0 = *(%s *)skb[%d]", sizeNames[op.Size()], int32(ins.Constant))
	case cls == asm.LdXClass:
		return fmt.Sprintf("r%d = %s", ins.Dst, mem(op.Size(), op.Mode() == asm.MemSXMode, ins.Src, ins.Offset))
	case cls == asm.StClass:
		return fmt.Sprintf("%s = %d", mem(op.Size(), false, ins.Dst, ins.Offset), int32(ins.Constant))
	case cls == asm.StXClass:
		m := mem(op.Size(), false, ins.Dst, ins.Offset)
		if op.Mode() != asm.AtomicMode {
			return fmt.Sprintf("%s = r%d", m, ins.Src)
		}
		p := fmt.Sprintf("(%s *)(r%d %+d)", sizeNames[op.Size()], ins.Dst, ins.Offset)
		switch a := op.AtomicOp(); a {
		case asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic:
			return fmt.Sprintf("lock %s %s r%d", m, aluSyms[asm.ALUOp(a>>8)], ins.Src)
		case asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor:
			names := map[asm.AtomicOp]string{asm.FetchAdd: "add", asm.FetchAnd: "and", asm.FetchOr: "or", asm.FetchXor: "xor"}
			return fmt.Sprintf("r%d = atomic_fetch_%s(%s, r%d)", ins.Src, names[a], p, ins.Src)
		case asm.Xchg:
			return fmt.Sprintf("r%d = atomic_xchg(%s, r%d)", ins.Src, p, ins.Src)
		case asm.CmpXchg:
			return fmt.Sprintf("r0 = atomic_cmpxchg(%s, r0, r%d)", p, ins.Src)
		}
		return fmt.Sprintf("atomic(%#x) %s r%d", uint32(op.AtomicOp()), m, ins.Src)
	case cls.IsJump():
		w := cls == asm.Jump32Class
		switch j := op.JumpOp(); j {
		case asm.Exit:
			return "exit"
		case asm.Call:
			if ins.IsFunctionCall() {
				return fmt.Sprintf("call pc%+d", ins.Constant)
			}
			if h := helperByID(int32(ins.Constant)); h != nil {
				return fmt.Sprintf("call bpf_%s#%d", h.name, ins.Constant)
			}
			return fmt.Sprintf("call unknown#%d", ins.Constant)
		case asm.Ja:
			return fmt.Sprintf("goto pc%+d", jumpOffset(&ins))
		default:
			src := fmt.Sprintf("%#x", uint32(ins.Constant))
			if int32(ins.Constant) < 0 || j != asm.JSet {
				src = fmt.Sprintf("%d", int32(ins.Constant))
			}
			if op.Source() == asm.RegSource {
				src = reg(ins.Src, w)
			}
			return fmt.Sprintf("if %s %s %s goto pc%+d", reg(ins.Dst, w), jmpSyms[j], src, ins.Offset)
		}
	}
	return fmt.Sprintf("invalid insn %#x", uint32(op))
}

// opcodeHex is the raw opcode byte, as the kernel log shows it.
func opcodeHex(ins *asm.Instruction) string { return fmt.Sprintf("%02x", uint8(ins.OpCode)) }
