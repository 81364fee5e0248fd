package passes

import "github.com/nfpcc/nfpcc/ir"

// licm hoists loop-invariant pure values out of bounded loops (eBPF's
// verifier-bounded loops): a value whose operands are all defined outside
// the loop, in a block that runs on every iteration (it dominates every
// latch), moves to the end of the loop's preheader — the header's only
// predecessor outside the loop, when that block jumps straight to it. Pure
// ops are total (division by zero is defined), so hoisting cannot trap.
// Constants are left alone (the backend folds them into instructions);
// a hoisted value's constant operand from inside the loop is copied along.
// Functions with irreducible control flow are left alone.
//
// Facts: a hoisted value loses its facts: the verifier may have known
// them only inside the loop. Remarks: each value hoisted.
func licm(u *Unit) {
	f := u.f
	for changed := true; changed; {
		changed = false
		d := ir.Dominators(f)
		loops, irreducible := ir.Loops(f, d)
		if len(irreducible) > 0 {
			return
		}
		preds := f.Preds()
		for li := len(loops) - 1; li >= 0; li-- {
			l := loops[li]
			in := map[*ir.Block]bool{}
			for _, b := range l.Blocks {
				in[b] = true
			}
			var pre *ir.Block
			for _, p := range preds[l.Header] {
				if in[p] {
					continue
				}
				if pre != nil && pre != p {
					pre = nil
					break
				}
				pre = p
			}
			if pre == nil || pre.Terminator().Op != ir.OpJump {
				continue
			}
			inside := func(v *ir.Value) bool { return v.Block != nil && in[v.Block] }
			for _, b := range l.Blocks {
				every := true
				for _, lt := range l.Latches {
					if !d.Dominates(b, lt) {
						every = false
					}
				}
				if !every {
					continue
				}
				for i := 0; i < len(b.Instrs); i++ {
					v := b.Instrs[i]
					if !pure(v) || v.Op == ir.OpConst || len(v.Args) == 0 {
						continue
					}
					invariant := true
					for _, a := range v.Args {
						if inside(a) && a.Op != ir.OpConst {
							invariant = false
						}
					}
					if !invariant {
						continue
					}
					b.Instrs = append(b.Instrs[:i], b.Instrs[i+1:]...)
					i--
					for k, a := range v.Args {
						if inside(a) { // a constant: a copy goes along
							c := newConst(f, a.Type, uint64(a.Imm), a.Pos)
							pre.InsertBefore(len(pre.Instrs)-1, c)
							v.Args[k] = c
						}
					}
					pre.InsertBefore(len(pre.Instrs)-1, v)
					delete(f.Facts, v.ID)
					u.remark(v, "loop-invariant %s hoisted from b%d (loop at b%d) to b%d", v.Op, b.ID, l.Header.ID, pre.ID)
					changed = true
				}
			}
		}
	}
}
