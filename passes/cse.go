package passes

import (
	"slices"

	"github.com/nfpcc/nfpcc/ir"
)

// cse removes common subexpressions: a pure value equal to one computed in
// a dominating position (same op, type, operands and immediates; operands
// sorted for commutative ops) is replaced by it, walking the dominator tree
// with a scoped table (global value numbering by hashing, Alpern, Wegman &
// Zadeck / Click's "GVN by hashing" without the congruence fixpoint). Loads
// are merged too when the earlier load reaches the later one with no
// writer that may alias between: within a block and along edges into
// blocks with a single predecessor (extended basic blocks); calls kill
// every load, stores those of their region except through the same address
// at other bytes.
//
// Needs PropInlined (a callfn would be a writer it cannot see into).
// Facts: a value whose facts differ from the earlier one's is kept (the
// verifier knew something different there, which the backend may use);
// otherwise the survivor's facts are the same.
// Remarks: each value or load replaced, by what.
func cse(u *Unit) {
	f := u.f
	d := ir.Dominators(f)
	preds := f.Preds()
	users := uses(f)
	table := map[exprKey]*ir.Value{}
	var walk func(b *ir.Block, mem memAvail)
	walk = func(b *ir.Block, mem memAvail) {
		var added []exprKey
		for _, v := range b.Instrs {
			switch {
			case pure(v) && len(v.Args) <= 3:
				k := keyOf(v)
				if w, ok := table[k]; ok && !betterFacts(f, v, w) {
					if len(users.of(v)) > 0 {
						if v.Op != ir.OpConst {
							u.remark(v, "%s same as v%d", v.Op, w.ID)
						}
						replaceAll(users.of(v), v, w)
						users.moved(v, w)
					}
					continue
				}
				table[k] = v
				added = append(added, k)
			case v.Op.Info().Fmt == ir.FmtLoad && !v.Op.Info().Effect:
				k := memKey{v.Op, v.Args[0].ID, v.Imm, v.Region}
				if w, ok := mem[k]; ok && w.Op == v.Op && !betterFacts(f, v, w) {
					if len(users.of(v)) > 0 {
						u.remark(v, "redundant %s %s[v%d%+d]: v%d read it, no store between", v.Op, v.Region, v.Args[0].ID, v.Imm, w.ID)
						replaceAll(users.of(v), v, w)
						users.moved(v, w)
					}
					continue
				}
				mem[k] = v
			default:
				mem.kill(v)
			}
		}
		for _, c := range d.Children(b) {
			if singlePred(preds, c, b) {
				walk(c, mem.clone())
			} else {
				walk(c, memAvail{})
			}
		}
		for _, k := range added {
			delete(table, k)
		}
	}
	walk(f.Entry(), memAvail{})
}

// betterFacts reports whether v carries facts w lacks: the verifier saw v
// at a point where more was known (a branch refined an operand), and the
// backend reads those facts (packet offsets, upper halves), so v stays.
func betterFacts(f *ir.Func, v, w *ir.Value) bool {
	fv := f.Facts[v.ID]
	if fv.Empty() {
		return false
	}
	return fv.String() != f.Facts[w.ID].String()
}

type exprKey struct {
	op         ir.Op
	typ        ir.Type
	a0, a1, a2 int
	imm, imm2  int64
}

func keyOf(v *ir.Value) exprKey {
	ids := []int{-1, -1, -1}
	for i, a := range v.Args {
		ids[i] = a.ID
	}
	if v.Op.Info().Commutative && len(v.Args) == 2 {
		slices.Sort(ids[:2])
	}
	return exprKey{op: v.Op, typ: v.Type, a0: ids[0], a1: ids[1], a2: ids[2], imm: v.Imm, imm2: v.Imm2}
}
