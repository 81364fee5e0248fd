package passes

import "github.com/nfpcc/nfpcc/ir"

// copyprop replaces copies by their source: block parameters every edge
// binds to the same value (or to the parameter itself, around a loop:
// Braun et al.'s trivial φ), algebraic identities (x+0, x-0, x|0, x^0,
// x&-1, x*1, x/1, shifts by 0, trunc(zext x)), and a compare-and-branch
// whose targets are the same block with the same arguments is left to cfg.
//
// Facts: the copy's facts described the same value at its definition; the
// source keeps its own (they hold wherever it is used). Remarks: each copy
// removed.
func copyprop(u *Unit) {
	f := u.f
	for changed := true; changed; {
		changed = false
		users := uses(f)
		preds := f.Preds()
		for bi, b := range f.Blocks {
			if bi == 0 {
				continue
			}
			for i := 0; i < len(b.Params); i++ {
				p := b.Params[i]
				src := trivialParam(b, i, preds[b])
				if src == nil {
					continue
				}
				u.remark(p, "parameter of b%d is always %s", b.ID, name(src))
				replaceAll(users.of(p), p, src)
				users.moved(p, src)
				f.RemoveParam(b, i)
				i--
				changed = true
			}
		}
		for _, b := range f.Blocks {
			for _, v := range b.Instrs {
				src := identity(v)
				if src == nil || len(users.of(v)) == 0 {
					continue
				}
				u.remark(v, "%s is a copy of %s", v.Op, name(src))
				replaceAll(users.of(v), v, src)
				users.moved(v, src)
				changed = true
			}
		}
	}
}

// trivialParam is the one value parameter i of b is bound to on every
// edge, ignoring the parameter itself; nil if there are several.
func trivialParam(b *ir.Block, i int, preds []*ir.Block) *ir.Value {
	p := b.Params[i]
	var src *ir.Value
	seen := map[*ir.Block]bool{}
	for _, pr := range preds {
		if seen[pr] {
			continue
		}
		seen[pr] = true
		for _, t := range pr.Terminator().Targets {
			if t.Block != b {
				continue
			}
			a := t.Args[i]
			if a == p || a == src {
				continue
			}
			if src != nil {
				return nil
			}
			src = a
		}
	}
	return src
}

// identity is the operand v copies, or nil.
func identity(v *ir.Value) *ir.Value {
	if len(v.Args) == 2 && pure(v) && v.Type == v.Args[0].Type {
		c, ok := isConst(v.Args[1])
		if !ok {
			return nil
		}
		all := mask(v.Type)
		switch v.Op {
		case ir.OpAdd32, ir.OpAdd64, ir.OpSub32, ir.OpSub64, ir.OpOr32, ir.OpOr64, ir.OpXor32, ir.OpXor64:
			if c == 0 {
				return v.Args[0]
			}
		case ir.OpLsh32, ir.OpRsh32, ir.OpArsh32:
			if c&31 == 0 {
				return v.Args[0]
			}
		case ir.OpLsh64, ir.OpRsh64, ir.OpArsh64:
			if c&63 == 0 {
				return v.Args[0]
			}
		case ir.OpAnd32, ir.OpAnd64:
			if c == all {
				return v.Args[0]
			}
		case ir.OpMul32, ir.OpMul64, ir.OpDiv32, ir.OpDiv64, ir.OpSdiv32, ir.OpSdiv64:
			if c == 1 {
				return v.Args[0]
			}
		}
		return nil
	}
	if v.Op == ir.OpTrunc && (v.Args[0].Op == ir.OpZext || v.Args[0].Op == ir.OpSext) {
		return v.Args[0].Args[0]
	}
	return nil
}
