package lift

import (
	"math"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/ir"
)

// aluOps maps eBPF ALU operations to the 32-bit IR op; the 64-bit op is
// the next one in the ir op table.
var aluOps = map[asm.ALUOp]ir.Op{
	asm.Add: ir.OpAdd32, asm.Sub: ir.OpSub32, asm.Mul: ir.OpMul32, asm.Div: ir.OpDiv32,
	asm.SDiv: ir.OpSdiv32, asm.Mod: ir.OpMod32, asm.SMod: ir.OpSmod32, asm.Or: ir.OpOr32,
	asm.And: ir.OpAnd32, asm.Xor: ir.OpXor32, asm.LSh: ir.OpLsh32, asm.RSh: ir.OpRsh32,
	asm.ArSh: ir.OpArsh32,
}

// branchOps maps eBPF conditional jumps to the 32-bit IR branch; the 64-bit
// branch is the next op.
var branchOps = map[asm.JumpOp]ir.Op{
	asm.JEq: ir.OpJeq32, asm.JNE: ir.OpJne32, asm.JGT: ir.OpJgt32, asm.JGE: ir.OpJge32,
	asm.JLT: ir.OpJlt32, asm.JLE: ir.OpJle32, asm.JSGT: ir.OpJsgt32, asm.JSGE: ir.OpJsge32,
	asm.JSLT: ir.OpJslt32, asm.JSLE: ir.OpJsle32, asm.JSet: ir.OpJset32,
}

var loadOps = map[asm.Size]ir.Op{asm.Byte: ir.OpLoad8, asm.Half: ir.OpLoad16, asm.Word: ir.OpLoad32, asm.DWord: ir.OpLoad64}
var loadsxOps = map[asm.Size]ir.Op{asm.Byte: ir.OpLoadsx8, asm.Half: ir.OpLoadsx16, asm.Word: ir.OpLoadsx32}
var storeOps = map[asm.Size]ir.Op{asm.Byte: ir.OpStore8, asm.Half: ir.OpStore16, asm.Word: ir.OpStore32, asm.DWord: ir.OpStore64}

// atomicOps maps eBPF atomic operations to the 32-bit IR op (64-bit next).
var atomicOps = map[asm.AtomicOp]ir.Op{
	asm.AddAtomic: ir.OpAtomicAdd32, asm.OrAtomic: ir.OpAtomicOr32, asm.AndAtomic: ir.OpAtomicAnd32, asm.XorAtomic: ir.OpAtomicXor32,
	asm.FetchAdd: ir.OpAtomicFetchAdd32, asm.FetchOr: ir.OpAtomicFetchOr32, asm.FetchAnd: ir.OpAtomicFetchAnd32, asm.FetchXor: ir.OpAtomicFetchXor32,
	asm.Xchg: ir.OpXchg32, asm.CmpXchg: ir.OpCmpxchg32,
}

func (l *funcLifter) emit(op ir.Op, t ir.Type, args ...*ir.Value) *ir.Value {
	v := l.f.NewValue(op, t, args...)
	v.Pos = l.pos
	l.cur.b.Append(v)
	return v
}

// constant returns a constant of type t, reusing one the current block
// already has: eBPF immediates repeat (the same mask or bound in every
// instruction), and one value per block reads better and costs passes
// nothing.
func (l *funcLifter) constant(t ir.Type, c int64) *ir.Value {
	key := constKey{t, c}
	if v, ok := l.cur.consts[key]; ok {
		return v
	}
	v := l.emit(ir.OpConst, t)
	v.Imm = c
	if l.cur.consts == nil {
		l.cur.consts = map[constKey]*ir.Value{}
	}
	l.cur.consts[key] = v
	return v
}

type constKey struct {
	t ir.Type
	c int64
}

func (l *funcLifter) const64(c int64) *ir.Value { return l.constant(ir.I64, c) }

func (l *funcLifter) const32(c int64) *ir.Value { return l.constant(ir.I32, int64(int32(c))) }

func (l *funcLifter) get(r asm.Register) *ir.Value { return l.read(reg(r), l.cur) }

// get32 is the low 32 bits of a register; a register that holds a
// zero-extended i32 gives that i32 back rather than truncating again.
func (l *funcLifter) get32(r asm.Register) *ir.Value { return l.trunc(l.get(r)) }

func (l *funcLifter) trunc(v *ir.Value) *ir.Value {
	switch v.Op {
	case ir.OpZext:
		return v.Args[0]
	case ir.OpConst:
		return l.const32(v.Imm)
	}
	if t, ok := l.cur.truncs[v]; ok {
		return t // the block already has it
	}
	t := l.emit(ir.OpTrunc, ir.I32, v)
	if l.cur.truncs == nil {
		l.cur.truncs = map[*ir.Value]*ir.Value{}
	}
	l.cur.truncs[v] = t
	return t
}

// set writes a new 64-bit value to a register; its facts are the
// verifier's facts of the register after this instruction.
func (l *funcLifter) set(r asm.Register, v *ir.Value, next int) {
	l.write(reg(r), l.cur, v)
	if l.res != nil && v.Op != ir.OpConst && v.Block == l.cur.b && v.Pos == l.pos && next >= 0 {
		l.setFacts(v, l.res.Reg(next, int(r)))
	}
}

// set32 writes an i32 result, zero-extended as every eBPF ALU32 op does.
func (l *funcLifter) set32(r asm.Register, v *ir.Value, next int) {
	l.set(r, l.emit(ir.OpZext, ir.I64, v), next)
}

func (l *funcLifter) setFacts(v *ir.Value, fa *ir.Facts) {
	if fa.Empty() {
		return
	}
	if fa = compact(fa, v.Type); fa == nil {
		return
	}
	if v.Op == ir.OpZext && fa.U64 != nil && fa.U64.Min == 0 && fa.U64.Max == math.MaxUint32 {
		fa.U64 = nil // what every zext gives
		if fa.Empty() {
			return
		}
	}
	l.f.Facts[v.ID] = fa
}

// nextSlot is the slot after instruction i if control falls through to it
// and the facts there describe this instruction's result, else -1.
func (l *funcLifter) nextSlot(i int) int {
	if i+1 >= len(l.insns) {
		return -1
	}
	n := l.insns[i+1].slot
	if l.res != nil && !l.res.Reachable(n) {
		return -1
	}
	return n
}

// instr lifts one instruction that does not end its block.
func (l *funcLifter) instr(i int) error {
	in := l.insns[i]
	op := in.OpCode
	next := l.nextSlot(i)
	switch cls := op.Class(); {
	case cls.IsALU():
		return l.alu(in, next)
	case cls == asm.LdClass:
		return l.ldImm(in, next)
	case cls == asm.LdXClass:
		return l.load(i, next)
	case cls == asm.StClass || cls == asm.StXClass:
		return l.store(i, next)
	case cls.IsJump() && op.JumpOp() == asm.Call:
		return l.call(in, next)
	}
	return l.errf(in, "this instruction is not supported (invalid opcode)")
}

func (l *funcLifter) alu(in insn, next int) error {
	op := in.OpCode
	is64 := op.Class() == asm.ALU64Class
	alu := op.ALUOp()
	src := func() *ir.Value {
		if op.Source() == asm.ImmSource {
			if is64 {
				return l.const64(int64(int32(in.Constant)))
			}
			return l.const32(in.Constant)
		}
		if is64 {
			return l.get(in.Src)
		}
		return l.get32(in.Src)
	}
	switch alu {
	case asm.Mov:
		if is64 {
			if op.Source() == asm.ImmSource {
				l.set(in.Dst, l.const64(int64(int32(in.Constant))), next)
			} else {
				l.write(reg(in.Dst), l.cur, l.get(in.Src)) // a copy: no new value
			}
			return nil
		}
		if op.Source() == asm.ImmSource {
			l.set(in.Dst, l.const64(int64(uint32(in.Constant))), next)
		} else {
			l.set32(in.Dst, l.get32(in.Src), next)
		}
		return nil
	case asm.MovSX8, asm.MovSX16, asm.MovSX32:
		v := l.get32(in.Src)
		switch alu {
		case asm.MovSX8:
			v = l.emit(ir.OpSext8, ir.I32, v)
		case asm.MovSX16:
			v = l.emit(ir.OpSext16, ir.I32, v)
		}
		if is64 {
			l.set(in.Dst, l.emit(ir.OpSext, ir.I64, v), next)
		} else {
			l.set32(in.Dst, v, next)
		}
		return nil
	case asm.Neg:
		if is64 {
			l.set(in.Dst, l.emit(ir.OpNeg64, ir.I64, l.get(in.Dst)), next)
		} else {
			l.set32(in.Dst, l.emit(ir.OpNeg32, ir.I32, l.get32(in.Dst)), next)
		}
		return nil
	case asm.Swap:
		return l.swap(in, next)
	}
	op32, ok := aluOps[alu]
	if !ok {
		return l.errf(in, "ALU operation %v is not supported", alu)
	}
	if is64 {
		a := l.get(in.Dst)
		l.set(in.Dst, l.emit(op32+1, ir.I64, a, src()), next)
	} else {
		a := l.get32(in.Dst)
		l.set32(in.Dst, l.emit(op32, ir.I32, a, src()), next)
	}
	return nil
}

// swap lifts BPF_END: to little endian truncates (the host is little
// endian), to big endian and the ALU64 bswap reverse the bytes.
func (l *funcLifter) swap(in insn, next int) error {
	bits := in.Constant
	toLE := in.OpCode.Class() == asm.ALUClass && in.OpCode.Endianness() == asm.LE
	switch {
	case bits == 64 && toLE:
		return nil // no-op on a little-endian host
	case bits == 64:
		l.set(in.Dst, l.emit(ir.OpBswap64, ir.I64, l.get(in.Dst)), next)
	case bits == 32 && toLE:
		l.set32(in.Dst, l.get32(in.Dst), next)
	case bits == 32:
		l.set32(in.Dst, l.emit(ir.OpBswap32, ir.I32, l.get32(in.Dst)), next)
	case bits == 16 && toLE:
		l.set32(in.Dst, l.emit(ir.OpAnd32, ir.I32, l.get32(in.Dst), l.const32(0xffff)), next)
	case bits == 16:
		l.set32(in.Dst, l.emit(ir.OpBswap16, ir.I32, l.get32(in.Dst)), next)
	default:
		return l.errf(in, "a byte swap of %d bits is not supported", bits)
	}
	return nil
}

func (l *funcLifter) ldImm(in insn, next int) error {
	switch in.OpCode.Mode() {
	case asm.AbsMode, asm.IndMode:
		return l.ldPacket(in, next)
	}
	if !in.OpCode.IsDWordLoad() {
		return l.errf(in, "this load-immediate form is not supported")
	}
	var v *ir.Value
	switch in.Src {
	case 0:
		v = l.const64(in.Constant)
	case asm.PseudoMapFD:
		v = l.emit(ir.OpMapRef, ir.I64)
		v.Imm = int64(int32(in.Constant))
	case asm.PseudoMapValue:
		v = l.emit(ir.OpMapValue, ir.I64)
		v.Imm = int64(uint32(in.Constant))
		v.Imm2 = int64(uint32(uint64(in.Constant) >> 32))
	default:
		return l.errf(in, "LD_IMM64 with source %v is not supported", in.Src)
	}
	l.set(in.Dst, v, next)
	return nil
}

var pktLoadOps = map[asm.Size]ir.Op{asm.Byte: ir.OpPktLoad8, asm.Half: ir.OpPktLoad16, asm.Word: ir.OpPktLoad32}

// ldPacket lifts the legacy packet loads: r0 = the packet bytes at imm
// (LD_ABS) or src+imm (LD_IND) of the skb in r6, big endian; r1–r5 are
// clobbered as by a call.
func (l *funcLifter) ldPacket(in insn, next int) error {
	op, ok := pktLoadOps[in.OpCode.Size()]
	if !ok {
		return l.errf(in, "LD_ABS/LD_IND of size %v is not supported", in.OpCode.Size())
	}
	off := l.const32(in.Constant)
	if in.OpCode.Mode() == asm.IndMode {
		off = l.emit(ir.OpAdd32, ir.I32, l.get32(in.Src), off)
	}
	v := l.emit(op, ir.I32, l.get(asm.R6), off)
	l.set32(asm.R0, v, next)
	for r := asm.R1; r <= asm.R5; r++ {
		l.write(reg(r), l.cur, undefMark)
	}
	return nil
}

// region says which memory an access through base at instruction i
// touches: the verifier's pointer kind if known, else what the lifter can
// see (the frame pointer, the context argument).
func (l *funcLifter) region(i int, base asm.Register, addr *ir.Value) ir.Region {
	if l.res != nil {
		if r, ok := l.res.Region(l.insns[i].slot, int(base)); ok {
			return r
		}
	}
	if _, ok := l.stack.baseOff[i]; ok {
		return ir.RegionStack
	}
	if addr == l.ctx && l.ctx != nil {
		return ir.RegionCtx
	}
	return ir.RegionAny
}

// promotedSlot returns the stack slot variable an 8-byte access at
// instruction i goes to, if that slot is promoted.
func (l *funcLifter) promotedSlot(i int, off int16) (variable, bool) {
	base, ok := l.stack.baseOff[i]
	if !ok {
		return 0, false
	}
	o := base + int64(off)
	if !l.stack.promoted[o] {
		return 0, false
	}
	return slotVar(o), true
}

func (l *funcLifter) load(i, next int) error {
	in := l.insns[i]
	op := in.OpCode
	size := op.Size()
	if size == asm.DWord && op.Mode() == asm.MemMode {
		if x, ok := l.promotedSlot(i, in.Offset); ok {
			l.write(reg(in.Dst), l.cur, l.read(x, l.cur))
			return nil
		}
	}
	addr := l.get(in.Src)
	if size == asm.Word && op.Mode() == asm.MemMode && l.res != nil && next >= 0 && l.region(i, in.Src, addr) == ir.RegionCtx {
		if fa := l.res.Reg(next, int(in.Dst)); fa != nil && fa.Ptr != nil {
			// A context field the kernel turns into a pointer.
			v := l.emit(ir.OpCtxPtr, ir.I64, addr)
			v.Imm = int64(in.Offset)
			v.Region = ir.RegionCtx
			l.set(in.Dst, v, next)
			return nil
		}
	}
	var ops map[asm.Size]ir.Op
	switch op.Mode() {
	case asm.MemMode:
		ops = loadOps
	case asm.MemSXMode:
		ops = loadsxOps
	}
	irop, ok := ops[size]
	if !ok {
		return l.errf(in, "this load mode or size is not supported")
	}
	t := irop.Info().Result
	v := l.emit(irop, t, addr)
	v.Imm = int64(in.Offset)
	v.Region = l.region(i, in.Src, addr)
	if t == ir.I32 {
		l.set32(in.Dst, v, next)
		if l.res != nil && next >= 0 {
			l.setFacts(v, l.res.Reg(next, int(in.Dst)))
		}
	} else {
		l.set(in.Dst, v, next)
	}
	return nil
}

func (l *funcLifter) store(i, next int) error {
	in := l.insns[i]
	op := in.OpCode
	size := op.Size()
	if op.Mode() == asm.AtomicMode {
		return l.atomic(i, next)
	}
	if op.Mode() != asm.MemMode {
		return l.errf(in, "this store mode is not supported")
	}
	var val *ir.Value
	switch {
	case op.Class() == asm.StClass && size == asm.DWord:
		val = l.const64(int64(int32(in.Constant)))
	case op.Class() == asm.StClass:
		val = l.const32(in.Constant)
	case size == asm.DWord:
		val = l.get(in.Src)
	default:
		val = l.get32(in.Src)
	}
	if size == asm.DWord {
		if x, ok := l.promotedSlot(i, in.Offset); ok {
			l.write(x, l.cur, val)
			return nil
		}
	}
	irop, ok := storeOps[size]
	if !ok {
		return l.errf(in, "this store size is not supported")
	}
	addr := l.get(in.Dst)
	v := l.emit(irop, ir.Void, addr, val)
	v.Imm = int64(in.Offset)
	v.Region = l.region(i, in.Dst, addr)
	return nil
}

func (l *funcLifter) atomic(i, next int) error {
	in := l.insns[i]
	size := in.OpCode.Size()
	aop := in.OpCode.AtomicOp()
	op32, ok := atomicOps[aop]
	if !ok || (size != asm.Word && size != asm.DWord) {
		return l.errf(in, "atomic operation %v of this size is not supported", aop)
	}
	irop, t := op32, ir.I32
	val := func(r asm.Register) *ir.Value { return l.get32(r) }
	if size == asm.DWord {
		irop, t = op32+1, ir.I64
		val = l.get
	}
	addr := l.get(in.Dst)
	args := []*ir.Value{addr}
	if aop == asm.CmpXchg {
		args = append(args, val(asm.R0))
	}
	args = append(args, val(in.Src))
	info := irop.Info()
	rt := ir.Void
	if info.Fetch {
		rt = t
	}
	v := l.emit(irop, rt, args...)
	v.Imm = int64(in.Offset)
	v.Region = l.region(i, in.Dst, addr)
	if !info.Fetch {
		return nil
	}
	dst := in.Src
	if aop == asm.CmpXchg {
		dst = asm.R0
	}
	if t == ir.I32 {
		l.set32(dst, v, next)
	} else {
		l.set(dst, v, next)
	}
	return nil
}

func (l *funcLifter) call(in insn, next int) error {
	var v *ir.Value
	switch in.Src {
	case asm.PseudoCall:
		target := in.slot + 1 + int(in.Constant)
		name, ok := l.funcNames[target]
		if !ok {
			return l.errf(in, "BPF-to-BPF call to slot %d, which starts no function", target)
		}
		args := make([]*ir.Value, l.arity[target])
		for r := range args {
			args[r] = l.get(asm.R1 + asm.Register(r))
		}
		v = l.emit(ir.OpCallFn, ir.I64, args...)
		v.Sym = name
	case 0:
		n := helperArgs(in.Constant)
		args := make([]*ir.Value, n)
		for r := range args {
			args[r] = l.get(asm.R1 + asm.Register(r))
		}
		v = l.emit(ir.OpCall, ir.I64, args...)
		v.Imm = in.Constant
	default:
		return l.errf(in, "calls of kind %v (kfuncs) are not supported", in.Src)
	}
	l.set(asm.R0, v, next)
	for r := asm.R1; r <= asm.R5; r++ {
		l.write(reg(r), l.cur, undefMark) // caller-saved: clobbered
	}
	return nil
}

// terminator lifts the jump or exit that ends block bb.
func (l *funcLifter) terminator(bb *bblock, i int) error {
	in := l.insns[i]
	op := in.OpCode
	jop := op.JumpOp()
	switch {
	case jop == asm.Exit:
		l.emit(ir.OpRet, ir.Void, l.get(asm.R0))
		return nil
	case jop == asm.Ja:
		if len(bb.succs) == 0 {
			l.emit(ir.OpUnreachable, ir.Void)
			return nil
		}
		bb.b.Append(l.jump(bb.succs[0]))
		return nil
	}
	op32, ok := branchOps[jop]
	if !ok {
		return l.errf(in, "jump %v is not supported", jop)
	}
	switch len(bb.succs) {
	case 0:
		l.emit(ir.OpUnreachable, ir.Void)
		return nil
	case 1:
		// The verifier proved one direction dead.
		bb.b.Append(l.jump(bb.succs[0]))
		return nil
	}
	var a, b *ir.Value
	irop := op32
	if op.Class() == asm.JumpClass {
		irop = op32 + 1
		a = l.get(in.Dst)
		if op.Source() == asm.ImmSource {
			b = l.const64(int64(int32(in.Constant)))
		} else {
			b = l.get(in.Src)
		}
	} else {
		a = l.get32(in.Dst)
		if op.Source() == asm.ImmSource {
			b = l.const32(in.Constant)
		} else {
			b = l.get32(in.Src)
		}
	}
	v := l.emit(irop, ir.Void, a, b)
	v.Targets = []ir.Target{{Block: bb.succs[0].b}, {Block: bb.succs[1].b}}
	return nil
}
