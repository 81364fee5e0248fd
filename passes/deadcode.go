package passes

import "github.com/nfpcc/nfpcc/ir"

// deadcode removes what nothing needs: a mark-and-sweep from the roots
// (effects and terminators) through operands and, for block parameters,
// the matching argument of every edge, so that values feeding only each
// other around a loop go too. Unused loads go as well (the verifier proved
// they cannot fault). Unreachable blocks are removed first. Establishes
// PropNoDead. The entry's parameters (the function's arguments) stay.
//
// Remarks: how many values went (constants not counted: they cost
// nothing), and one per removed block parameter.
func deadcode(u *Unit) {
	f := u.f
	if n := f.RemoveUnreachable(); n > 0 {
		u.remark(nil, "%d unreachable blocks removed", n)
	}
	live := map[*ir.Value]bool{}
	var work []*ir.Value
	mark := func(v *ir.Value) {
		if !live[v] {
			live[v] = true
			work = append(work, v)
		}
	}
	// Edges into each block, to mark the argument of a live parameter.
	type edge struct {
		t *ir.Target
	}
	into := map[*ir.Block][]edge{}
	for _, b := range f.Blocks {
		for _, v := range b.Instrs {
			for k := range v.Targets {
				into[v.Targets[k].Block] = append(into[v.Targets[k].Block], edge{&v.Targets[k]})
			}
			if !removable(v) {
				mark(v)
			}
		}
	}
	for _, p := range f.Entry().Params {
		mark(p)
	}
	paramIndex := map[*ir.Value]int{}
	for _, b := range f.Blocks {
		for i, p := range b.Params {
			paramIndex[p] = i
		}
	}
	for len(work) > 0 {
		v := work[len(work)-1]
		work = work[:len(work)-1]
		if v.Op == ir.OpParam {
			if v.Block == f.Entry() {
				continue
			}
			i := paramIndex[v]
			for _, e := range into[v.Block] {
				mark(e.t.Args[i])
			}
			continue
		}
		for _, a := range v.Args {
			mark(a)
		}
	}
	removed := 0
	for bi, b := range f.Blocks {
		if bi > 0 {
			for i := len(b.Params) - 1; i >= 0; i-- {
				if p := b.Params[i]; !live[p] {
					u.remark(p, "unused parameter of b%d removed", b.ID)
					f.RemoveParam(b, i)
				}
			}
		}
		keep := b.Instrs[:0]
		for _, v := range b.Instrs {
			if live[v] {
				keep = append(keep, v)
				continue
			}
			if v.Op != ir.OpConst {
				removed++
			}
			delete(f.Facts, v.ID)
			v.Block = nil
		}
		b.Instrs = keep
	}
	if removed > 0 {
		u.remark(nil, "%d unused values removed", removed)
	}
}
