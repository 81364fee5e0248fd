package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// Parallel copies: an edge binds its arguments to the target block's
// parameters all at once, a call's arguments and result move between the
// ABI's registers and the values'. Locations are registers and, for
// spilled block parameters and values, spill-area words.

// pmove is one move of a parallel copy: register dst (or, when toSlot,
// the spill-area word at byte dst) gets a half of v, or register from
// when v is nil.
type pmove struct {
	dst    int
	toSlot bool
	v      *ir.Value
	hi     bool
	from   int
}

// ploc is a location a parallel copy reads or writes: a register number
// or a spill-area word (its byte offset from the stack base).
type ploc struct {
	slot bool
	n    int64
}

// srcLoc says which location a move reads, if any (constants and stack
// addresses are built, not read).
func (g *gen) srcLoc(m pmove) (ploc, bool) {
	if m.v == nil {
		return ploc{n: int64(m.from)}, true
	}
	if _, ok := g.constant(m.v, m.hi); ok {
		return ploc{}, false
	}
	in := g.info[g.rootOf(m.v).ID]
	switch {
	case in.kind != kReg:
		return ploc{}, false
	case in.spilled && m.hi:
		return ploc{slot: true, n: in.slot + 4}, true
	case in.spilled:
		return ploc{slot: true, n: in.slot}, true
	case m.hi:
		return ploc{n: int64(in.hi)}, true
	}
	return ploc{n: int64(in.lo)}, true
}

// Registers a parallel copy into spilled block parameters uses: there
// (spilling allocations only) the reload registers are free between
// instructions, and lmWord's window moves clobber B21.
var (
	slotCycleTemp = reloadRegs[4] // a value saved to break a cycle
	slotTransit   = reloadRegs[5] // a word on its way from one slot to another
)

// parallel performs the moves as one parallel copy: moves between
// locations are ordered so no source is overwritten before it is read,
// cycles go through a temporary (B21, or a reload register when spill
// slots take part); constants and addresses come last.
func (g *gen) parallel(moves []pmove) {
	type lm struct{ dst, src ploc }
	var locs []lm
	var rest []pmove
	slots := false // a spill word takes part: cycles go through a reload register
	for _, m := range moves {
		d := ploc{slot: m.toSlot, n: int64(m.dst)}
		r, ok := g.srcLoc(m)
		slots = slots || m.toSlot || ok && r.slot
		if ok {
			if r != d {
				locs = append(locs, lm{d, r})
			}
			continue
		}
		rest = append(rest, m)
	}
	temp := ploc{n: regScratchB}
	if slots {
		temp = ploc{n: int64(slotCycleTemp)}
	}
	for len(locs) > 0 {
		progress := false
		for i := 0; i < len(locs); i++ {
			blocked := false
			for j, o := range locs {
				if j != i && o.src == locs[i].dst {
					blocked = true
					break
				}
			}
			if !blocked {
				g.move(locs[i].dst, locs[i].src)
				locs = append(locs[:i], locs[i+1:]...)
				progress = true
				i--
			}
		}
		if !progress {
			// A cycle: save one destination's value in the temporary and
			// read it from there.
			d := locs[0].dst
			g.move(temp, d)
			for k := range locs {
				if locs[k].src == d {
					locs[k].src = temp
				}
			}
		}
	}
	for _, m := range rest {
		c, ok := g.constant(m.v, m.hi)
		switch {
		case m.toSlot:
			g.a.emit(isa.Mov(g.lmWord(m.v, int64(m.dst), false), g.src(m.v, m.hi, right, limU)))
		case ok:
			g.a.emit(isa.LoadImm32(isa.GPRBoth(m.dst), c)...)
		default:
			g.a.emit(isa.Mov(isa.GPRBoth(m.dst), g.src(m.v, m.hi, right, limU)))
		}
	}
}

// move copies one location to another; slot to slot goes through a
// register.
func (g *gen) move(dst, src ploc) {
	var s isa.Operand
	switch {
	case src.slot && dst.slot:
		g.a.emit(isa.Mov(isa.GPRBoth(slotTransit), g.lmWord(nil, src.n, false)))
		s = isa.GPRB(slotTransit)
	case src.slot:
		s = g.lmWord(nil, src.n, false)
	default:
		s = isa.GPRB(int(src.n))
	}
	if dst.slot {
		g.a.emit(isa.Mov(g.lmWord(nil, dst.n, false), s))
		return
	}
	g.a.emit(isa.Mov(isa.GPRBoth(int(dst.n)), s))
}

// edge binds t's arguments to its block's parameters and branches there
// unless it is the next block.
func (g *gen) edge(from *ir.Value, t ir.Target, next *ir.Block) {
	var moves []pmove
	for i, p := range t.Block.Params {
		pi := g.info[p.ID]
		a := t.Args[i]
		if pi.kind != kReg {
			continue // the context parameter
		}
		if pi.spilled {
			moves = append(moves, pmove{dst: int(pi.slot), toSlot: true, v: a})
			if !pi.hiZero || g.wideDiv(p) {
				moves = append(moves, pmove{dst: int(pi.slot) + 4, toSlot: true, v: a, hi: true})
			}
			continue
		}
		moves = append(moves, pmove{dst: pi.lo, v: a})
		if pi.hi >= 0 {
			moves = append(moves, pmove{dst: pi.hi, v: a, hi: true})
		}
	}
	g.parallel(moves)
	if t.Block != next {
		g.a.branch(isa.BR, g.blocks[t.Block], 0)
	}
}
