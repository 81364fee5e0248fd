package lift

import (
	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/ir"
)

// lift builds the ir.Func of one function.
func (l *funcLifter) lift() (*ir.Func, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	if err := l.buildCFG(); err != nil {
		return nil, err
	}
	l.f = ir.NewFunc(l.name)
	l.phiOf = map[*ir.Value]*phi{}
	l.replace = map[*ir.Value]*ir.Value{}
	l.stack = l.analyseStack()

	rpo := l.order()
	// The entry must have no predecessors; if the first instruction is a
	// jump target, a block of its own holds the arguments and jumps there.
	var pre *bblock
	if len(l.blocks[0].preds) > 0 {
		pre = &bblock{first: 0, last: -1, defs: map[variable]*value{}, incomplete: map[variable]*value{}, succs: []*bblock{l.blocks[0]}}
		l.blocks[0].preds = append([]edge{{from: pre, idx: 0}}, l.blocks[0].preds...)
		rpo = append([]*bblock{pre}, rpo...)
	}
	// IR blocks in slot order, so the text reads like the eBPF.
	live := map[*bblock]bool{}
	for _, bb := range rpo {
		live[bb] = true
	}
	if pre != nil {
		pre.b = l.f.NewBlock()
	}
	for _, bb := range l.blocks {
		if live[bb] {
			bb.b = l.f.NewBlock()
		}
	}
	entry := rpo[0]
	entry.sealed = true
	nargs := l.arity[l.insns[0].slot]
	for r := 1; r <= nargs; r++ {
		p := entry.b.AddParam(ir.I64)
		l.write(variable(r), entry, p)
		if l.main {
			l.ctx = p
		}
	}
	fp := l.f.NewValue(ir.OpFP, ir.I64)
	entry.b.Append(fp)
	l.write(reg(asm.R10), entry, fp)
	if l.res != nil && len(l.insns) > 0 {
		pc := l.insns[0].slot
		for r := 1; r <= nargs; r++ {
			l.setFacts(entry.b.Params[r-1], l.res.Reg(pc, r))
		}
		l.setFacts(fp, l.res.Reg(pc, 10))
	}

	for _, bb := range rpo {
		l.cur = bb
		if bb != entry && !bb.sealed && l.allPredsFilled(bb) {
			l.seal(bb)
		}
		if bb == pre {
			bb.b.Append(l.jump(bb.succs[0]))
		} else if err := l.fill(bb); err != nil {
			return nil, err
		}
		bb.filled = true
		for _, s := range bb.succs {
			if !s.sealed && l.allPredsFilled(s) {
				l.seal(s)
			}
		}
	}
	for _, bb := range rpo {
		if !bb.sealed {
			l.seal(bb) // only blocks whose predecessors include themselves remain; all are filled now
		}
	}
	l.finish()
	if l.res != nil {
		for _, p := range l.phis {
			if !p.dead && p.x < numStackBase && p.bb.first <= p.bb.last {
				l.setFacts(p.v, l.res.Reg(l.insns[p.bb.first].slot, int(p.x)))
			}
		}
	}
	l.sweep()
	l.f.StackSize = l.stackSize()
	l.f.Renumber()
	return l.f, nil
}

func (l *funcLifter) allPredsFilled(bb *bblock) bool {
	for _, e := range bb.preds {
		if !e.from.filled {
			return false
		}
	}
	return true
}

// jump is an unconditional branch to bb (arguments are added by finish).
func (l *funcLifter) jump(bb *bblock) *ir.Value {
	v := l.f.NewValue(ir.OpJump, ir.Void)
	v.Targets = []ir.Target{{Block: bb.b}}
	v.Pos = l.pos
	return v
}

// fill lifts the instructions of one block and its terminator.
func (l *funcLifter) fill(bb *bblock) error {
	for i := bb.first; i <= bb.last; i++ {
		in := l.insns[i]
		l.pos = in.slot
		if i == bb.last && endsBlock(in) {
			return l.terminator(bb, i)
		}
		if err := l.instr(i); err != nil {
			return err
		}
	}
	// Fell through to the next block (or, if the verifier showed that
	// block dead, to nowhere).
	if len(bb.succs) == 1 {
		bb.b.Append(l.jump(bb.succs[0]))
	} else {
		l.emit(ir.OpUnreachable, ir.Void)
	}
	return nil
}

// stackSize is the verifier's stack depth of the function, or, without
// facts, the deepest byte the stack analysis saw accessed or passed out
// (all 512 when a stack pointer went where it cannot follow).
func (l *funcLifter) stackSize() int {
	if l.res != nil {
		if d, ok := l.res.StackDepth(l.index); ok {
			return min(max(d, 0), ir.FrameSize)
		}
	}
	if l.stack.escapeAll {
		return ir.FrameSize
	}
	return int(min(-l.stack.lowest, ir.FrameSize))
}
