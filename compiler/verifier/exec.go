package verifier

import (
	"github.com/cilium/ebpf/asm"
)

// alt is the other branch of a conditional jump.
type alt struct {
	st *State
	pc int
}

// step interprets the instruction at pc on st (in place) and returns the
// next pc (-1 when the path ends) and, for a conditional jump whose both
// branches are feasible, the other branch.
//
// A path whose state turns out contradictory ends: no run gets there.
// Conditional jumps find most contradictions when they refine (condJump
// drops a branch whose refined scalars are empty); what the ranges could
// not see at the branch shows later as a transfer function's empty result
// (an operation on a value that cannot exist), and the path ends at that
// instruction, before anything divides by an empty range or records facts
// no value satisfies.
func (v *vm) step(st *State, pc int) (int, *alt, error) {
	next, alt, err := v.step1(st, pc)
	if err == nil && next >= 0 && v.contradictory(st.cur(), pc) {
		v.demandAll() // the path ends because of the values it had
		return -1, nil, nil
	}
	return next, alt, err
}

// contradictory reports a scalar register of the frame that holds no
// value after the instruction at pc. The check runs at every processed
// instruction, so it looks only at what the instruction may have emptied:
// ALU operations and loads change only their destination; stores and JA
// change no register; a conditional jump's refinements are checked where
// they are made (refineScalars) and its other effects give no scalar; calls,
// exits, atomics and LD_ABS/IND are followed by a check of every register.
func (v *vm) contradictory(f *frame, pc int) bool {
	ins := v.insns[pc]
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls.IsALU(), cls == asm.LdXClass, op.IsDWordLoad():
		r := &f.regs[ins.Dst]
		return r.Kind == ScalarKind && r.Value.Empty()
	case cls == asm.StClass, cls == asm.StXClass && op.Mode() != asm.AtomicMode:
		return false
	case cls.IsJump() && op.JumpOp() != asm.Call && op.JumpOp() != asm.Exit:
		return false
	}
	for i := range f.regs {
		if f.regs[i].Kind == ScalarKind && f.regs[i].Value.Empty() {
			return true
		}
	}
	return false
}

func (v *vm) step1(st *State, pc int) (int, *alt, error) {
	ins := v.insns[pc]
	if v.target != nil {
		if err := v.target.checkInsn(v, st, pc, ins); err != nil {
			return 0, nil, err
		}
	}
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls.IsALU():
		return pc + 1, nil, v.alu(st, pc, ins)
	case cls == asm.LdClass:
		if op.IsDWordLoad() {
			return pc + 2, nil, v.ldImm64(st, pc, ins)
		}
		return pc + 1, nil, v.ldAbs(st, pc, ins)
	case cls == asm.LdXClass:
		return pc + 1, nil, v.load(st, pc, ins)
	case cls == asm.StClass, cls == asm.StXClass:
		if op.Mode() == asm.AtomicMode {
			return pc + 1, nil, v.atomic(st, pc, ins)
		}
		return pc + 1, nil, v.store(st, pc, ins)
	case cls.IsJump():
		switch op.JumpOp() {
		case asm.Exit:
			next, err := v.exit(st, pc)
			return next, nil, err
		case asm.Call:
			if ins.OpCode.Source() == asm.RegSource {
				return 0, nil, v.errorf(pc, "BPF_CALL uses reserved fields (indirect calls are not supported)")
			}
			if ins.IsFunctionCall() {
				next, err := v.callLocal(st, pc, ins)
				return next, nil, err
			}
			if ins.IsKfuncCall() {
				return 0, nil, v.errorf(pc, "kernel function calls are not supported")
			}
			a, err := v.callHelper(st, pc, ins)
			return pc + 1, a, err
		case asm.Ja:
			if ins.Src != 0 || ins.Dst != 0 {
				return 0, nil, v.errorf(pc, "BPF_JA uses reserved fields")
			}
			return pc + 1 + jumpOffset(ins), nil, nil
		case asm.JCOND:
			return 0, nil, v.errorf(pc, "may_goto is not supported")
		}
		return v.condJump(st, pc, ins)
	}
	return 0, nil, v.errorf(pc, "unknown opcode %02x", uint8(ins.OpCode))
}

// readReg checks that a register is initialised.
func (v *vm) readReg(st *State, pc int, r asm.Register) (*Reg, error) {
	if r > asm.R10 {
		return nil, v.errorf(pc, "R%d is invalid", r)
	}
	reg := &st.cur().regs[r]
	if reg.Kind == Uninit {
		return nil, v.errorf(pc, "R%d !read_ok", r)
	}
	return reg, nil
}

// writeReg sets a register, refusing the frame pointer.
func (v *vm) writeReg(st *State, pc int, r asm.Register, val Reg) error {
	if r == asm.R10 {
		return v.errorf(pc, "frame pointer is read only")
	}
	if r > asm.R10 {
		return v.errorf(pc, "R%d is invalid", r)
	}
	st.cur().regs[r] = val
	return nil
}

func (v *vm) ldImm64(st *State, pc int, ins *asm.Instruction) error {
	switch ins.Src {
	case 0:
		return v.writeReg(st, pc, ins.Dst, constReg(uint64(ins.Constant)))
	case asm.PseudoMapFD:
		idx := int(ins.Constant)
		if idx < 0 || idx >= len(v.maps) || v.maps[idx] == nil {
			return v.errorf(pc, "fd %d is not pointing to valid bpf_map", idx)
		}
		return v.writeReg(st, pc, ins.Dst, Reg{Kind: MapPtr, Map: int32(idx), Value: Const(0)})
	case asm.PseudoFunc:
		r, err := v.funcPointer(pc, ins)
		if err != nil {
			return err
		}
		return v.writeReg(st, pc, ins.Dst, r)
	case asm.PseudoMapValue:
		idx, off := int(uint32(ins.Constant)), uint32(ins.Constant>>32)
		if idx >= len(v.maps) || v.maps[idx] == nil {
			return v.errorf(pc, "fd %d is not pointing to valid bpf_map", idx)
		}
		if off >= v.maps[idx].ValueSize {
			return v.errorf(pc, "invalid access to map value pointer, value_size=%d off=%d", v.maps[idx].ValueSize, off)
		}
		return v.writeReg(st, pc, ins.Dst, Reg{Kind: MapValue, Map: int32(idx), Off: int32(off), Value: Const(0)})
	}
	return v.errorf(pc, "unsupported LD_IMM64 source %d", ins.Src)
}

// exit returns from a subprogram to its caller, or ends the path in main.
func (v *vm) exit(st *State, pc int) (int, error) {
	r0, err := v.readReg(st, pc, asm.R0)
	if err != nil {
		return 0, err
	}
	if len(st.frames) == 1 {
		if len(st.refs) > 0 {
			return 0, v.errorf(pc, "Unreleased reference id=%d alloc_insn=%d", st.refs[0].id, st.refs[0].pc)
		}
		if r0.Kind != ScalarKind {
			return 0, v.errorf(pc, "R0 leaks addr as return value")
		}
		if v.target != nil {
			if err := v.target.checkExit(v, pc, r0); err != nil {
				return 0, err
			}
		}
		return -1, nil
	}
	callee := st.cur()
	if callee.callback {
		if v.precise {
			v.ent.cb = cbExit
		}
		return v.callbackExit(st, pc, r0)
	}
	if r0.Kind == Stack && int(r0.Frame) == len(st.frames)-1 {
		return 0, v.errorf(pc, "cannot return stack pointer to the caller")
	}
	ret := *r0
	st.frames = st.frames[:len(st.frames)-1]
	caller := st.cur()
	caller.regs[asm.R0] = ret
	for r := asm.R1; r <= asm.R5; r++ {
		caller.regs[r] = Reg{}
	}
	v.dropFramePointers(st)
	return callee.callsite + 1, nil
}

// dropFramePointers forgets spilled pointers into frames that returned
// (they may survive in a caller's stack).
func (v *vm) dropFramePointers(st *State) {
	gone := len(st.frames)
	for _, f := range st.frames {
		f.eachSpill(func(r *Reg) bool { return r.Kind == Stack && int(r.Frame) >= gone },
			func(r *Reg) { *r = unknownReg() })
	}
}

// callLocal enters a BPF-to-BPF call with a fresh frame.
func (v *vm) callLocal(st *State, pc int, ins *asm.Instruction) (int, error) {
	target := pc + 1 + int(ins.Constant)
	fn := v.funcOf[target]
	if len(st.frames) >= maxFrames {
		return 0, v.errorf(pc, "the call stack of %d frames is too deep", len(st.frames)+1)
	}
	for _, f := range st.frames {
		if f.fn == fn {
			return 0, v.errorf(pc, "recursive call from insn %d to %d", pc, target)
		}
	}
	caller := st.cur()
	callee := &frame{callsite: pc, fn: fn}
	if v.precise {
		v.swrites.setAll(len(st.frames)) // a fresh frame: nothing is read from before
		v.usedFrame(len(st.frames))
	}
	for r := asm.R1; r <= asm.R5; r++ {
		callee.regs[r] = caller.regs[r]
	}
	callee.regs[asm.R10] = pointerReg(Stack, 0)
	callee.regs[asm.R10].Frame = int8(len(st.frames))
	st.frames = append(st.frames, callee)
	v.depth = max(v.depth, len(st.frames))
	return target, nil
}
