package verifier

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Callbacks of bpf_loop and bpf_for_each_map_elem, verified as the kernel
// does (push_callback_call, set_loop_callback_state,
// set_map_elem_callback_state): the helper call forks a path that enters
// the callback in a new frame; the callback's exit returns to the call
// instruction itself, which forks the next invocation again, so any number
// of calls is explored; the path that continues after the call stands for
// the loop being over. The call is a checkpoint where a state included in
// one still being explored is cut (the kernel's calls_callback
// convergence), so a callback whose effect on the caller's state repeats
// terminates.

// callbackKind says how a helper calls its callback.
type callbackKind uint8

const (
	cbNone           callbackKind = iota
	cbLoop                        // callback(u64 index, void *ctx)
	cbForEachMapElem              // callback(map, key, value, ctx)
)

// callbackEntry builds the path that enters the callback of helper h
// called at pc: st (before the call's effects) with the callback's frame
// pushed.
func (v *vm) callbackEntry(st *State, pc int, h *helper, fn *Reg, mapIdx int) (*alt, error) {
	target := int(fn.Off)
	if len(st.frames) >= maxFrames {
		return nil, v.errorf(pc, "the call stack of %d frames is too deep", len(st.frames)+1)
	}
	callee := &frame{callsite: pc, fn: v.funcOf[target], callback: true}
	for _, f := range st.frames {
		if f.fn == callee.fn {
			return nil, v.errorf(pc, "recursive call from insn %d to %d", pc, target)
		}
	}
	caller := st.cur()
	switch h.callback {
	case cbLoop:
		callee.regs[asm.R1] = unknownReg()
		callee.regs[asm.R2] = caller.regs[asm.R3]
	case cbForEachMapElem:
		callee.regs[asm.R1] = Reg{Kind: MapPtr, Map: int32(mapIdx), Value: Const(0)}
		callee.regs[asm.R2] = Reg{Kind: MapValue, Map: int32(v.keyMap(mapIdx)), Value: Const(0)}
		callee.regs[asm.R3] = Reg{Kind: MapValue, Map: int32(mapIdx), Value: Const(0)}
		callee.regs[asm.R4] = caller.regs[asm.R3]
	}
	callee.regs[asm.R10] = pointerReg(Stack, 0)
	callee.regs[asm.R10].Frame = int8(len(st.frames))
	n := v.clone(st)
	n.frames = append(n.frames, callee)
	v.depth = max(v.depth, len(n.frames))
	if v.precise && len(st.frames) < maxFrames {
		v.swrites.setAll(len(st.frames)) // a fresh frame
		v.usedFrame(len(st.frames))
	}
	v.cbEntered = true
	return &alt{st: n, pc: target}, nil
}

// keyMap is the index of a read-only pseudo map whose value is map idx's
// key: the callback's key argument (the kernel's PTR_TO_MAP_KEY) is read
// through it with the key's bounds.
func (v *vm) keyMap(idx int) int {
	if k, ok := v.keyMaps[idx]; ok {
		return k
	}
	m := v.maps[idx]
	v.maps = append(v.maps, &loader.Map{Name: m.Name + ".key", Type: m.Type, ValueSize: m.KeySize, MaxEntries: 1, ReadOnly: true})
	if v.keyMaps == nil {
		v.keyMaps = map[int]int{}
	}
	v.keyMaps[idx] = len(v.maps) - 1
	return len(v.maps) - 1
}

// callbackExit returns from a callback to its call instruction: r0 must be
// 0 or 1 (continue, stop), the caller's registers are as they were.
func (v *vm) callbackExit(st *State, pc int, r0 *Reg) (int, error) {
	if r0.Kind != ScalarKind {
		return 0, v.errorf(pc, "At callback return the register R0 is not a known value (%s)", r0.Kind)
	}
	v.demandReg(asm.R0)
	if r0.Value.SMin < 0 || r0.Value.SMax > 1 || r0.Value.UMax > 1 {
		return 0, v.errorf(pc, "At callback return the register R0 has smin=%d smax=%d should have been in [0, 1]",
			r0.Value.SMin, r0.Value.SMax)
	}
	callee := st.cur()
	st.frames = st.frames[:len(st.frames)-1]
	v.dropFramePointers(st)
	return callee.callsite, nil
}

// checkCallbackArg checks the function pointer argument of a helper.
func (v *vm) checkCallbackArg(pc int, rn asm.Register, r *Reg) error {
	if r.Kind != Func {
		return v.errorf(pc, "R%d type=%s expected=func", rn, r.Kind)
	}
	return nil
}

// checkStackOrNull checks a callback context argument: a stack pointer or
// null.
func (v *vm) checkStackOrNull(pc int, rn asm.Register, r *Reg) error {
	if r.Kind == Stack || r.IsConst() && r.Value.ConstValue() == 0 {
		if r.Kind == ScalarKind {
			v.demandReg(rn) // accepted for being null
		}
		return nil
	}
	return v.errorf(pc, "R%d type=%s expected=fp", rn, r.Kind)
}

// funcPointer is a LD_IMM64 of a subprogram's address.
func (v *vm) funcPointer(pc int, ins *asm.Instruction) (Reg, error) {
	t := pc + 1 + int(ins.Constant)
	if t < 0 || t >= len(v.insns) || v.insns[t] == nil || v.funcs[v.funcOf[t]] != t {
		return Reg{}, v.errorf(pc, "%s", fmt.Sprintf("function pointer to insn %d, which starts no function", t))
	}
	return Reg{Kind: Func, Off: int32(t), Value: Const(0)}, nil
}

// callbackSite reports a call of a helper that calls a callback.
func (v *vm) callbackSite(pc int) bool {
	ins := v.insns[pc]
	if ins == nil || !ins.OpCode.Class().IsJump() || ins.OpCode.JumpOp() != asm.Call || ins.Src != 0 {
		return false
	}
	h := helperByID(int32(ins.Constant))
	return h != nil && h.callback != cbNone
}

// widenCallback generalises a state arriving at a callback's call site
// again: every scalar (register or spilled) that differs from the state
// of the previous arrival on the same path becomes unknown, so that a
// callback that counts converges (the kernel's widen_imprecise_scalars for
// callbacks; widening only loses knowledge, so it is always sound). It
// reports whether anything changed.
func widenCallback(p *path) bool {
	var prev *checkpoint
	for a := p.parent; a != nil; a = a.parent {
		if a.pc == p.pc && a.st != nil {
			prev = a
			break
		}
	}
	if prev == nil || len(prev.st.frames) != len(p.st.frames) {
		return false
	}
	changed := false
	widen := func(o, c *Reg) {
		if o.Kind == ScalarKind && c.Kind == ScalarKind && (o.Value != c.Value || o.EndDiff != c.EndDiff) {
			*c = unknownReg()
			changed = true
		}
	}
	for fi, of := range prev.st.frames {
		cf := p.st.frames[fi]
		for r := range of.regs {
			widen(&of.regs[r], &cf.regs[r])
		}
		for i := 0; i < StackSize/8; i++ {
			if os, cs := of.slot(i), cf.slot(i); os != nil && cs != nil && os.isSpill() && cs.isSpill() {
				r := cs.spill
				widen(&os.spill, &r)
				if r != cs.spill {
					cf.slotMut(i).spill = r
				}
			}
		}
	}
	return changed
}
