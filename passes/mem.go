package passes

import "github.com/nfpcc/nfpcc/ir"

// memKey names what a load reads: the same op through the same address
// value at the same offset in the same region reads the same bytes while
// no writer intervenes.
type memKey struct {
	op     ir.Op
	addr   int
	off    int64
	region ir.Region
}

// memAvail is what loads (cse) or stores (stackfwd) have made available in
// a stretch of code with no unknown writer: each key's value.
type memAvail map[memKey]*ir.Value

func (m memAvail) clone() memAvail {
	c := make(memAvail, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// kill forgets what the writer w may change: a call or an access through
// an unknown region everything; a store or atomic the keys of its region
// unless they are through the same address at bytes that do not overlap.
func (m memAvail) kill(w *ir.Value) {
	info := w.Op.Info()
	if !info.WritesMem {
		return
	}
	if w.Op.IsCall() || !w.Op.IsMemory() || w.Region == ir.RegionAny {
		clear(m)
		return
	}
	for k, v := range m {
		if k.region != w.Region && k.region != ir.RegionAny {
			continue
		}
		if k.addr == w.Args[0].ID && disjoint(k.off, accessSize(v, k.op), w.Imm, info.Size) {
			continue
		}
		delete(m, k)
	}
}

func accessSize(v *ir.Value, op ir.Op) int {
	if s := op.Info().Size; s > 0 {
		return s
	}
	return 8
}

func disjoint(a int64, an int, b int64, bn int) bool {
	return a+int64(an) <= b || b+int64(bn) <= a
}

// singlePred reports whether b's only incoming edge comes from p: what
// was available at p's end is available at b's start.
func singlePred(preds map[*ir.Block][]*ir.Block, b, p *ir.Block) bool {
	ps := preds[b]
	return len(ps) == 1 && ps[0] == p
}
