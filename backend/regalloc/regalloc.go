// Package regalloc assigns machine registers to the values of a function
// through an interface (Func) that says only what allocation needs: the
// blocks in layout order with their successors, the values each block
// parameter and instruction defines and uses, and which instructions are
// calls that clobber the registers a callee does not preserve. It knows
// nothing of the IR or the NFP, so it is tested with mock functions.
//
// The method is linear scan (Poletto & Sarkar, "Linear Scan Register
// Allocation", TOPLAS 1999) over live intervals from a block-level
// liveness analysis, each value's range taken as one interval from its
// first to its last live point: a value may need one or two registers (the
// halves of a 64-bit value on a 32-bit machine), values live across a call
// take preserved registers, a value prefers the registers of the values it
// is copied to along edges (hints) and its own preferred registers, and
// when registers run out the interval that ends last is spilled to a slot
// shared with values whose ranges do not overlap.
//
// AllocBanks (banks.go) is the second allocator, for machine code after
// selection: it numbers webs, each in one register bank, through the Webs
// interface (tied webs, fixed webs, interference, copy hints).
package regalloc

import (
	"fmt"
	"math/bits"
	"slices"
	"sort"
)

// Value names a value of the client's function (dense, non-negative: its
// number orders equal starts, so allocation is deterministic).
type Value int

// Func is the client's function.
type Func interface {
	NumBlocks() int
	// Succs are block b's successors (block indices).
	Succs(b int) []int
	// Params are the values block b defines on entry.
	Params(b int) []Value
	NumInstrs(b int) int
	// Def is the value instruction i of block b defines, if any.
	Def(b, i int) (Value, bool)
	// Uses appends the values instruction i of block b reads (operands and
	// branch arguments) to dst.
	Uses(b, i int, dst []Value) []Value
	// IsCall reports an instruction after which only preserved registers
	// keep their values.
	IsCall(b, i int) bool
}

// Config says which registers exist and what each value needs.
type Config struct {
	// Pool lists the registers any value may take, in the order tried;
	// Preserved those a call leaves alone (for values live across one).
	Pool, Preserved []int
	// Need is how many registers v takes (1 or 2; default 1).
	Need func(v Value) int
	// Prefer lists registers v tries before the pool (e.g. the one a call
	// returns in); nil: none.
	Prefer func(v Value) []int
	// Partners are the values v is copied to along edges: v prefers their
	// registers where they are already placed (no move on the edge).
	Partners func(v Value) []Value
	// Spill allows spilling when registers run out; CanSpill (default:
	// all) says which values may go to memory.
	Spill    bool
	CanSpill func(v Value) bool
}

// Result is an allocation.
type Result struct {
	// Regs are each allocated value's registers (Need of them).
	Regs map[Value][]int
	// Slot is the spill slot of each spilled value; Slots how many slots
	// there are (values whose ranges do not overlap share one).
	Slot  map[Value]int
	Slots int
	// MaxLive is the most registers in use at once.
	MaxLive int
}

// Error is a value that found no register (without spilling, or one that
// may not be spilled).
type Error struct {
	Value Value
	// CrossCall says it lives across a call (needs a preserved register).
	CrossCall bool
}

func (e *Error) Error() string {
	what := "registers"
	if e.CrossCall {
		what = "registers a call preserves"
	}
	return fmt.Sprintf("value %d: out of %s", e.Value, what)
}

// Interval is a value's live range in program points (see Intervals):
// blocks in layout order, each one point for its parameters, one per
// instruction and one after the last for what lives on.
type Interval struct {
	Value      Value
	Start, End int
	CrossCall  bool
}

// Allocate assigns registers (and spill slots) to every value f defines or
// uses.
func Allocate(f Func, cfg Config) (*Result, error) {
	ivs := Intervals(f)
	res := &Result{Regs: map[Value][]int{}, Slot: map[Value]int{}}
	var slots [][]*Interval
	busy := map[int]*Interval{}
	need := func(v Value) int {
		if cfg.Need == nil {
			return 1
		}
		return cfg.Need(v)
	}
	canSpill := func(v Value) bool { return cfg.CanSpill == nil || cfg.CanSpill(v) }
	spill := func(iv *Interval) {
		k := 0
		for ; k < len(slots); k++ {
			free := true
			for _, o := range slots[k] {
				if o.Start <= iv.End && iv.Start <= o.End {
					free = false
					break
				}
			}
			if free {
				break
			}
		}
		if k == len(slots) {
			slots = append(slots, nil)
		}
		slots[k] = append(slots[k], iv)
		res.Slot[iv.Value] = k
	}
	for _, iv := range ivs {
		for r, o := range busy {
			if o.End < iv.Start {
				delete(busy, r)
			}
		}
		n := need(iv.Value)
		pool := cfg.Pool
		if iv.CrossCall {
			pool = cfg.Preserved
		} else if cfg.Prefer != nil {
			if p := cfg.Prefer(iv.Value); len(p) > 0 {
				pool = append(append([]int(nil), p...), pool...)
			}
		}
		order := pool
		if hint := hints(cfg, res, iv.Value, pool, n); len(hint) > 0 {
			order = append(hint, pool...)
		}
		var got []int
		for {
			got = got[:0]
			for _, r := range order {
				if busy[r] == nil && !slices.Contains(got, r) {
					got = append(got, r)
					if len(got) == n {
						break
					}
				}
			}
			if len(got) == n || !cfg.Spill {
				break
			}
			// Spill the interval that ends last (this one included).
			var victim *Interval
			if canSpill(iv.Value) {
				victim = iv
			}
			for _, o := range busy {
				if canSpill(o.Value) && (victim == nil || o.End > victim.End || o.End == victim.End && o.Value > victim.Value) {
					victim = o
				}
			}
			if victim == nil {
				break
			}
			spill(victim)
			delete(res.Regs, victim.Value)
			for r, o := range busy {
				if o == victim {
					delete(busy, r)
				}
			}
			if victim == iv {
				break
			}
		}
		if _, spilled := res.Slot[iv.Value]; spilled {
			continue
		}
		if len(got) < n {
			return nil, &Error{Value: iv.Value, CrossCall: iv.CrossCall}
		}
		res.Regs[iv.Value] = append([]int(nil), got...)
		for _, r := range got {
			busy[r] = iv
		}
		res.MaxLive = max(res.MaxLive, len(busy))
	}
	res.Slots = len(slots)
	return res, nil
}

// hints are the registers of v's placed partners that the pool allows:
// the first of each, and the second when v needs two.
func hints(cfg Config, res *Result, v Value, pool []int, n int) []int {
	if cfg.Partners == nil {
		return nil
	}
	var out []int
	for _, o := range cfg.Partners(v) {
		regs, ok := res.Regs[o]
		if !ok {
			continue
		}
		if slices.Contains(pool, regs[0]) {
			out = append(out, regs[0])
		}
		if n == 2 && len(regs) > 1 && slices.Contains(pool, regs[1]) {
			out = append(out, regs[1])
		}
	}
	return out
}

// Intervals computes every value's live interval, sorted by start (then
// value): liveness per block (uses before definitions, live-in and
// live-out to a fixed point, as bit sets over the dense value numbers),
// then each value's first and last live point.
func Intervals(f Func) []*Interval {
	// Program points are even numbers: a block's entry, then one per
	// instruction; a value live out of a block is live at the odd point
	// after its last instruction, so that one live out of a block ending
	// in a call counts as living across it.
	nb := f.NumBlocks()
	start, end := make([]int, nb), make([]int, nb)
	var calls []int
	n, maxV := 0, Value(-1)
	var buf []Value
	for b := 0; b < nb; b++ {
		start[b] = 2 * n
		n++
		for _, p := range f.Params(b) {
			maxV = max(maxV, p)
		}
		for i := 0; i < f.NumInstrs(b); i++ {
			if f.IsCall(b, i) {
				calls = append(calls, 2*n)
			}
			if d, ok := f.Def(b, i); ok {
				maxV = max(maxV, d)
			}
			buf = f.Uses(b, i, buf[:0])
			for _, u := range buf {
				maxV = max(maxV, u)
			}
			n++
		}
		end[b] = 2*(n-1) + 1
	}
	words := int(maxV)/64 + 1
	type sets struct{ use, def, in, out bitset }
	bs := make([]sets, nb)
	for b := 0; b < nb; b++ {
		s := sets{use: newBitset(words), def: newBitset(words), in: newBitset(words), out: newBitset(words)}
		for _, p := range f.Params(b) {
			s.def.set(p)
		}
		for i := 0; i < f.NumInstrs(b); i++ {
			buf = f.Uses(b, i, buf[:0])
			for _, u := range buf {
				if !s.def.has(u) {
					s.use.set(u)
				}
			}
			if d, ok := f.Def(b, i); ok {
				s.def.set(d)
			}
		}
		bs[b] = s
	}
	for changed := true; changed; {
		changed = false
		for b := nb - 1; b >= 0; b-- {
			s := &bs[b]
			for _, succ := range f.Succs(b) {
				if s.out.union(bs[succ].in) {
					changed = true
				}
			}
			// in = use ∪ (out \ def)
			for w := range s.in {
				x := s.in[w] | s.use[w] | s.out[w]&^s.def[w]
				if x != s.in[w] {
					s.in[w] = x
					changed = true
				}
			}
		}
	}
	ivs := make([]*Interval, maxV+1)
	touch := func(v Value, p int) {
		iv := ivs[v]
		if iv == nil {
			ivs[v] = &Interval{Value: v, Start: p, End: p}
			return
		}
		iv.Start = min(iv.Start, p)
		iv.End = max(iv.End, p)
	}
	for b := 0; b < nb; b++ {
		bs[b].in.each(func(v Value) { touch(v, start[b]) })
		bs[b].out.each(func(v Value) { touch(v, end[b]) })
		for _, p := range f.Params(b) {
			touch(p, start[b])
		}
		for i := 0; i < f.NumInstrs(b); i++ {
			pos := start[b] + 2*(1+i)
			if d, ok := f.Def(b, i); ok {
				touch(d, pos)
			}
			buf = f.Uses(b, i, buf[:0])
			for _, u := range buf {
				touch(u, pos)
			}
		}
	}
	list := make([]*Interval, 0, len(ivs))
	for _, iv := range ivs {
		if iv == nil {
			continue
		}
		for _, c := range calls {
			if iv.Start < c && c < iv.End {
				iv.CrossCall = true
			}
		}
		list = append(list, iv)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Start != list[j].Start {
			return list[i].Start < list[j].Start
		}
		return list[i].Value < list[j].Value
	})
	return list
}

// bitset is a set of values.
type bitset []uint64

func newBitset(words int) bitset { return make(bitset, words) }

func (s bitset) set(v Value)      { s[v/64] |= 1 << (v % 64) }
func (s bitset) has(v Value) bool { return s[v/64]&(1<<(v%64)) != 0 }

// union adds o to s and reports whether s grew.
func (s bitset) union(o bitset) bool {
	grew := false
	for w := range s {
		if x := s[w] | o[w]; x != s[w] {
			s[w], grew = x, true
		}
	}
	return grew
}

// each calls f for every value in s, in increasing order.
func (s bitset) each(f func(Value)) {
	for w, x := range s {
		for x != 0 {
			b := bits.TrailingZeros64(x)
			f(Value(w*64 + b))
			x &= x - 1
		}
	}
}
