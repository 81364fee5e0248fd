package lift

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/ir"
)

// insn is one eBPF instruction of the function being lifted, with its slot.
type insn struct {
	asm.Instruction
	slot int
}

// bblock is a basic block of the eBPF control-flow graph: instructions
// [first, last] of the function's insn list. It also carries the state of
// the SSA construction of Braun et al. (defs, sealing, incomplete phis).
type bblock struct {
	first, last int // indices into fn.insns
	succs       []*bblock
	preds       []edge
	dead        bool // the verifier never reached it

	b          *ir.Block
	filled     bool
	sealed     bool
	defs       map[variable]*value
	incomplete map[variable]*value
	consts     map[constKey]*value // constants already in the block
	truncs     map[*value]*value   // truncations already in the block
}

// edge is one incoming CFG edge: the predecessor and which target of its
// terminator the edge is.
type edge struct {
	from *bblock
	idx  int
}

// jumpTarget is the slot a jump at in goes to.
func jumpTarget(in insn) int {
	off := int(in.Offset)
	if in.OpCode.Class() == asm.Jump32Class && in.OpCode.JumpOp() == asm.Ja {
		off = int(in.Constant) // gotol: the offset is in the immediate
	}
	return in.slot + 1 + off
}

// endsBlock reports whether control may leave in other than by falling
// through to the next instruction.
func endsBlock(in insn) bool {
	if !in.OpCode.Class().IsJump() {
		return false
	}
	op := in.OpCode.JumpOp()
	return op != asm.Call
}

// buildCFG splits the function's instructions into basic blocks. It returns
// the blocks in slot order; the first is the entry.
func (l *funcLifter) buildCFG() error {
	ins := l.insns
	if len(ins) == 0 {
		return fmt.Errorf("function %s has no instructions", l.name)
	}
	bySlot := map[int]int{}
	for i, in := range ins {
		bySlot[in.slot] = i
	}
	leader := make([]bool, len(ins))
	leader[0] = true
	for i, in := range ins {
		if !endsBlock(in) {
			continue
		}
		if i+1 < len(ins) {
			leader[i+1] = true
		}
		op := in.OpCode.JumpOp()
		if op == asm.Exit {
			continue
		}
		t, ok := bySlot[jumpTarget(in)]
		if !ok {
			return l.errf(in, "jump to slot %d, outside function %s or into the middle of an instruction", jumpTarget(in), l.name)
		}
		leader[t] = true
	}
	// A path the verifier ended in the middle of a block (a state it found
	// contradictory: no run gets there) leaves the rest of the block
	// unreached; it starts a block of its own, which is dead.
	if l.res != nil {
		for i := 1; i < len(ins); i++ {
			if l.reachable(ins[i].slot) != l.reachable(ins[i-1].slot) {
				leader[i] = true
			}
		}
	}
	byFirst := map[int]*bblock{}
	for i := 0; i < len(ins); {
		j := i
		for j+1 < len(ins) && !leader[j+1] {
			j++
		}
		bb := &bblock{first: i, last: j, defs: map[variable]*value{}, incomplete: map[variable]*value{}}
		l.blocks = append(l.blocks, bb)
		byFirst[i] = bb
		i = j + 1
	}
	for k, bb := range l.blocks {
		if l.res != nil && !l.reachable(ins[bb.first].slot) {
			bb.dead = true
			continue
		}
		last := ins[bb.last]
		next := func() (*bblock, error) {
			if k+1 >= len(l.blocks) {
				return nil, l.errf(last, "control falls off the end of function %s", l.name)
			}
			return l.blocks[k+1], nil
		}
		switch {
		case !endsBlock(last):
			n, err := next()
			if err != nil {
				return err
			}
			bb.succs = []*bblock{n}
		case last.OpCode.JumpOp() == asm.Exit:
		case last.OpCode.JumpOp() == asm.Ja:
			bb.succs = []*bblock{byFirst[bySlot[jumpTarget(last)]]}
		default: // conditional: taken target first, then the fall-through
			n, err := next()
			if err != nil {
				return err
			}
			bb.succs = []*bblock{byFirst[bySlot[jumpTarget(last)]], n}
		}
	}
	// Edges into blocks the verifier never reached are dead too.
	for _, bb := range l.blocks {
		live := bb.succs[:0]
		for _, s := range bb.succs {
			if !s.dead {
				live = append(live, s)
			}
		}
		bb.succs = live
	}
	return nil
}

// order returns the blocks reachable from the entry in reverse postorder,
// and links predecessor edges among them.
func (l *funcLifter) order() []*bblock {
	seen := map[*bblock]bool{}
	var post []*bblock
	type frame struct {
		bb   *bblock
		next int
	}
	entry := l.blocks[0]
	seen[entry] = true
	stack := []frame{{bb: entry}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next < len(top.bb.succs) {
			s := top.bb.succs[top.next]
			top.next++
			if !seen[s] {
				seen[s] = true
				stack = append(stack, frame{bb: s})
			}
			continue
		}
		post = append(post, top.bb)
		stack = stack[:len(stack)-1]
	}
	rpo := make([]*bblock, len(post))
	for i, bb := range post {
		rpo[len(post)-1-i] = bb
	}
	// Predecessor edges in slot order of the predecessor, so that block
	// arguments come out in a deterministic order.
	for _, bb := range l.blocks {
		if !seen[bb] {
			continue
		}
		for i, s := range bb.succs {
			s.preds = append(s.preds, edge{from: bb, idx: i})
		}
	}
	return rpo
}

// validate rejects register numbers eBPF does not have and writes to the
// read-only frame pointer, so that the rest of the lifter can index
// register tables without checks.
func (l *funcLifter) validate() error {
	for _, in := range l.insns {
		cls := in.OpCode.Class()
		call := cls.IsJump() && in.OpCode.JumpOp() == asm.Call
		legacy := cls == asm.LdClass && (in.OpCode.Mode() == asm.AbsMode || in.OpCode.Mode() == asm.IndMode)
		srcIsReg := !call && (cls != asm.LdClass || in.OpCode.Mode() == asm.IndMode)
		if in.Dst > asm.R10 || (in.Src > asm.R10 && srcIsReg) {
			return l.errf(in, "register out of range (r0-r10)")
		}
		writesDst := cls.IsALU() || cls == asm.LdXClass || (cls == asm.LdClass && !legacy)
		fetch := cls == asm.StXClass && in.OpCode.Mode() == asm.AtomicMode && in.OpCode.AtomicOp() != asm.InvalidAtomic &&
			in.OpCode.AtomicOp()&asm.AtomicOp(0x01) != 0
		if (writesDst && in.Dst == asm.R10) || (fetch && in.Src == asm.R10) {
			return l.errf(in, "writes r10, the read-only frame pointer")
		}
	}
	return nil
}
