package verifier

import (
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// callHelper checks a helper call's arguments against its prototype and
// applies its effects: r0 gets the return value, r1–r5 become unreadable,
// memory it writes becomes initialised, and packet pointers die if it may
// move the packet.
func (v *vm) callHelper(st *State, pc int, ins *asm.Instruction) (*alt, error) {
	var a *alt
	err := v.callHelper1(st, pc, ins, &a)
	return a, err
}

func (v *vm) callHelper1(st *State, pc int, ins *asm.Instruction, cb **alt) error {
	id := int32(ins.Constant)
	h := helperByID(id)
	if h == nil {
		return v.errorf(pc, "invalid func unknown#%d", id)
	}
	if progClass(v.progType)&h.progs == 0 {
		return v.errorf(pc, "unknown func bpf_%s#%d", h.name, id)
	}
	if v.target != nil {
		if err := v.target.checkHelper(v, st, pc, h); err != nil {
			return err
		}
	}
	if h.id == 12 && len(st.refs) > 0 {
		return v.errorf(pc, "tail_call would lead to reference leak")
	}
	if h.perfmon && v.opts.Unprivileged {
		return v.errorf(pc, "unknown func bpf_%s#%d", h.name, id)
	}
	fr := st.cur()
	mapIdx := -1
	var released uint32
	nonNull := false // a lookup that cannot fail
	var fn *Reg      // a callback's address
	for i, k := range h.args {
		if k == argNone {
			break
		}
		rn := asm.R1 + asm.Register(i)
		r, err := v.readReg(st, pc, rn)
		if err != nil {
			return err
		}
		switch k {
		case argAnything:
		case argScalar:
			if r.Kind != ScalarKind {
				return v.errorf(pc, "R%d type=%s expected=scalar", rn, r.Kind)
			}
		case argCtx:
			if r.Kind != Ctx {
				return v.errorf(pc, "R%d type=%s expected=ctx", rn, r.Kind)
			}
			if r.Off != 0 {
				return v.errorf(pc, "dereference of modified ctx ptr R%d off=%d disallowed", rn, r.Off)
			}
		case argMap:
			if r.Kind != MapPtr {
				return v.errorf(pc, "R%d type=%s expected=map_ptr", rn, r.Kind)
			}
			mapIdx = int(r.Map)
			if err := v.checkMapCompat(pc, h, v.maps[mapIdx]); err != nil {
				return err
			}
		case argSock:
			if r.Kind != Sock {
				return v.errorf(pc, "R%d type=%s expected=sock_common", rn, r.Kind)
			}
			if r.Off != 0 {
				return v.errorf(pc, "R%d must have zero offset when passed to release func", rn)
			}
			released = r.ID
		case argInt:
			// Four initialised bytes the helper may rewrite.
			if err := v.helperMem(st, pc, rn, r, 4, false); err != nil {
				return err
			}
			if err := v.helperMem(st, pc, rn, r, 4, true); err != nil {
				return err
			}
		case argConstStr:
			if r.Kind != MapValue || r.Map < 0 || int(r.Map) >= len(v.maps) || !v.maps[r.Map].ReadOnly || !r.Value.IsConst() {
				return v.errorf(pc, "R%d does not point to a readonly map'", rn)
			}
			m := v.maps[r.Map]
			off := int64(r.Off) + int64(r.Value.ConstValue())
			if off < 0 || off >= int64(len(m.Contents)) || slices.Index(m.Contents[off:], 0) < 0 {
				return v.errorf(pc, "string is not zero-terminated")
			}
		case argMapKey, argMapValue, argUninitMapValue:
			if mapIdx < 0 {
				return v.errorf(pc, "invalid map_ptr to access map->key")
			}
			m := v.maps[mapIdx]
			size := int32(m.KeySize)
			if k != argMapKey {
				size = int32(m.ValueSize)
			}
			if err := v.helperMem(st, pc, rn, r, size, k == argUninitMapValue); err != nil {
				return err
			}
			if k == argMapKey && h.ret == retMapValueOrNull {
				key, ok := constMapKey(st, r, size)
				nonNull = ok && v.canElideNull(mapIdx) && key < uint64(m.MaxEntries)
				if nonNull {
					// A spilled constant key decided it: demand the slot.
					o := int(r.Off) + int(int64(r.Value.ConstValue()))
					v.demandSlot(int(r.Frame), (-o-1)/8)
				}
			}
		case argMem, argMemOrNull, argUninitMem:
			sr := &fr.regs[rn+1]
			v.demandReg(rn + 1) // the size decides which bytes are checked
			if r.Kind == ScalarKind {
				v.demandReg(rn) // a null pointer is accepted by its value
			}
			if sr.Kind == Uninit {
				return v.errorf(pc, "R%d !read_ok", rn+1)
			}
			if sr.Kind != ScalarKind {
				return v.errorf(pc, "R%d type=%s expected=scalar", rn+1, sr.Kind)
			}
			if sr.Value.SMin < 0 {
				return v.errorf(pc, "R%d min value is negative, either use unsigned or 'var &= const'", rn+1)
			}
			zeroOK := h.args[i+1] == argSizeOrZero
			if sr.Value.UMin == 0 && !zeroOK {
				return v.errorf(pc, "R%d invalid zero-sized read", rn+1)
			}
			if sr.Value.UMax >= 1<<29 {
				return v.errorf(pc, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'", rn+1)
			}
			if k == argMemOrNull && r.IsConst() && r.Value.ConstValue() == 0 {
				if sr.Value.UMax != 0 {
					return v.errorf(pc, "R%d type=scalar expected=fp, pkt, map_value", rn)
				}
				continue
			}
			if sr.Value.UMax == 0 {
				if r.Kind == ScalarKind {
					return v.errorf(pc, "R%d type=scalar expected=fp, pkt, map_value", rn)
				}
				continue
			}
			if err := v.helperMem(st, pc, rn, r, int32(sr.Value.UMax), k == argUninitMem); err != nil {
				return err
			}
		case argSize, argSizeOrZero:
			// checked with the memory argument before it
		case argCallback:
			if err := v.checkCallbackArg(pc, rn, r); err != nil {
				return err
			}
			fn = r
		case argStackOrNull:
			if err := v.checkStackOrNull(pc, rn, r); err != nil {
				return err
			}
		}
	}
	if h.callback != cbNone {
		a, err := v.callbackEntry(st, pc, h, fn, mapIdx)
		if err != nil {
			return err
		}
		*cb = a
	}
	if h.id == 12 && v.opts.Unprivileged {
		// One tail call instruction, one program array: without
		// bypass_spec_v1 the kernel's fixup refuses a call site that saw
		// two (record_func_map's poisoned map_ptr).
		if v.tailMap == nil {
			v.tailMap = map[int]int{}
		}
		if m, ok := v.tailMap[pc]; ok && m != mapIdx {
			v.tailMap[pc] = -1
		} else if !ok {
			v.tailMap[pc] = mapIdx
		}
	}
	// Effects.
	var ret Reg
	switch h.ret {
	case retInt:
		ret = unknownReg()
	case retVoid:
		// The kernel leaves r0 NOT_INIT after a void helper: reading it
		// is reading an uninitialised register.
		ret = Reg{}
	case retMapValueOrNull:
		// Map stays the map looked up, as in the kernel: the null check
		// turns a map of maps' result into its inner map (nullCheck).
		ret = Reg{Kind: MapValueOrNull, Map: int32(mapIdx), ID: v.newID(), Value: Const(0)}
		if nonNull {
			ret = Reg{Kind: MapValue, Map: int32(mapIdx), Value: Const(0)}
		}
	case retSockOrNull:
		id := v.newID()
		ret = Reg{Kind: SockOrNull, ID: id, Value: Const(0)}
		st.refs = append(st.refs, ref{id: id, pc: pc})
	}
	if h.release {
		if !st.dropRef(released) {
			return v.errorf(pc, "reference has not been acquired before")
		}
		// Every copy of the released pointer dies (the kernel's
		// release_reference).
		st.forEachReg(func(r *Reg) bool {
			return (r.Kind == Sock || r.Kind == SockOrNull) && r.ID == released
		}, func(r *Reg) { *r = v.deadPointer() })
	}
	for r := asm.R1; r <= asm.R5; r++ {
		fr.regs[r] = Reg{}
	}
	fr.regs[asm.R0] = ret
	if h.pktData {
		st.forEachReg(func(r *Reg) bool {
			return r.Kind == Packet || r.Kind == PacketEnd || r.Kind == PacketMeta || r.EndDiff
		}, func(r *Reg) {
			if r.Kind == Packet || r.Kind == PacketEnd || r.Kind == PacketMeta {
				*r = unknownReg()
			}
			r.EndDiff = false
		})
	}
	return nil
}

// canElideNull reports whether a lookup in map idx with a constant key
// below max_entries always succeeds: arrays of the object, whose entries
// all exist (the kernel's can_elide_value_nullness). Inner-map templates
// are left out: the map found at run time may have fewer entries.
func (v *vm) canElideNull(idx int) bool {
	if idx < 0 || idx >= v.nObjMaps || v.maps[idx] == nil {
		return false
	}
	t := v.maps[idx].Type
	return t == ebpf.Array || t == ebpf.PerCPUArray
}

// constMapKey is a map key's value when the verifier knows it, as the
// kernel's get_constant_map_key: the key lies on the stack at a constant
// offset, inside one 8-byte slot, and is either all zero bytes or a spilled
// constant of exactly the key's size.
func constMapKey(st *State, r *Reg, size int32) (uint64, bool) {
	if r.Kind != Stack || !r.Value.IsConst() || int(r.Frame) >= len(st.frames) {
		return 0, false
	}
	o := int64(r.Off) + int64(r.Value.ConstValue())
	if o >= 0 || o < -StackSize || size <= 0 || (-o-1)/8 != (-(o+int64(size)-1)-1)/8 {
		return 0, false
	}
	f := st.frames[r.Frame]
	zero := true
	for b := o; b < o+int64(size); b++ {
		if k, _ := f.byteAt(int(b)); k != byteZero {
			zero = false
		}
	}
	if zero {
		return 0, true
	}
	if size != 8 || o%8 != 0 {
		return 0, false
	}
	if _, s := f.byteAt(int(o)); s != nil && s.isSpill() && s.spill.IsConst() {
		return s.spill.Value.ConstValue(), true
	}
	return 0, false
}

// checkMapCompat enforces which helpers may use which map types (the
// kernel's check_map_func_compatibility).
func (v *vm) checkMapCompat(pc int, h *helper, m *loader.Map) error {
	if h.mapTypes != nil && !slices.Contains(h.mapTypes, m.Type) {
		return v.errorf(pc, "cannot pass map_type %d into func bpf_%s#%d", m.Type, h.name, h.id)
	}
	if allowed, special := specialMaps[m.Type]; special && !slices.Contains(allowed, h.id) {
		return v.errorf(pc, "cannot pass map_type %d into func bpf_%s#%d", m.Type, h.name, h.id)
	}
	return nil
}

// helperMem checks that a helper may read (or, for uninit, write) size
// bytes at r, and marks written stack bytes initialised.
func (v *vm) helperMem(st *State, pc int, rn asm.Register, r *Reg, size int32, uninit bool) error {
	ptr := *r
	switch ptr.Kind {
	case Stack:
		f := st.frames[ptr.Frame]
		lo := int64(ptr.Off) + ptr.Value.SMin
		hi := int64(ptr.Off) + ptr.Value.SMax + int64(size)
		if !ptr.Value.IsConst() && (ptr.Value.SMin <= -StackSize || ptr.Value.SMax >= StackSize) || lo < -StackSize || hi > 0 {
			return v.errorf(pc, "invalid indirect access to stack R%d off=%d size=%d", rn, ptr.Off, size)
		}
		v.noteDepth(st, int(ptr.Frame), int(-lo))
		if err := v.checkCombinedStack(st, pc); err != nil {
			return err
		}
		varOff := !ptr.Value.IsConst()
		if !uninit || varOff {
			v.noteRead(int(ptr.Frame), int(lo), int(hi))
		}
		for b := int(lo); b < int(hi); b++ {
			if uninit && varOff {
				// The helper writes somewhere in the range, not everywhere:
				// the bytes must already be initialised.
				if k, _ := f.byteAt(b); k == byteInvalid {
					return v.errorf(pc, "invalid variable-offset indirect write to uninitialised stack R%d at fp%d", rn, b)
				}
				continue
			}
			if uninit {
				s, i, _ := f.slotAt(b)
				if s.isSpill() {
					s.breakSpill()
				}
				s.kinds[i] = byteMisc
				continue
			}
			k, sl := f.byteAt(b)
			if k == byteInvalid {
				return v.errorf(pc, "invalid indirect read from stack R%d off %d+%d size %d", rn, lo, b-int(lo), size)
			}
			if k == byteSpill && sl.spill.Kind != ScalarKind {
				return v.errorf(pc, "R%d leaks addr into helper function", rn)
			}
		}
		return nil
	case Packet, PacketMeta, MapValue:
		a := &access{pc: pc, regno: rn, ptr: &ptr, size: size, write: uninit}
		if uninit {
			u := unknownReg()
			a.val = &u
		}
		_, err := v.memAccess(st, a)
		return err
	}
	return v.errorf(pc, "R%d type=%s expected=fp, pkt, map_value", rn, ptr.Kind)
}

// deadPointer is what a pointer becomes when the object it points to is
// gone: an unknown number for root (allow_ptr_leaks), unreadable without
// CAP_PERFMON, as the kernel's mark_reg_invalid.
func (v *vm) deadPointer() Reg {
	if v.opts.Unprivileged {
		return Reg{}
	}
	return unknownReg()
}
