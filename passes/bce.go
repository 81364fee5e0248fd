package passes

import "github.com/nfpcc/nfpcc/ir"

// bce merges packet bounds checks: when a check `p + K1 > pkt_end` is
// followed, along a straight chain (each block entered only from the one
// before), by checks `p + K2 > pkt_end` on the same base p that fail to
// the same block with the same arguments, and every other exit of the
// chain goes there too and nothing between has a side effect, the first
// check tests the largest K instead and the later ones become jumps. For
// every packet the outcome is the same: a packet shorter than p + K then
// fails — at the first check now, and before at a later check or at one of
// the exits, all the same failure; the loads between (pure: the verifier
// proved them inside p + K1) run only for longer packets.
//
// Runs after sccp (checks the facts decide are gone). Facts: the values
// the later checks guarded keep theirs (the first check now proves more).
// Remarks: each check strengthened, each check removed.
func bce(u *Unit) {
	f := u.f
	preds := f.Preds()
	for _, b := range f.Blocks {
		t := b.Terminator()
		base, k1, fail, ok := pktCheck(f, t)
		if !ok {
			continue
		}
		var chain []*ir.Value // later checks of the same base failing to the same target
		bestK := k1
		cur := t.Targets[1-fail].Block
		for steps := 0; steps < 64; steps++ {
			if cur == b || len(preds[cur]) != 1 || len(cur.Params) > 0 || hasEffect(cur) {
				break
			}
			tc := cur.Terminator()
			if base2, k2, fail2, ok := pktCheck(f, tc); ok && base2 == base && sameTarget(tc.Targets[fail2], t.Targets[fail]) {
				chain = append(chain, tc)
				bestK = max(bestK, k2)
				cur = tc.Targets[1-fail2].Block
				continue
			}
			if tc.Op == ir.OpJump && len(tc.Targets[0].Args) == 0 {
				cur = tc.Targets[0].Block
				continue
			}
			if tc.Op.IsBranch() {
				if sameTarget(tc.Targets[0], t.Targets[fail]) {
					cur = tc.Targets[1].Block
					continue
				}
				if sameTarget(tc.Targets[1], t.Targets[fail]) {
					cur = tc.Targets[0].Block
					continue
				}
			}
			break
		}
		if len(chain) == 0 {
			continue
		}
		if bestK > k1 {
			c := newConst(f, ir.I64, uint64(bestK), t.Pos)
			x := f.NewValue(ir.OpAdd64, ir.I64, base, c)
			x.Pos = t.Pos
			if fa := f.Facts[base.ID]; fa != nil && fa.Ptr != nil && fa.Ptr.Kind == ir.PtrPkt {
				// The strengthened address is a packet pointer too (32
				// bits for the backend: no upper half to compare).
				p := *fa.Ptr
				p.MinOff, p.MaxOff = p.MinOff+bestK, p.MaxOff+bestK
				f.Facts[x.ID] = &ir.Facts{Ptr: &p}
			}
			b.InsertBefore(len(b.Instrs)-1, c)
			b.InsertBefore(len(b.Instrs)-1, x)
			for i, a := range t.Args {
				if !isPktEnd(f, a) {
					t.Args[i] = x
				}
			}
			u.remark(nil, "b%d: bounds check at pc %d strengthened to v%d+%d <= pkt_end: the later checks of the chain fail the same way", b.ID, t.Pos, base.ID, bestK)
		}
		for _, tc := range chain {
			_, _, fl, _ := pktCheck(f, tc)
			u.remark(nil, "b%d: bounds check removed: pc %d implied by the check at pc %d (v%d+%d <= pkt_end)", tc.Block.ID, tc.Pos, t.Pos, base.ID, bestK)
			setJump(tc, 1-fl)
		}
		preds = f.Preds()
	}
}

// pktCheck recognises a packet bounds check: a 64-bit unsigned compare of
// base + K (base itself for K = 0; base a packet pointer) with pkt_end.
// fail is the index of the target taken when base + K > pkt_end.
func pktCheck(f *ir.Func, t *ir.Value) (base *ir.Value, k int64, fail int, ok bool) {
	if t == nil || !t.Op.IsBranch() {
		return nil, 0, 0, false
	}
	x, y := t.Args[0], t.Args[1]
	op := t.Op
	if isPktEnd(f, x) && !isPktEnd(f, y) {
		x, y = y, x
		op = map[ir.Op]ir.Op{ir.OpJlt64: ir.OpJgt64, ir.OpJge64: ir.OpJle64}[op]
	}
	if !isPktEnd(f, y) {
		return nil, 0, 0, false
	}
	switch op {
	case ir.OpJgt64: // x > end: taken fails
		fail = 0
	case ir.OpJle64: // x <= end: taken continues
		fail = 1
	default:
		return nil, 0, 0, false
	}
	base, k = x, 0
	if x.Op == ir.OpAdd64 {
		if c, isC := isConst(x.Args[1]); isC && int64(c) >= 0 && int64(c) < 1<<16 {
			base, k = x.Args[0], int64(c)
		}
	}
	fa := f.Facts[base.ID]
	if fa == nil || fa.Ptr == nil || fa.Ptr.Kind != ir.PtrPkt {
		return nil, 0, 0, false
	}
	return base, k, fail, true
}

// sameTarget: the same block with the same arguments (equal constants
// count as the same).
func sameTarget(a, b ir.Target) bool {
	if a.Block != b.Block || len(a.Args) != len(b.Args) {
		return false
	}
	for i, x := range a.Args {
		y := b.Args[i]
		cx, okx := isConst(x)
		cy, oky := isConst(y)
		if x != y && !(okx && oky && cx == cy && x.Type == y.Type) {
			return false
		}
	}
	return true
}

// hasEffect reports whether b holds an instruction other than its
// terminator with a side effect or a memory write.
func hasEffect(b *ir.Block) bool {
	for _, v := range b.Instrs[:len(b.Instrs)-1] {
		info := v.Op.Info()
		if info.Effect || info.WritesMem {
			return true
		}
	}
	return false
}
