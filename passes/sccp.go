package passes

import (
	"fmt"
	"math"

	"github.com/nfpcc/nfpcc/ir"
)

// sccp is sparse conditional constant propagation (Wegman & Zadeck,
// "Constant Propagation with Conditional Branches", TOPLAS 1991) seeded
// with the verifier's facts: a value whose facts pin it to one number is
// that constant, and a conditional branch is decided when its operands are
// constants or when their facts (ranges, tnums, packet bounds) leave one
// outcome. Constants fold through ir.Fold, the executor's own ALU
// semantics. Blocks no executable edge reaches are removed.
//
// Needs: PropInlined (facts of a callee's parameters hold in its body as
// inlined). Leaves behind: unused values (deadcode), trivial block
// parameters (copyprop). Remarks: each value replaced by a constant, each
// branch decided, with the proof.
func sccp(u *Unit) {
	f := u.f
	s := &sccpState{f: f, lat: make([]lattice, f.NumValues()), exec: map[*ir.Block]bool{}, edge: map[edgeKey]bool{}}
	s.solve()
	s.rewrite(u)
}

type latKind uint8

const (
	latTop latKind = iota // not known yet (optimistic)
	latConst
	latBottom
)

type lattice struct {
	kind latKind
	c    uint64
	// fromFacts marks constants the facts pinned (for the remark).
	fromFacts bool
}

type edgeKey struct {
	from *ir.Block
	k    int
}

type sccpState struct {
	f    *ir.Func
	lat  []lattice
	exec map[*ir.Block]bool
	edge map[edgeKey]bool
}

func (s *sccpState) set(v *ir.Value, l lattice) bool {
	old := s.lat[v.ID]
	if old.kind == latBottom || (old.kind == l.kind && old.c == l.c) || l.kind == latTop {
		return false
	}
	if old.kind == latConst && (l.kind != latConst || l.c != old.c) {
		l = lattice{kind: latBottom}
	}
	s.lat[v.ID] = l
	return true
}

func (s *sccpState) solve() {
	d := ir.Dominators(s.f)
	preds := s.f.Preds()
	s.exec[s.f.Entry()] = true
	for changed := true; changed; {
		changed = false
		for _, b := range d.RPO {
			if !s.exec[b] {
				continue
			}
			if b == s.f.Entry() {
				for _, p := range b.Params {
					changed = s.set(p, s.seed(p)) || changed
				}
			} else {
				for i, p := range b.Params {
					l := s.param(b, i, preds[b])
					if fc, ok := factConst(s.f, p); ok {
						l = lattice{kind: latConst, c: fc, fromFacts: true}
					}
					changed = s.set(p, l) || changed
				}
			}
			for _, v := range b.Instrs {
				if v.Op.IsTerminator() {
					for _, k := range s.succs(v) {
						if !s.edge[edgeKey{b, k}] {
							s.edge[edgeKey{b, k}] = true
							changed = true
						}
						if t := v.Targets[k].Block; !s.exec[t] {
							s.exec[t] = true
							changed = true
						}
					}
					continue
				}
				if v.Type == ir.Void {
					continue
				}
				changed = s.set(v, s.eval(v)) || changed
			}
		}
	}
}

// seed is the lattice value of an entry parameter or a value no rule
// folds: its facts' constant, or bottom.
func (s *sccpState) seed(v *ir.Value) lattice {
	if c, ok := factConst(s.f, v); ok {
		return lattice{kind: latConst, c: c, fromFacts: true}
	}
	return lattice{kind: latBottom}
}

// param meets parameter i of b over the executable incoming edges.
func (s *sccpState) param(b *ir.Block, i int, preds []*ir.Block) lattice {
	out := lattice{kind: latTop}
	seen := map[*ir.Block]bool{}
	for _, p := range preds {
		if seen[p] {
			continue
		}
		seen[p] = true
		t := p.Terminator()
		for k, tg := range t.Targets {
			if tg.Block != b || !s.edge[edgeKey{p, k}] {
				continue
			}
			a := s.lat[tg.Args[i].ID]
			switch {
			case a.kind == latTop:
			case a.kind == latBottom:
				return a
			case out.kind == latTop:
				out = lattice{kind: latConst, c: a.c}
			case out.c != a.c:
				return lattice{kind: latBottom}
			}
		}
	}
	return out
}

func (s *sccpState) eval(v *ir.Value) lattice {
	if c, ok := isConst(v); ok {
		return lattice{kind: latConst, c: c}
	}
	if c, ok := factConst(s.f, v); ok {
		return lattice{kind: latConst, c: c, fromFacts: true}
	}
	if !pure(v) || len(v.Args) == 0 || len(v.Args) > 2 {
		return lattice{kind: latBottom}
	}
	args := make([]uint64, len(v.Args))
	top := false
	for i, a := range v.Args {
		l := s.lat[a.ID]
		switch l.kind {
		case latBottom:
			return lattice{kind: latBottom}
		case latTop:
			top = true
		}
		args[i] = l.c
	}
	if top {
		return lattice{kind: latTop}
	}
	if r, ok := ir.Fold(v.Op, args...); ok {
		return lattice{kind: latConst, c: r}
	}
	return lattice{kind: latBottom}
}

// succs lists the targets of terminator v that may be taken.
func (s *sccpState) succs(v *ir.Value) []int {
	switch {
	case v.Op == ir.OpJump:
		return []int{0}
	case v.Op.IsBranch():
		if out, _, ok := s.decide(v); ok {
			if out {
				return []int{0}
			}
			return []int{1}
		}
		for _, a := range v.Args {
			if s.lat[a.ID].kind == latTop {
				return nil
			}
		}
		return []int{0, 1}
	}
	return nil
}

// decide settles a conditional branch: constants, then packet bounds, then
// ranges. why is the proof, for the remark.
func (s *sccpState) decide(v *ir.Value) (taken bool, why string, ok bool) {
	x, y := v.Args[0], v.Args[1]
	lx, ly := s.lat[x.ID], s.lat[y.ID]
	if lx.kind == latConst && ly.kind == latConst {
		return ir.FoldBranch(v.Op, lx.c, ly.c), fmt.Sprintf("branch folded: pc %d compares constants %s %s %s (%d, %d)", v.Pos, name(x), cmpText(v.Op), name(y), lx.c, ly.c), true
	}
	if out, why, ok := decidePkt(s.f, v.Op, x, y); ok {
		return out, fmt.Sprintf("bounds check removed: pc %d proved %s", v.Pos, why), true
	}
	if out, why, ok := decideRange(s.f, v.Op, x, y, s.lat); ok {
		return out, fmt.Sprintf("branch decided: pc %d proved %s", v.Pos, why), true
	}
	return false, "", false
}

var cmpTexts = map[ir.Op]string{
	ir.OpEq32: "==", ir.OpNe32: "!=", ir.OpGt32: ">", ir.OpGe32: ">=", ir.OpLt32: "<", ir.OpLe32: "<=",
	ir.OpSgt32: "s>", ir.OpSge32: "s>=", ir.OpSlt32: "s<", ir.OpSle32: "s<=", ir.OpSet32: "&",
}

func cmpText(op ir.Op) string {
	c := branchCompare(op)
	if wideCmp(op) {
		c--
	}
	return cmpTexts[c]
}

// pktLe is the largest N with x + N <= pkt_end known: x's own !le facts, or
// those of p when x = p + c (N - c).
func pktLe(f *ir.Func, x *ir.Value) (int64, bool) {
	best, ok := int64(0), false
	consider := func(v *ir.Value, minus int64) {
		fa := f.Facts[v.ID]
		if fa == nil {
			return
		}
		for _, b := range fa.Le {
			if b.Limit == "pkt_end" && b.Off-minus >= 0 && (!ok || b.Off-minus > best) {
				best, ok = b.Off-minus, true
			}
		}
	}
	consider(x, 0)
	if x.Op == ir.OpAdd64 {
		if c, isC := isConst(x.Args[1]); isC && int64(c) >= 0 && int64(c) < 1<<16 {
			consider(x.Args[0], int64(c))
		}
	}
	return best, ok
}

func isPktEnd(f *ir.Func, v *ir.Value) bool {
	fa := f.Facts[v.ID]
	return fa != nil && fa.Ptr != nil && fa.Ptr.Kind == ir.PtrPktEnd
}

// decidePkt settles a compare of a packet pointer with pkt_end from
// x + N <= pkt_end: x > end never holds, x <= end always, and with N >= 1
// x >= end never and x < end always (and their mirror images).
func decidePkt(f *ir.Func, op ir.Op, x, y *ir.Value) (bool, string, bool) {
	if !wideCmp(op) {
		return false, "", false
	}
	c := branchCompare(op) - 1 // the 32-bit row: OpGt32 …
	if isPktEnd(f, x) && !isPktEnd(f, y) {
		x, y = y, x
		c = map[ir.Op]ir.Op{ir.OpGt32: ir.OpLt32, ir.OpGe32: ir.OpLe32, ir.OpLt32: ir.OpGt32, ir.OpLe32: ir.OpGe32}[c]
	}
	if c == 0 || !isPktEnd(f, y) {
		return false, "", false
	}
	n, ok := pktLe(f, x)
	if !ok {
		return false, "", false
	}
	why := fmt.Sprintf("%s+%d <= pkt_end", name(x), n)
	switch {
	case c == ir.OpGt32:
		return false, why, true
	case c == ir.OpLe32:
		return true, why, true
	case c == ir.OpGe32 && n >= 1:
		return false, why, true
	case c == ir.OpLt32 && n >= 1:
		return true, why, true
	}
	return false, "", false
}

// interval of v as an operand of a compare of the given width and
// signedness (unsigned values in lo/hi as uint64, signed ones as int64
// bits).
func interval(f *ir.Func, v *ir.Value, wide, signed bool, lat []lattice) (lo, hi uint64, ok bool) {
	if l := lat[v.ID]; l.kind == latConst {
		c := l.c
		if signed && !wide {
			c = uint64(int64(int32(uint32(c))))
		}
		return c, c, true
	}
	fa := f.Facts[v.ID]
	if fa != nil && fa.Ptr != nil {
		return 0, 0, false
	}
	var ulo, uhi uint64
	uok := false
	if wide {
		if fa != nil && fa.U64 != nil {
			ulo, uhi, uok = fa.U64.Min, fa.U64.Max, true
		} else if fa != nil && fa.Tnum != nil {
			ulo, uhi, uok = fa.Tnum.Value, fa.Tnum.Value|fa.Tnum.Mask, true
		}
	} else {
		ulo, uhi, uok = 0, math.MaxUint32, true
		if fa != nil && fa.U32 != nil {
			ulo, uhi = fa.U32.Min, fa.U32.Max
		} else if fa != nil && fa.Tnum != nil && v.Type == ir.I32 {
			ulo, uhi = fa.Tnum.Value&math.MaxUint32, (fa.Tnum.Value|fa.Tnum.Mask)&math.MaxUint32
		}
	}
	if !signed {
		return ulo, uhi, uok
	}
	if wide && fa != nil && fa.S64 != nil {
		return uint64(fa.S64.Min), uint64(fa.S64.Max), true
	}
	if !wide && fa != nil && fa.S32 != nil {
		return uint64(fa.S32.Min), uint64(fa.S32.Max), true
	}
	limit := uint64(math.MaxInt64)
	if !wide {
		limit = math.MaxInt32
	}
	if uok && uhi <= limit {
		return ulo, uhi, true
	}
	return 0, 0, false
}

// decideRange settles a compare from the operands' intervals.
func decideRange(f *ir.Func, op ir.Op, x, y *ir.Value, lat []lattice) (bool, string, bool) {
	wide := wideCmp(op)
	c := branchCompare(op)
	if wide {
		c--
	}
	if c == ir.OpSet32 {
		return false, "", false
	}
	signed := c >= ir.OpSgt32 && c <= ir.OpSle32
	alo, ahi, ok1 := interval(f, x, wide, signed, lat)
	blo, bhi, ok2 := interval(f, y, wide, signed, lat)
	if !ok1 || !ok2 {
		return false, "", false
	}
	lt := func(a, b uint64) bool {
		if signed {
			return int64(a) < int64(b)
		}
		return a < b
	}
	le := func(a, b uint64) bool { return !lt(b, a) }
	var out, decided bool
	switch c {
	case ir.OpEq32, ir.OpNe32:
		switch {
		case alo == ahi && blo == bhi && alo == blo:
			out, decided = true, true
		case lt(ahi, blo) || lt(bhi, alo):
			out, decided = false, true
		}
		if c == ir.OpNe32 {
			out = !out
		}
	case ir.OpGt32, ir.OpSgt32:
		out, decided = lt(bhi, alo), lt(bhi, alo) || le(ahi, blo)
	case ir.OpGe32, ir.OpSge32:
		out, decided = le(bhi, alo), le(bhi, alo) || lt(ahi, blo)
	case ir.OpLt32, ir.OpSlt32:
		out, decided = lt(ahi, blo), lt(ahi, blo) || le(bhi, alo)
	case ir.OpLe32, ir.OpSle32:
		out, decided = le(ahi, blo), le(ahi, blo) || lt(bhi, alo)
	}
	if !decided {
		return false, "", false
	}
	show := func(lo, hi uint64) string {
		if signed {
			return fmt.Sprintf("[%d,%d]", int64(lo), int64(hi))
		}
		return fmt.Sprintf("[%d,%d]", lo, hi)
	}
	return out, fmt.Sprintf("%s %s %s is always %v: %s in %s, %s in %s", name(x), cmpText(op), name(y), out,
		name(x), show(alo, ahi), name(y), show(blo, bhi)), true
}

func (s *sccpState) rewrite(u *Unit) {
	f := s.f
	// Branches first, while every operand still has a lattice cell.
	for _, b := range f.Blocks {
		t := b.Terminator()
		if !s.exec[b] || t == nil || !t.Op.IsBranch() {
			continue
		}
		e0, e1 := s.edge[edgeKey{b, 0}], s.edge[edgeKey{b, 1}]
		if e0 == e1 {
			continue
		}
		_, why, _ := s.decide(t)
		k := 0
		if e1 {
			k = 1
		}
		u.remark(nil, "b%d: %s: always to b%d", b.ID, why, t.Targets[k].Block.ID)
		setJump(t, k)
	}
	users := uses(f)
	for _, b := range f.Blocks {
		if !s.exec[b] {
			continue
		}
		at := 0 // where constants for parameters go
		replace := func(v *ir.Value, l lattice, i int) int {
			if len(users.of(v)) == 0 {
				return i
			}
			c := newConst(f, v.Type, l.c, v.Pos)
			b.InsertBefore(i, c)
			replaceAll(users.of(v), v, c)
			how := "folded"
			if l.fromFacts {
				how = "the facts pin it"
			}
			u.remark(v, "constant %d (%s)", int64(l.c), how)
			return i + 1
		}
		for _, p := range b.Params {
			if l := s.lat[p.ID]; l.kind == latConst {
				at = replace(p, l, at)
			}
		}
		for i := at; i < len(b.Instrs); i++ {
			v := b.Instrs[i]
			if v.Op == ir.OpConst || v.Type == ir.Void {
				continue
			}
			if l := s.lat[v.ID]; l.kind == latConst {
				i = replace(v, l, i)
			}
		}
	}
	f.RemoveUnreachable()
}
