package passes

import "github.com/nfpcc/nfpcc/ir"

// cfg simplifies the control-flow graph:
//   - a conditional branch whose targets are the same block with the same
//     arguments becomes a jump;
//   - an empty block (no parameters, only `jump c(args)`) is bypassed: its
//     predecessors jump to c directly (args are defined above it, so they
//     dominate every predecessor's end), unless that gives a conditional
//     branch two edges to one block or arguments to a conditional edge (the
//     backend gives each such edge a trampoline: the block is shared);
//   - a block reached by one jump from a block with no other successor is
//     merged into it (its parameters become the jump's arguments).
//
// Invalidates PropDom. Remarks: each branch, bypass and merge.
func cfg(u *Unit) {
	f := u.f
	for changed := true; changed; {
		changed = false
		for _, b := range f.Blocks {
			t := b.Terminator()
			if t.Op.IsBranch() && t.Targets[0].Block == t.Targets[1].Block && sameArgs(t.Targets[0].Args, t.Targets[1].Args) {
				u.remark(nil, "b%d: branch to b%d either way: a jump", b.ID, t.Targets[0].Block.ID)
				setJump(t, 0)
				changed = true
			}
		}
		for bi, b := range f.Blocks {
			if bi == 0 || len(b.Params) > 0 || len(b.Instrs) != 1 || b.Instrs[0].Op != ir.OpJump {
				continue
			}
			dest := b.Instrs[0].Targets[0]
			if dest.Block == b {
				continue
			}
			for _, p := range f.Blocks {
				pt := p.Terminator()
				for k := range pt.Targets {
					if pt.Targets[k].Block != b {
						continue
					}
					if pt.Op.IsBranch() && pt.Targets[1-k].Block == dest.Block {
						continue
					}
					if pt.Op.IsBranch() && len(dest.Args) > 0 {
						// A conditional edge with arguments costs a
						// trampoline of its own: the empty block shares one.
						continue
					}
					u.remark(nil, "b%d: empty b%d bypassed: b%d goes to b%d", p.ID, b.ID, p.ID, dest.Block.ID)
					pt.Targets[k] = ir.Target{Block: dest.Block, Args: append([]*ir.Value(nil), dest.Args...)}
					changed = true
				}
			}
		}
		if f.RemoveUnreachable() > 0 {
			changed = true
		}
		if mergeChains(u) {
			changed = true
		}
	}
}

// mergeChains merges each block reached by the one jump of a block into
// that block, following chains (b → c → d) in one sweep: the
// predecessor lists and users are kept up to date as blocks merge instead
// of being rebuilt for each merge.
func mergeChains(u *Unit) bool {
	f := u.f
	preds := f.Preds()
	var users useList
	gone := map[*ir.Block]bool{}
	merged := false
	for _, b := range append([]*ir.Block(nil), f.Blocks...) {
		for !gone[b] {
			t := b.Terminator()
			if t.Op != ir.OpJump {
				break
			}
			c := t.Targets[0].Block
			if c == b || c == f.Entry() || len(preds[c]) != 1 {
				break
			}
			if users == nil {
				users = uses(f)
			}
			u.remark(nil, "b%d: b%d merged into it", b.ID, c.ID)
			for i, p := range c.Params {
				a := t.Targets[0].Args[i]
				replaceAll(users.of(p), p, a)
				users.moved(p, a)
				delete(f.Facts, p.ID)
			}
			b.Instrs = b.Instrs[:len(b.Instrs)-1]
			for _, v := range c.Instrs {
				b.Append(v)
			}
			c.Params, c.Instrs = nil, nil
			// c's successors now have b where they had c.
			for _, s := range b.Succs() {
				for k, q := range preds[s] {
					if q == c {
						preds[s][k] = b
					}
				}
			}
			removeBlock(f, c)
			gone[c] = true
			merged = true
		}
	}
	return merged
}

func sameArgs(a, b []*ir.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func removeBlock(f *ir.Func, b *ir.Block) {
	for i, x := range f.Blocks {
		if x == b {
			f.Blocks = append(f.Blocks[:i], f.Blocks[i+1:]...)
			return
		}
	}
}
