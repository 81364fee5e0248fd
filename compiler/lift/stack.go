package lift

import (
	"github.com/cilium/ebpf/asm"
)

// Stack promotion. A stack slot (8 aligned bytes of the frame) becomes an
// SSA variable, like a register, when the program uses it only as a plain
// spill: every access to it is an 8-byte load or store at exactly its offset
// from the frame pointer, and no pointer to it escapes (to a helper, another
// function, memory, or arithmetic the analysis cannot follow). Spills of
// registers around calls are what clang emits most; promoting them lets the
// backend keep the values in NFP registers instead of local memory.
//
// The analysis is a forward dataflow over the function's CFG tracking which
// registers hold fp+k for a known constant k (the verifier's PTR_TO_STACK
// with a constant offset). It is conservative on its own, so it needs no
// verifier facts; accesses it cannot attribute disable promotion.

// fpVal is the abstract value of a register for the analysis.
type fpVal struct {
	kind fpKind
	off  int64
}

type fpKind uint8

const (
	fpBot      fpKind = iota // not yet reached
	fpNot                    // not a stack pointer
	fpKnown                  // fp + off
	fpAnyStack               // may be a stack pointer with an unknown offset
)

func joinFP(a, b fpVal) fpVal {
	switch {
	case a.kind == fpBot:
		return b
	case b.kind == fpBot:
		return a
	case a == b:
		return a
	case a.kind == fpNot && b.kind == fpNot:
		return a
	}
	return fpVal{kind: fpAnyStack}
}

type regsFP [11]fpVal

// stackInfo is the result: per instruction, the frame offset of its memory
// access base if known, and the set of promoted slot offsets.
type stackInfo struct {
	baseOff  map[int]int64 // insn index → fp offset of the base register (load/store/atomic)
	promoted map[int64]bool
	// escapeAll disables promotion entirely; escapeFrom[k] means slots at
	// offsets ≥ k may be reached through an escaped pointer.
	escapeAll bool
	minEscape int64
	// lowest is the lowest fp offset accessed or escaped (0 if none).
	lowest int64
}

func (l *funcLifter) analyseStack() *stackInfo {
	si := &stackInfo{baseOff: map[int]int64{}, promoted: map[int64]bool{}, minEscape: 0}
	in := make(map[*bblock]*regsFP, len(l.blocks))
	var entry regsFP
	for r := range entry {
		entry[r] = fpVal{kind: fpNot}
	}
	entry[asm.R10] = fpVal{kind: fpKnown}
	in[l.blocks[0]] = &entry
	// Iterate to a fixpoint; the lattice has height 3 per register, so this
	// terminates quickly.
	for changed := true; changed; {
		changed = false
		for _, bb := range l.blocks {
			st := in[bb]
			if st == nil || bb.dead {
				continue
			}
			cur := *st
			for i := bb.first; i <= bb.last; i++ {
				l.stepFP(&cur, i, nil)
			}
			for _, s := range bb.succs {
				old := in[s]
				if old == nil {
					c := cur
					in[s] = &c
					changed = true
					continue
				}
				merged := *old
				for r := range merged {
					merged[r] = joinFP(old[r], cur[r])
				}
				if merged != *old {
					*old = merged
					changed = true
				}
			}
		}
	}
	// Final pass: record bases and escapes, then decide each slot.
	access := map[int64]bool{} // slots touched only by exact 8-byte accesses
	bad := map[int64]bool{}
	for _, bb := range l.blocks {
		st := in[bb]
		if st == nil || bb.dead {
			continue
		}
		cur := *st
		for i := bb.first; i <= bb.last; i++ {
			l.stepFP(&cur, i, &accessRecorder{si: si, access: access, bad: bad})
		}
	}
	if si.escapeAll {
		return si
	}
	for off := range access {
		if !bad[off] && off < si.minEscape {
			si.promoted[off] = true
		}
	}
	return si
}

// accessRecorder collects, in the final pass, what each memory access does
// to the stack.
type accessRecorder struct {
	si     *stackInfo
	access map[int64]bool
	bad    map[int64]bool
}

// touch records an access of size bytes at fp+off; exact says whether it
// is a plain 8-byte load or store.
func (a *accessRecorder) touch(off int64, size int, exact bool) {
	a.si.lowest = min(a.si.lowest, off)
	first, last := floor8(off), floor8(off+int64(size)-1)
	for s := first; s <= last; s += 8 {
		if exact && s == off {
			a.access[s] = true
		} else {
			a.bad[s] = true
		}
	}
}

// escape records that a pointer fp+k leaves the analysis' sight.
func (a *accessRecorder) escape(v fpVal) {
	switch v.kind {
	case fpKnown:
		if v.off < a.si.minEscape {
			a.si.minEscape = floor8(v.off)
		}
		a.si.lowest = min(a.si.lowest, v.off)
	case fpAnyStack:
		a.si.escapeAll = true
	}
}

func floor8(x int64) int64 {
	if x >= 0 {
		return x / 8 * 8
	}
	return -((-x + 7) / 8 * 8)
}

var sizeBytes = map[asm.Size]int{asm.Byte: 1, asm.Half: 2, asm.Word: 4, asm.DWord: 8}

// stepFP applies instruction i to the register state; with rec set it also
// records the instruction's stack accesses and escapes.
func (l *funcLifter) stepFP(st *regsFP, i int, rec *accessRecorder) {
	in := l.insns[i]
	op := in.OpCode
	cls := op.Class()
	not := fpVal{kind: fpNot}
	mem := func(base asm.Register, off int16, size int, exact bool) {
		b := st[base]
		if rec == nil {
			return
		}
		switch b.kind {
		case fpKnown:
			rec.si.baseOff[i] = b.off
			rec.touch(b.off+int64(off), size, exact)
		case fpAnyStack:
			rec.si.escapeAll = true
		}
	}
	switch {
	case cls.IsALU():
		dst := in.Dst
		alu := op.ALUOp()
		regSrc := op.Source() == asm.RegSource
		stackish := func(v fpVal) bool { return v.kind == fpKnown || v.kind == fpAnyStack }
		switch {
		case alu == asm.Mov && regSrc && cls == asm.ALU64Class:
			st[dst] = st[in.Src]
		case (alu == asm.Add || alu == asm.Sub) && !regSrc && cls == asm.ALU64Class && st[dst].kind == fpKnown:
			k := in.Constant
			if alu == asm.Sub {
				k = -k
			}
			st[dst] = fpVal{kind: fpKnown, off: st[dst].off + k}
		case cls == asm.ALU64Class && alu != asm.Mov && (stackish(st[dst]) || (regSrc && stackish(st[in.Src]))):
			// Pointer arithmetic the analysis does not follow: the result
			// may point anywhere in the frame.
			st[dst] = fpVal{kind: fpAnyStack}
		default:
			st[dst] = not // 32-bit ops cannot make a pointer
		}
	case cls == asm.LdXClass:
		size := sizeBytes[op.Size()]
		mem(in.Src, in.Offset, size, size == 8 && op.Mode() == asm.MemMode)
		st[in.Dst] = not
	case cls == asm.StClass:
		size := sizeBytes[op.Size()]
		mem(in.Dst, in.Offset, size, size == 8)
	case cls == asm.StXClass:
		size := sizeBytes[op.Size()]
		atomic := op.Mode() == asm.AtomicMode
		mem(in.Dst, in.Offset, size, size == 8 && !atomic)
		if rec != nil && (st[in.Src].kind == fpKnown || st[in.Src].kind == fpAnyStack) {
			rec.si.escapeAll = true // a stack pointer stored to memory: it may come back anywhere
		}
		if atomic {
			if a := op.AtomicOp(); a == asm.CmpXchg {
				st[asm.R0] = not
			} else if a != asm.AddAtomic && a != asm.OrAtomic && a != asm.AndAtomic && a != asm.XorAtomic {
				st[in.Src] = not
			}
		}
	case cls == asm.LdClass:
		if op.Mode() == asm.AbsMode || op.Mode() == asm.IndMode {
			for r := asm.R0; r <= asm.R5; r++ {
				st[r] = not
			}
			return
		}
		st[in.Dst] = not
	case cls.IsJump() && op.JumpOp() == asm.Call:
		if rec != nil {
			for r := asm.R1; r <= asm.R5; r++ {
				if in.Src == asm.PseudoCall {
					if st[r].kind == fpKnown || st[r].kind == fpAnyStack {
						rec.si.escapeAll = true // the callee may use it any way it likes
					}
				} else {
					rec.escape(st[r])
				}
			}
		}
		for r := asm.R0; r <= asm.R5; r++ {
			st[r] = not
		}
	case cls.IsJump() && op.Source() == asm.RegSource && op.JumpOp() != asm.Exit && op.JumpOp() != asm.Ja:
		// Comparing stack pointers does not let them escape.
	}
}
