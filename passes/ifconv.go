package passes

import "github.com/nfpcc/nfpcc/ir"

// ifconv turns a branch that only chooses between the constants 0 and 1
// for one parameter of the block both sides reach into a compare as a
// value: `jgt x, y, J(1), E` with E = `jump J(0)` becomes `c = gt x, y;
// jump J(zext c)` (the inverse compare when the branch gives 0 when
// taken). Only unsigned order compares are converted: the backend reads
// them out of the carry without a branch; a taken branch costs 3–4 cycles
// and its trampoline more. The choosing block E may be a side (an empty
// block whose only predecessor is the branch) or the join itself.
//
// Invalidates PropDom and PropNoDead (E becomes unreachable and is removed).
// Remarks: each converted branch.
func ifconv(u *Unit) {
	f := u.f
	changed := false
	for _, b := range f.Blocks {
		if convertBranch(u, b) {
			changed = true
		}
	}
	if changed {
		f.RemoveUnreachable()
	}
}

// setcc maps an unsigned order branch to its value-producing compare.
var setcc = map[ir.Op]ir.Op{
	ir.OpJgt32: ir.OpGt32, ir.OpJgt64: ir.OpGt64, ir.OpJge32: ir.OpGe32, ir.OpJge64: ir.OpGe64,
	ir.OpJlt32: ir.OpLt32, ir.OpJlt64: ir.OpLt64, ir.OpJle32: ir.OpLe32, ir.OpJle64: ir.OpLe64,
}

// inverseCmp is the compare that holds exactly when op does not.
var inverseCmp = map[ir.Op]ir.Op{
	ir.OpGt32: ir.OpLe32, ir.OpGt64: ir.OpLe64, ir.OpGe32: ir.OpLt32, ir.OpGe64: ir.OpLt64,
	ir.OpLt32: ir.OpGe32, ir.OpLt64: ir.OpGe64, ir.OpLe32: ir.OpGt32, ir.OpLe64: ir.OpGt64,
}

func convertBranch(u *Unit, b *ir.Block) bool {
	f := u.f
	t := b.Terminator()
	op, ok := setcc[t.Op]
	if !ok {
		return false
	}
	preds := f.Preds()
	// Each side's edge into the join: the branch's own, or through an
	// empty block only the branch reaches.
	var join *ir.Block
	var args [2][]*ir.Value
	for k, tg := range t.Targets {
		e := tg
		if s := tg.Block; len(s.Params) == 0 && len(s.Instrs) == 1 && s.Instrs[0].Op == ir.OpJump && len(preds[s]) == 1 && s != b {
			e = s.Instrs[0].Targets[0]
		}
		if join != nil && e.Block != join || e.Block == b {
			return false
		}
		join, args[k] = e.Block, e.Args
	}
	if join == t.Targets[0].Block && join == t.Targets[1].Block {
		return false // both edges direct: nothing to save (cfg's case)
	}
	// Exactly one argument differs, as the constants 1 and 0.
	at, onTaken := -1, uint64(0)
	for i := range args[0] {
		if args[0][i] == args[1][i] {
			continue
		}
		c0, ok0 := isConst(args[0][i])
		c1, ok1 := isConst(args[1][i])
		if at >= 0 || !ok0 || !ok1 || c0+c1 != 1 || c0 > 1 {
			return false
		}
		at, onTaken = i, c0
	}
	if at < 0 {
		return false
	}
	pos := t.Pos
	n := len(b.Instrs) - 1
	c := b.InsertBefore(n, f.NewValue(op, ir.I32, t.Args[0], t.Args[1]))
	c.Pos = pos
	if onTaken == 0 {
		c.Op = inverseCmp[op] // 1 when the branch is not taken
	}
	v := c
	if join.Params[at].Type == ir.I64 {
		z := b.InsertBefore(len(b.Instrs)-1, f.NewValue(ir.OpZext, ir.I64, v))
		z.Pos = pos
		v = z
	}
	out := append([]*ir.Value(nil), args[0]...)
	out[at] = v
	u.remark(t, "b%d: %s choosing %d/%d for b%d's parameter %d: a compare as a value", b.ID, t.Op, onTaken, 1-onTaken, join.ID, at)
	t.Op, t.Args, t.Targets = ir.OpJump, nil, []ir.Target{{Block: join, Args: out}}
	return true
}
