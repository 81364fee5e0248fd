package ebpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// LoadError is a program the interpreter refuses before running it: an
// unknown opcode, a reserved field that is not zero, a jump out of the
// program, an unknown helper. Like the kernel's verifier (which checks the
// same things in its first pass), it names the instruction.
type LoadError struct {
	PC   int    // slot of the instruction
	Insn string // the instruction as cilium/ebpf prints it
	Msg  string
}

func (e *LoadError) Error() string {
	if e.Insn == "" {
		return fmt.Sprintf("pc %d: %s", e.PC, e.Msg)
	}
	return fmt.Sprintf("pc %d (%s): %s", e.PC, e.Insn, e.Msg)
}

// linker resolves what an instruction refers to outside itself.
type linker interface {
	helper(id int64) (*emulator.Helper, bool)
	mapPointer(index int64) (uint64, error)
	mapValuePointer(index int64, off uint32) (uint64, error)
}

// decoded is a program in internal form.
type decoded struct {
	code    []inst
	helpers []*emulator.Helper // call targets, by inst.imm of opCall
	text    *insnText          // per slot, for traces and errors
}

// insnText prints a slot's instruction when an error or a trace asks for
// it: printing every instruction at load cost more than running a packet
// (the differential fuzzer loads thousands of programs a second).
type insnText struct {
	insns asm.Instructions
	index []int32 // slot → index into insns; -1 for the second slot of lddw
}

// at is the text of the instruction at slot pc ("" for none).
func (t *insnText) at(pc int) string {
	if pc < 0 || pc >= len(t.index) || t.index[pc] < 0 {
		return ""
	}
	return fmt.Sprint(t.insns[t.index[pc]])
}

// decode validates insns (reserved fields, registers, jump targets,
// helpers) and turns them into the internal form.
func decode(insns asm.Instructions, l linker) (*decoded, error) {
	if len(insns) == 0 {
		return nil, &LoadError{Msg: "program has no instructions"}
	}
	slot := make([]int, len(insns)+1)
	for i, ins := range insns {
		slot[i+1] = slot[i] + int(ins.Width())
	}
	n := slot[len(insns)]
	text := &insnText{insns: append(asm.Instructions(nil), insns...), index: make([]int32, n)}
	for pc := range text.index {
		text.index[pc] = -1
	}
	for i := range insns {
		text.index[slot[i]] = int32(i)
	}
	d := &decoded{code: make([]inst, n), text: text}
	helperIndex := map[*emulator.Helper]uint64{}
	type pending struct{ pc, target int }
	var jumps []pending
	for i, ins := range insns {
		pc := slot[i]
		fail := func(format string, args ...any) error {
			return &LoadError{PC: pc, Insn: d.text.at(pc), Msg: fmt.Sprintf(format, args...)}
		}
		if ins.Dst > asm.R10 || ins.Src > asm.R10 {
			return nil, fail("invalid register (dst r%d, src r%d)", ins.Dst, ins.Src)
		}
		out, target, h, err := decodeOne(ins, l)
		if err != nil {
			return nil, fail("%v", err)
		}
		if writesDst(out.op) && ins.Dst == asm.R10 {
			return nil, fail("frame pointer r10 is read only")
		}
		if h != nil {
			idx, ok := helperIndex[h]
			if !ok {
				idx = uint64(len(d.helpers))
				helperIndex[h] = idx
				d.helpers = append(d.helpers, h)
			}
			out.imm = idx
		}
		d.code[pc] = out
		if target != noTarget {
			jumps = append(jumps, pending{pc, pc + 1 + target})
		}
	}
	for _, j := range jumps {
		if j.target < 0 || j.target >= n {
			return nil, &LoadError{PC: j.pc, Insn: d.text.at(j.pc), Msg: fmt.Sprintf("jump out of range to pc %d (program has %d slots)", j.target, n)}
		}
		if d.code[j.target].op == opInvalid {
			return nil, &LoadError{PC: j.pc, Insn: d.text.at(j.pc), Msg: fmt.Sprintf("jump into the middle of lddw at pc %d", j.target-1)}
		}
		d.code[j.pc].off = int32(j.target)
	}
	if last := d.code[n-1].op; last != opExit && last != opJA {
		return nil, &LoadError{PC: n - 1, Insn: d.text.at(n - 1), Msg: "last instruction is not exit or ja (execution could fall off the end)"}
	}
	return d, nil
}

// noTarget marks an instruction that does not jump.
const noTarget = -1 << 31

// writesDst says the op assigns register dst (so dst may not be r10).
func writesDst(o op) bool {
	switch o {
	case opJA, opCall, opCallX, opCallPC, opExit, opStB, opStH, opStW, opStDW,
		opStxB, opStxH, opStxW, opStxDW, opAtomic32, opAtomic64, opInvalid,
		opLdAbsB, opLdAbsH, opLdAbsW, opLdIndB, opLdIndH, opLdIndW:
		return false
	}
	if o >= opFirstGenerated && isJump(o) {
		return false
	}
	return true
}

func isJump(o op) bool { return o >= opJeq64Imm && o < opLastGenerated }

// aluBase is the first generated op of each ALU operation (64-bit imm
// form; +1 reg, +2 32-bit imm, +3 32-bit reg).
var aluBase = map[asm.ALUOp]op{
	asm.Add: opAdd64Imm, asm.Sub: opSub64Imm, asm.Mul: opMul64Imm, asm.Div: opDiv64Imm,
	asm.SDiv: opSdiv64Imm, asm.Or: opOr64Imm, asm.And: opAnd64Imm, asm.LSh: opLsh64Imm,
	asm.RSh: opRsh64Imm, asm.Mod: opMod64Imm, asm.SMod: opSmod64Imm, asm.Xor: opXor64Imm,
	asm.Mov: opMov64Imm, asm.ArSh: opArsh64Imm,
}

var jumpBase = map[asm.JumpOp]op{
	asm.JEq: opJeq64Imm, asm.JGT: opJgt64Imm, asm.JGE: opJge64Imm, asm.JSet: opJset64Imm,
	asm.JNE: opJne64Imm, asm.JSGT: opJsgt64Imm, asm.JSGE: opJsge64Imm, asm.JLT: opJlt64Imm,
	asm.JLE: opJle64Imm, asm.JSLT: opJslt64Imm, asm.JSLE: opJsle64Imm,
}

var ldxOps = map[asm.Size]op{asm.Byte: opLdxB, asm.Half: opLdxH, asm.Word: opLdxW, asm.DWord: opLdxDW}
var ldxsxOps = map[asm.Size]op{asm.Byte: opLdxSB, asm.Half: opLdxSH, asm.Word: opLdxSW}
var stOps = map[asm.Size]op{asm.Byte: opStB, asm.Half: opStH, asm.Word: opStW, asm.DWord: opStDW}
var stxOps = map[asm.Size]op{asm.Byte: opStxB, asm.Half: opStxH, asm.Word: opStxW, asm.DWord: opStxDW}
var ldAbsOps = map[asm.Size]op{asm.Byte: opLdAbsB, asm.Half: opLdAbsH, asm.Word: opLdAbsW}
var ldIndOps = map[asm.Size]op{asm.Byte: opLdIndB, asm.Half: opLdIndH, asm.Word: opLdIndW}

// reserved reports the first field that must be zero and is not.
func reserved(ins asm.Instruction, dst, src, off, imm bool) error {
	switch {
	case dst && ins.Dst != 0:
		return fmt.Errorf("reserved field dst is r%d, must be 0", ins.Dst)
	case src && ins.Src != 0:
		return fmt.Errorf("reserved field src is r%d, must be 0", ins.Src)
	case off && ins.Offset != 0:
		return fmt.Errorf("reserved field offset is %d, must be 0", ins.Offset)
	case imm && ins.Constant != 0:
		return fmt.Errorf("reserved field imm is %d, must be 0", ins.Constant)
	}
	return nil
}

// decodeOne turns one instruction into the internal form. target is the
// jump or call displacement in slots (noTarget if none); h is the helper a
// call resolves to.
func decodeOne(ins asm.Instruction, l linker) (out inst, target int, h *emulator.Helper, err error) {
	target = noTarget
	opc := ins.OpCode
	raw := uint8(opc)
	out = inst{dst: uint8(ins.Dst), src: uint8(ins.Src), off: int32(ins.Offset), imm: uint64(ins.Constant)}
	unknown := fmt.Errorf("unknown opcode %#02x", raw)
	switch cls := opc.Class(); cls {
	case asm.ALUClass, asm.ALU64Class:
		is32 := cls == asm.ALUClass
		aop := opc.ALUOp()
		switch {
		case aop == asm.Swap:
			if err = reserved(ins, false, true, true, false); err != nil {
				return
			}
			var ops [3]op
			switch {
			case is32 && opc.Endianness() == asm.LE:
				ops = [3]op{opLE16, opLE32, opLE64}
			case is32:
				ops = [3]op{opBE16, opBE32, opBE64}
			case opc.Endianness() == asm.LE: // ALU64 END: bswap, unconditional
				ops = [3]op{opBE16, opBE32, opBE64}
			default:
				return out, target, nil, unknown
			}
			switch ins.Constant {
			case 16:
				out.op = ops[0]
			case 32:
				out.op = ops[1]
			case 64:
				out.op = ops[2]
			default:
				return out, target, nil, fmt.Errorf("byte swap width %d, must be 16, 32 or 64", ins.Constant)
			}
			return
		case aop == asm.Neg:
			if opc.Source() != asm.ImmSource {
				return out, target, nil, unknown
			}
			err = reserved(ins, false, true, true, true)
			out.op = map[bool]op{false: opNeg64, true: opNeg32}[is32]
			return
		case aop == asm.MovSX8 || aop == asm.MovSX16 || aop == asm.MovSX32:
			if opc.Source() != asm.RegSource || (is32 && aop == asm.MovSX32) {
				return out, target, nil, unknown
			}
			err = reserved(ins, false, false, true, true)
			out.op = map[asm.ALUOp][2]op{
				asm.MovSX8: {opMovSX8to64, opMovSX8to32}, asm.MovSX16: {opMovSX16to64, opMovSX16to32},
				asm.MovSX32: {opMovSX32to64, opInvalid},
			}[aop][map[bool]int{false: 0, true: 1}[is32]]
			return
		}
		base, ok := aluBase[aop]
		if !ok {
			return out, target, nil, unknown
		}
		if opc.Source() == asm.RegSource {
			base++
			err = reserved(ins, false, false, true, true)
		} else {
			err = reserved(ins, false, true, true, false)
		}
		if is32 {
			base += 2
		}
		out.op = base
		return
	case asm.JumpClass, asm.Jump32Class:
		is32 := cls == asm.Jump32Class
		jop := asm.JumpOp(opc & 0xf0)
		src := opc.Source()
		switch jop {
		case asm.Ja:
			if src != asm.ImmSource {
				return out, target, nil, unknown
			}
			out.op = opJA
			if is32 { // gotol: the displacement is the immediate
				err = reserved(ins, true, true, true, false)
				target = int(int32(ins.Constant))
			} else {
				err = reserved(ins, true, true, false, true)
				target = int(ins.Offset)
			}
			return
		case asm.Call:
			if is32 {
				return out, target, nil, unknown
			}
			if src == asm.RegSource { // callx: helper number in dst
				out.op = opCallX
				err = reserved(ins, false, true, true, true)
				return
			}
			switch ins.Src {
			case 0:
				if err = reserved(ins, true, false, true, false); err != nil {
					return
				}
				var ok bool
				if h, ok = l.helper(ins.Constant); !ok {
					return out, target, nil, fmt.Errorf("unknown helper %s (#%d)", helperName(ins.Constant), ins.Constant)
				}
				out.op = opCall
			case asm.PseudoCall:
				err = reserved(ins, true, false, true, false)
				out.op = opCallPC
				target = int(int32(ins.Constant))
			case asm.PseudoKfuncCall:
				return out, target, nil, fmt.Errorf("kfunc calls are not supported (btf id %d)", ins.Constant)
			default:
				return out, target, nil, fmt.Errorf("call with unknown src %d", ins.Src)
			}
			return
		case asm.Exit:
			if is32 || src != asm.ImmSource {
				return out, target, nil, unknown
			}
			out.op = opExit
			err = reserved(ins, true, true, true, true)
			return
		}
		base, ok := jumpBase[jop]
		if !ok {
			return out, target, nil, unknown
		}
		if src == asm.RegSource {
			base++
			err = reserved(ins, false, false, false, true)
		} else {
			err = reserved(ins, false, true, false, false)
		}
		if is32 {
			base += 2
		}
		out.op = base
		target = int(ins.Offset)
		return
	case asm.LdXClass:
		var ok bool
		switch opc.Mode() {
		case asm.MemMode:
			out.op, ok = ldxOps[opc.Size()]
		case asm.MemSXMode:
			out.op, ok = ldxsxOps[opc.Size()]
		}
		if !ok {
			return out, target, nil, unknown
		}
		err = reserved(ins, false, false, false, true)
		return
	case asm.StClass:
		var ok bool
		if opc.Mode() == asm.MemMode {
			out.op, ok = stOps[opc.Size()]
		}
		if !ok {
			return out, target, nil, unknown
		}
		err = reserved(ins, false, true, false, false)
		return
	case asm.StXClass:
		switch opc.Mode() {
		case asm.MemMode:
			out.op = stxOps[opc.Size()]
			err = reserved(ins, false, false, false, true)
			return
		case asm.AtomicMode:
			imm := uint64(uint32(opc&0x1ff00) >> 8)
			if imm == 0 {
				imm = uint64(uint32(ins.Constant))
			}
			switch imm {
			case atomicAdd, atomicOr, atomicAnd, atomicXor,
				atomicAdd | atomicFetch, atomicOr | atomicFetch, atomicAnd | atomicFetch, atomicXor | atomicFetch,
				atomicXchg, atomicCmpXchg:
			default:
				return out, target, nil, fmt.Errorf("unknown atomic operation %#x", imm)
			}
			out.imm = imm
			switch opc.Size() {
			case asm.Word:
				out.op = opAtomic32
			case asm.DWord:
				out.op = opAtomic64
			default:
				return out, target, nil, fmt.Errorf("atomic operation on %d-byte operand (only 4 and 8)", opc.Size().Sizeof())
			}
			return
		}
		return out, target, nil, unknown
	case asm.LdClass:
		switch opc.Mode() {
		case asm.ImmMode:
			if opc.Size() != asm.DWord {
				return out, target, nil, unknown
			}
			if err = reserved(ins, false, false, true, false); err != nil {
				return
			}
			out.op = opLdImm64
			switch ins.Src {
			case 0:
			case asm.PseudoMapFD:
				out.imm, err = l.mapPointer(ins.Constant)
			case asm.PseudoMapValue:
				out.imm, err = l.mapValuePointer(int64(uint32(ins.Constant)), uint32(uint64(ins.Constant)>>32))
			default:
				err = fmt.Errorf("lddw with unsupported pseudo source %d", ins.Src)
			}
			out.src = 0
			return
		case asm.AbsMode:
			var ok bool
			if out.op, ok = ldAbsOps[opc.Size()]; !ok {
				return out, target, nil, unknown
			}
			err = reserved(ins, true, true, true, false)
			return
		case asm.IndMode:
			var ok bool
			if out.op, ok = ldIndOps[opc.Size()]; !ok {
				return out, target, nil, unknown
			}
			err = reserved(ins, true, false, true, false)
			return
		}
	}
	return out, target, nil, unknown
}

// helperName is the kernel name of a helper number, as cilium/ebpf knows it.
func helperName(id int64) string {
	if id < 0 || id > 1<<16 {
		return fmt.Sprintf("helper(%d)", id)
	}
	return asm.BuiltinFunc(id).String()
}
