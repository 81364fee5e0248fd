package passes

import "github.com/nfpcc/nfpcc/ir"

// retdup returns at the edges into a block that only returns its
// parameter: a `jump r(a)` becomes `ret a`, and a conditional edge gets a
// block of its own that returns a (the backend would give that edge a
// trampoline anyway: a move and a branch to the shared block, which then
// moves into R0 and branches to the exit). Each exit path saves a taken
// branch; a conditional edge's block is a word longer than the trampoline.
//
// Invalidates PropDom and PropNoDead (the shared block may become
// unreachable). Remarks: each edge.
func retdup(u *Unit) {
	f := u.f
	isRet := func(b *ir.Block) bool {
		return len(b.Params) == 1 && len(b.Instrs) == 1 && b.Instrs[0].Op == ir.OpRet && b.Instrs[0].Args[0] == b.Params[0]
	}
	changed := false
	for _, b := range append([]*ir.Block(nil), f.Blocks...) {
		t := b.Terminator()
		for k := range t.Targets {
			r := t.Targets[k].Block
			if r == b || !isRet(r) {
				continue
			}
			a := t.Targets[k].Args[0]
			pos := r.Instrs[0].Pos
			changed = true
			if t.Op == ir.OpJump {
				u.remark(t, "b%d: jump to b%d (ret of its parameter): ret v%d", b.ID, r.ID, a.ID)
				t.Op, t.Args, t.Targets = ir.OpRet, []*ir.Value{a}, nil
				t.Pos = pos
				break
			}
			nb := f.NewBlock()
			ret := f.NewValue(ir.OpRet, ir.Void, a)
			ret.Pos = pos
			nb.Append(ret)
			u.remark(t, "b%d: edge to b%d (ret of its parameter): b%d returns v%d", b.ID, r.ID, nb.ID, a.ID)
			t.Targets[k] = ir.Target{Block: nb}
		}
	}
	if changed {
		f.RemoveUnreachable()
	}
}
