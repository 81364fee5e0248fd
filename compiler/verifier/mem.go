package verifier

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// maxPacketOff bounds packet offsets (MAX_PACKET_OFF).
const maxPacketOff = 0xffff

var sizeBytes = map[asm.Size]int32{asm.Byte: 1, asm.Half: 2, asm.Word: 4, asm.DWord: 8}

// access is one memory access being checked.
type access struct {
	pc    int
	regno asm.Register
	ptr   *Reg
	off   int32 // the instruction's offset
	size  int32
	write bool
	val   *Reg // the stored value (nil for an immediate store or a read)
}

func (a *access) verb() string {
	if a.write {
		return "write"
	}
	return "read"
}

// load interprets LDX.
func (v *vm) load(st *State, pc int, ins *asm.Instruction) error {
	size, ok := sizeBytes[ins.OpCode.Size()]
	mode := ins.OpCode.Mode()
	if !ok || mode != asm.MemMode && mode != asm.MemSXMode || mode == asm.MemSXMode && size == 8 {
		return v.errorf(pc, "unknown opcode %02x", uint8(ins.OpCode))
	}
	if ins.Constant != 0 {
		return v.errorf(pc, "BPF_LDX uses reserved fields")
	}
	p, err := v.readReg(st, pc, ins.Src)
	if err != nil {
		return err
	}
	ptr := *p
	val, err := v.memAccess(st, &access{pc: pc, regno: ins.Src, ptr: &ptr, off: int32(ins.Offset), size: size})
	if err != nil {
		return err
	}
	if mode == asm.MemSXMode {
		if val.Kind != ScalarKind {
			return v.errorf(pc, "R%d sign-extending load of a pointer", ins.Dst)
		}
		val = scalarReg(val.Value.sext(uint8(size)))
	}
	return v.writeReg(st, pc, ins.Dst, val)
}

// store interprets ST and STX (MEM mode).
func (v *vm) store(st *State, pc int, ins *asm.Instruction) error {
	size, ok := sizeBytes[ins.OpCode.Size()]
	if !ok || ins.OpCode.Mode() != asm.MemMode {
		return v.errorf(pc, "unknown opcode %02x", uint8(ins.OpCode))
	}
	if ins.OpCode.Class() == asm.StXClass && ins.Constant != 0 {
		return v.errorf(pc, "BPF_STX uses reserved fields")
	}
	if ins.OpCode.Class() == asm.StClass && ins.Src != 0 {
		return v.errorf(pc, "BPF_ST uses reserved fields")
	}
	p, err := v.readReg(st, pc, ins.Dst)
	if err != nil {
		return err
	}
	ptr := *p
	var val Reg
	if ins.OpCode.Class() == asm.StXClass {
		s, err := v.readReg(st, pc, ins.Src)
		if err != nil {
			return err
		}
		val = *s
	} else {
		val = constReg(uint64(ins.Constant))
	}
	_, err = v.memAccess(st, &access{pc: pc, regno: ins.Dst, ptr: &ptr, off: int32(ins.Offset), size: size, write: true, val: &val})
	return err
}

// atomic interprets the atomic read-modify-write instructions.
func (v *vm) atomic(st *State, pc int, ins *asm.Instruction) error {
	size, ok := sizeBytes[ins.OpCode.Size()]
	if !ok || size < 4 {
		return v.errorf(pc, "invalid atomic operand size")
	}
	aop := ins.OpCode.AtomicOp()
	switch aop {
	case asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic, asm.FetchAdd, asm.FetchAnd, asm.FetchOr,
		asm.FetchXor, asm.Xchg, asm.CmpXchg:
	default:
		return v.errorf(pc, "BPF_ATOMIC uses invalid atomic opcode %#x", uint32(aop)>>8)
	}
	p, err := v.readReg(st, pc, ins.Dst)
	if err != nil {
		return err
	}
	s, err := v.readReg(st, pc, ins.Src)
	if err != nil {
		return err
	}
	if s.Kind != ScalarKind {
		return v.errorf(pc, "R%d leaks addr into mem", ins.Src)
	}
	if aop == asm.CmpXchg {
		r0, err := v.readReg(st, pc, asm.R0)
		if err != nil {
			return err
		}
		if r0.Kind != ScalarKind {
			return v.errorf(pc, "R0 leaks addr into mem")
		}
	}
	ptr := *p
	switch ptr.Kind {
	case Stack, MapValue:
	default:
		return v.errorf(pc, "BPF_ATOMIC stores into R%d %s is not allowed", ins.Dst, ptr.Kind)
	}
	a := &access{pc: pc, regno: ins.Dst, ptr: &ptr, off: int32(ins.Offset), size: size}
	// The fetched value is what a load of the location gives (a spilled
	// constant stays known), as the kernel's check_atomic reads it.
	result, err := v.memAccess(st, a)
	if err != nil {
		return err
	}
	unknown := unknownReg()
	a.write, a.val = true, &unknown
	if _, err := v.memAccess(st, a); err != nil {
		return err
	}
	switch aop {
	case asm.CmpXchg:
		st.cur().regs[asm.R0] = result
	case asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor, asm.Xchg:
		return v.writeReg(st, pc, ins.Src, result)
	}
	return nil
}

// memAccess checks one access through a pointer and performs it on the
// abstract state; for reads it returns the loaded value.
func (v *vm) memAccess(st *State, a *access) (Reg, error) {
	if v.target != nil {
		if err := v.target.checkMem(v, a); err != nil {
			return Reg{}, err
		}
	}
	switch a.ptr.Kind {
	case Stack:
		return v.stackAccess(st, a)
	case Packet, PacketMeta:
		return v.packetAccess(a)
	case MapValue:
		return v.mapValueAccess(a)
	case Ctx:
		return v.ctxAccess(a)
	}
	return Reg{}, v.errorf(a.pc, "R%d invalid mem access '%s'", a.regno, a.ptr.Kind)
}

func (v *vm) storedValue(a *access, where string) error {
	if a.val != nil && a.val.Kind != ScalarKind {
		return v.errorf(a.pc, "R%d leaks addr into %s", a.regno, where)
	}
	return nil
}

func (v *vm) packetAccess(a *access) (Reg, error) {
	p := a.ptr
	if a.write {
		if w, ok := packetAccess[v.progType]; !ok || !w {
			return Reg{}, v.errorf(a.pc, "cannot write into packet")
		}
		if err := v.storedValue(a, "packet"); err != nil {
			return Reg{}, err
		}
	} else if _, ok := packetAccess[v.progType]; !ok && v.opts.Context == nil {
		return Reg{}, v.errorf(a.pc, "cannot read from packet")
	}
	if p.Value.SMin < 0 {
		return Reg{}, v.errorf(a.pc, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.", a.regno)
	}
	off := int64(p.Off) + int64(a.off)
	if p.Value.UMax > maxPacketOff || off < 0 || off+int64(a.size) > int64(p.Range) {
		return Reg{}, v.errorf(a.pc, "invalid access to packet, off=%d size=%d, R%d(id=%d,off=%d,r=%d)",
			off, a.size, a.regno, p.ID, p.Off, p.Range)
	}
	if p.Kind == Packet {
		v.maxPkt = max(v.maxPkt, int(off+int64(a.size)+int64(p.Value.UMax)))
	}
	return scalarReg(Unknown().truncate(uint8(a.size))), nil
}

func (v *vm) mapValueAccess(a *access) (Reg, error) {
	p := a.ptr
	m := v.maps[p.Map]
	if a.write {
		if m.ReadOnly {
			return Reg{}, v.errorf(a.pc, "write into map forbidden, value_size=%d off=%d size=%d", m.ValueSize, int64(p.Off)+int64(a.off), a.size)
		}
		if err := v.storedValue(a, "map"); err != nil {
			return Reg{}, err
		}
	}
	if p.Value.SMin < 0 {
		return Reg{}, v.errorf(a.pc, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.", a.regno)
	}
	if p.Value.UMax >= maxVarOff {
		return Reg{}, v.errorf(a.pc, "R%d unbounded memory access, make sure to bounds check any such access", a.regno)
	}
	lo := int64(p.Off) + int64(a.off) + p.Value.SMin
	hi := int64(p.Off) + int64(a.off) + int64(p.Value.UMax) + int64(a.size)
	if lo < 0 || hi > int64(m.ValueSize) {
		return Reg{}, v.errorf(a.pc, "invalid access to map value, value_size=%d off=%d size=%d", m.ValueSize, int64(p.Off)+int64(a.off), a.size)
	}
	if !a.write && m.ReadOnly && m.Contents != nil && p.Value.IsConst() && hi <= int64(len(m.Contents)) {
		// A frozen read-only map's contents are constants.
		var buf [8]byte
		copy(buf[:], m.Contents[lo:hi])
		return constReg(binary.LittleEndian.Uint64(buf[:])), nil
	}
	return scalarReg(Unknown().truncate(uint8(a.size))), nil
}

func (v *vm) ctxAccess(a *access) (Reg, error) {
	p := a.ptr
	if !p.Value.IsConst() || p.Value.ConstValue() != 0 {
		return Reg{}, v.errorf(a.pc, "variable ctx access var_off=%s disallowed", p.Value.Var)
	}
	off := p.Off + a.off
	f := v.ctx.find(off, a.size)
	ok := f != nil
	switch {
	case !ok:
	case f.Any:
		ok = !a.write && off%a.size == 0
	case a.size != f.Size:
		// Narrow loads must be aligned to their size (bpf_ctx_narrow_access_ok).
		ok = f.Narrow && !a.write && off%a.size == 0
	}
	if !ok || a.write && !f.Write {
		if v.target != nil && v.ctx == v.target.Contexts[v.progType] {
			return Reg{}, v.target.ctxRefusal(v, a, off)
		}
		return Reg{}, v.errorf(a.pc, "invalid bpf_context access off=%d size=%d", off, a.size)
	}
	if a.write {
		if !f.Write {
			return Reg{}, v.errorf(a.pc, "invalid bpf_context access off=%d size=%d", off, a.size)
		}
		return Reg{}, v.storedValue(a, "ctx")
	}
	if f.Result != ScalarKind {
		if p.Off != 0 && v.progType != ebpf.UnspecifiedProgram {
			return Reg{}, v.errorf(a.pc, "dereference of modified ctx ptr R%d off=%d disallowed", a.regno, p.Off)
		}
		return pointerReg(f.Result, 0), nil
	}
	return scalarReg(Unknown().truncate(uint8(a.size))), nil
}

// stackAccess reads or writes a stack frame, tracking spilled registers
// and which bytes are initialised.
func (v *vm) stackAccess(st *State, a *access) (Reg, error) {
	p := a.ptr
	if int(p.Frame) >= len(st.frames) {
		return Reg{}, v.errorf(a.pc, "R%d points to a stack frame that has returned", a.regno)
	}
	f := st.frames[p.Frame]
	base := int64(p.Off) + int64(a.off)
	// The kernel requires natural alignment of every stack access, whatever
	// the architecture (check_ptr_alignment: its spill tracking relies on it).
	if at := p.Value.Var.Add(TnumConst(uint64(base))); (at.Value|at.Mask)&uint64(a.size-1) != 0 {
		vo := p.Value.Var.String()
		if p.Value.Var.IsConst() {
			vo = fmt.Sprint(int64(p.Value.Var.Value))
		}
		return Reg{}, v.errorf(a.pc, "misaligned stack access off %s+%d+%d size %d", vo, p.Off, a.off, a.size)
	}
	if !p.Value.IsConst() {
		return v.stackVarAccess(st, f, a, base)
	}
	off := base + int64(p.Value.ConstValue())
	if off < -StackSize || off+int64(a.size) > 0 {
		return Reg{}, v.errorf(a.pc, "invalid %s to stack R%d off=%d size=%d", a.verb(), a.regno, off, a.size)
	}
	v.noteDepth(st, int(p.Frame), int(-off))
	if err := v.checkCombinedStack(st, a.pc); err != nil {
		return Reg{}, err
	}
	o := int(off)
	v.noteStackSlot(int(p.Frame), o)
	if a.write {
		val := constReg(0)
		if a.val != nil {
			val = *a.val
		}
		v.noteWrite(int(p.Frame), o, int(a.size))
		if a.size == 8 && o%8 == 0 {
			s, _, _ := f.slotAt(o)
			s.spill = val
			s.kinds = spillKinds
			return Reg{}, nil
		}
		if val.Kind != ScalarKind {
			return Reg{}, v.errorf(a.pc, "R%d partial spill of a pointer", a.regno)
		}
		k := byteMisc
		if val.IsConst() && val.Value.ConstValue()&sizeMask(a.size) == 0 {
			k = byteZero
		}
		if v.forgets() {
			v.forgetZeros(f, o, int(a.size))
		}
		for b := o; b < o+int(a.size); b++ {
			s, i, _ := f.slotAt(b)
			if s.isSpill() {
				s.breakSpill()
			}
			s.kinds[i] = k
		}
		return Reg{}, nil
	}
	// Reads.
	v.noteRead(int(p.Frame), o, o+int(a.size))
	if -o > f.depth {
		f.depth = -o
	}
	s, i := f.slot((-o-1)/8), (o+StackSize)%8
	if s != nil && s.isSpill() {
		if a.size == 8 && i == 0 {
			return s.spill, nil
		}
		if s.spill.Kind != ScalarKind {
			return Reg{}, v.errorf(a.pc, "invalid size of register fill")
		}
		if i+int(a.size) <= 8 {
			if s.spill.IsConst() {
				c := s.spill.Value.ConstValue() >> (8 * i)
				return constReg(c & (uint64(1)<<(8*a.size) - 1)), nil
			}
			return scalarReg(Unknown().truncate(uint8(a.size))), nil
		}
	}
	allZero := true
	for b := o; b < o+int(a.size); b++ {
		k, sl := f.byteAt(b)
		switch k {
		case byteInvalid:
			return Reg{}, v.errorf(a.pc, "invalid read from stack R%d off %d+%d size %d", a.regno, p.Off, a.off, a.size)
		case byteSpill:
			if sl.spill.Kind != ScalarKind {
				return Reg{}, v.errorf(a.pc, "invalid size of register fill")
			}
			allZero = false
		case byteMisc:
			allZero = false
		}
	}
	if allZero {
		return constReg(0), nil
	}
	return scalarReg(Unknown().truncate(uint8(a.size))), nil
}

// forgetZeros makes the zero bytes of the slots that a narrow store to
// frame bytes [o, o+size) touches, outside what it writes, unknown
// numbers. The kernel keeps a narrow store of a known number at an
// aligned offset as a spilled register and forgets it, zeros included,
// when another part of its slot is written (scrub_spilled_slot, STACK_MISC
// for the bytes of an earlier narrow spill); nfpcc keeps zero bytes one by
// one, and states that differ only in which bytes of a slot are still
// zero (cilium's flow keys built field by field) would not prune one
// another. This forgets somewhat more than the kernel (zeros from
// misaligned stores too); a rejection after it is checked again (Verify).
func (v *vm) forgetZeros(f *frame, o, size int) {
	for base := o - (o+StackSize)%8; base < o+size; base += 8 {
		i := (-base - 1) / 8
		s := f.slot(i)
		if s == nil {
			continue
		}
		if s.isSpill() {
			s = f.slotMut(i)
			s.breakSpill() // a spilled 0 becomes zero bytes, forgotten below
		}
		for b := base; b < base+8; b++ {
			if j := (b + StackSize) % 8; (b < o || b >= o+size) && s.kinds[j] == byteZero {
				s = f.slotMut(i)
				s.kinds[j] = byteMisc
				v.coarsened = true
			}
		}
	}
}

// sizeMask has the low size bytes set.
func sizeMask(size int32) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return uint64(1)<<(8*size) - 1
}

// breakSpill turns a spilled register into plain bytes before part of it
// is overwritten.
func (s *slot) breakSpill() {
	k := byteMisc
	if s.spill.IsConst() && s.spill.Value.ConstValue() == 0 {
		k = byteZero
	}
	for i := range s.kinds {
		s.kinds[i] = k
	}
	s.spill = Reg{}
}

// stackVarAccess handles a stack pointer with a variable offset: every
// byte it may touch must be inside the frame and, for reads, initialised.
func (v *vm) stackVarAccess(st *State, f *frame, a *access, base int64) (Reg, error) {
	p := a.ptr
	lo, hi := base+p.Value.SMin, base+p.Value.SMax+int64(a.size)
	if p.Value.SMin <= -StackSize || p.Value.SMax >= StackSize || lo < -StackSize || hi > 0 {
		return Reg{}, v.errorf(a.pc, "invalid variable-offset %s to stack R%d var_off=%s off=%d size=%d",
			a.verb(), a.regno, p.Value.Var, base, a.size)
	}
	v.noteDepth(st, int(p.Frame), int(-lo))
	if err := v.checkCombinedStack(st, a.pc); err != nil {
		return Reg{}, err
	}
	if a.write && a.val != nil && a.val.Kind != ScalarKind {
		return Reg{}, v.errorf(a.pc, "R%d variable-offset spill of a pointer", a.regno)
	}
	v.noteRead(int(p.Frame), int(lo), int(hi)) // writes check the bytes too
	for b := int(lo); b < int(hi); b++ {
		k, sl := f.byteAt(b)
		if k == byteInvalid {
			return Reg{}, v.errorf(a.pc, "invalid variable-offset %s from stack R%d var_off=%s off=%d size=%d (uninitialised byte at %d)",
				a.verb(), a.regno, p.Value.Var, base, a.size, b)
		}
		if k == byteSpill && sl.spill.Kind != ScalarKind {
			if a.write {
				return Reg{}, v.errorf(a.pc, "variable-offset write may corrupt a spilled pointer at fp%d", b)
			}
			return Reg{}, v.errorf(a.pc, "variable-offset read of a spilled pointer at fp%d", b)
		}
	}
	if a.write {
		for b := int(lo); b < int(hi); b++ {
			s, i, _ := f.slotAt(b)
			if s.isSpill() {
				s.breakSpill()
			}
			s.kinds[i] = byteMisc
		}
		return Reg{}, nil
	}
	return scalarReg(Unknown().truncate(uint8(a.size))), nil
}

// noteDepth records how deep a frame's stack is used and checks the
// combined stack of the call chain.
func (v *vm) noteDepth(st *State, frameIdx int, depth int) {
	fn := st.frames[frameIdx].fn
	if depth > v.stackDepth[fn] {
		v.stackDepth[fn] = depth
	}
}

// checkCombinedStack verifies the stack of the current call chain, each
// frame rounded to 32 bytes as the kernel does.
func (v *vm) checkCombinedStack(st *State, pc int) error {
	total := 0
	for _, f := range st.frames {
		total += roundUp(max(v.stackDepth[f.fn], 1), 32)
	}
	if total > StackSize {
		return v.errorf(pc, "combined stack size of %d calls is %d. Too large", len(st.frames), total)
	}
	if v.target != nil {
		if n := v.target.stackChain(v, st); n > v.target.StackSize {
			return v.target.errorf(v, pc, "stack too large: program %dB > FW stack %dB", n, v.target.StackSize)
		}
	}
	return nil
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// ldAbs interprets the legacy packet loads LD_ABS and LD_IND.
func (v *vm) ldAbs(st *State, pc int, ins *asm.Instruction) error {
	if !ldAbsTypes[v.progType] {
		return v.errorf(pc, "BPF_LD_[ABS|IND] instructions not allowed for this program type")
	}
	size, ok := sizeBytes[ins.OpCode.Size()]
	mode := ins.OpCode.Mode()
	// The kernel's check_ld_abs: r0 is the implicit destination, there is
	// no offset, and LD_ABS has no source register.
	if !ok || size == 8 || mode != asm.AbsMode && mode != asm.IndMode ||
		ins.Dst != asm.R0 || ins.Offset != 0 || mode == asm.AbsMode && ins.Src != asm.R0 {
		return v.errorf(pc, "BPF_LD_[ABS|IND] uses reserved fields")
	}
	r6, err := v.readReg(st, pc, asm.R6)
	if err != nil {
		return err
	}
	if r6.Kind != Ctx || r6.Off != 0 {
		return v.errorf(pc, "at the time of BPF_LD_ABS|IND R6 != pointer to skb")
	}
	if mode == asm.IndMode {
		s, err := v.readReg(st, pc, ins.Src)
		if err != nil {
			return err
		}
		if s.Kind != ScalarKind {
			return v.errorf(pc, "R%d leaks addr into packet offset", ins.Src)
		}
	}
	fr := st.cur()
	for r := asm.R1; r <= asm.R5; r++ {
		fr.regs[r] = Reg{}
	}
	fr.regs[asm.R0] = scalarReg(Unknown().truncate(uint8(size)))
	return nil
}
