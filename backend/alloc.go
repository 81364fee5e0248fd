package backend

import (
	"fmt"
	"sort"

	"github.com/nfpcc/nfpcc/ir"
)

// vkind says where a value lives. Only kReg values take registers: the
// others are known at compile time (constants, stack and global-data
// addresses), are the context (never materialised, as in the Linux JIT),
// or share the registers of another value (zext/trunc are free on a
// machine whose registers are 32 bits wide).
type vkind uint8

const (
	kReg      vkind = iota
	kConst          // c
	kStack          // LM address fp + off
	kMapRef         // map index c
	kMapValue       // global data: map c, byte off
	kCtx            // the program context
	kAlias          // the registers of root
	kFolded         // every use folds it away (length compares, grouped packet loads): no code
)

type vinfo struct {
	kind   vkind
	c      uint64
	off    int64
	root   *ir.Value
	lo, hi int  // registers (kReg roots); hi = -1 when hiZero
	hiZero bool // the upper 32 bits are known zero (i32, or facts)
	// spilled values live in local memory at byte slot of the spill area
	// (at the bottom of the frame, inside *l$index0's 64-byte reach when
	// few): every use reloads them, every definition stores them.
	spilled bool
	slot    int64
}

// Register numbers. Every value lives in the same register number of both
// banks (written with gpr_wrboth), so any two values can be the A and B
// sources of one instruction, as in the Linux JIT.
const (
	regScratchA = 20 // imma: a left operand or address built on the fly
	regScratchB = 21 // imm: a right operand, a parallel-move temporary
	regStack    = 22 // A22: the stack base; B22: the packet length
)

// Registers a firmware helper leaves alone are those of eBPF r6–r9 (GPR
// 12–19): the firmware returns in R0 and may use R1–R5's registers.
var (
	calleeSaved = []int{12, 13, 14, 15, 16, 17, 18, 19}
	anyOrder    = []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 23, 24, 25, 26, 27, 28, 29, 30, 31, 0, 1, 12, 13, 14, 15, 16, 17, 18, 19}
)

// hiZeroFacts reports whether the verifier proved v's upper half zero.
func hiZeroFacts(f *ir.Func, v *ir.Value) bool {
	if v.Type == ir.I32 {
		return true
	}
	fa := f.Facts[v.ID]
	if fa == nil {
		return false
	}
	if fa.U64 != nil && fa.U64.Max <= 0xffffffff {
		return true
	}
	if fa.Tnum != nil && (fa.Tnum.Value|fa.Tnum.Mask)>>32 == 0 {
		return true
	}
	if p := fa.Ptr; p != nil {
		switch p.Kind {
		case ir.PtrPkt, ir.PtrPktEnd, ir.PtrPktMeta, ir.PtrStack:
			// 32-bit CTM and LM addresses.
			return true
		}
	}
	return false
}

// factConst returns the value the verifier proved v holds, if one.
func factConst(f *ir.Func, v *ir.Value) (uint64, bool) {
	fa := f.Facts[v.ID]
	switch {
	case fa == nil || v.Type != ir.I64:
		return 0, false
	case fa.U64 != nil && fa.U64.Min == fa.U64.Max:
		return fa.U64.Min, true
	case fa.Tnum != nil && fa.Tnum.Mask == 0:
		return fa.Tnum.Value, true
	}
	return 0, false
}

// isCtxFact reports whether the verifier proved v the context pointer
// itself (a block parameter every predecessor passes the context to, a
// reload of a spilled context).
func isCtxFact(f *ir.Func, v *ir.Value) bool {
	fa := f.Facts[v.ID]
	return fa != nil && fa.Ptr != nil && fa.Ptr.Kind == ir.PtrCtx && fa.Ptr.MinOff == 0 && fa.Ptr.MaxOff == 0
}

// classify decides every value's kind.
func (g *gen) classify() {
	f := g.f
	g.info = make([]vinfo, f.NumValues())
	for bi, b := range f.Blocks {
		for pi, p := range b.Params {
			in := &g.info[p.ID]
			in.hiZero = hiZeroFacts(f, p)
			if bi == 0 && pi == 0 || isCtxFact(f, p) {
				in.kind = kCtx
			}
		}
		for _, v := range b.Instrs {
			in := &g.info[v.ID]
			in.hiZero = hiZeroFacts(f, v)
			switch v.Op {
			case ir.OpConst, ir.OpUndef:
				in.kind, in.c = kConst, uint64(v.Imm)
				if v.Type == ir.I32 {
					in.c = uint64(uint32(v.Imm))
				}
				in.hiZero = in.c>>32 == 0
			case ir.OpFP:
				in.kind, in.off, in.hiZero = kStack, 0, true
			case ir.OpMapRef:
				in.kind, in.c = kMapRef, uint64(v.Imm)
			case ir.OpMapValue:
				in.kind, in.c, in.off = kMapValue, uint64(v.Imm), v.Imm2
			case ir.OpAdd64, ir.OpSub64:
				a, c := g.info[v.Args[0].ID], g.info[v.Args[1].ID]
				if k, ok := factConst(f, v.Args[1]); ok && c.kind != kConst {
					// fp + an index the verifier proved constant (stack.data:
					// (r1 & 1) << 3 of a known r1) is a constant address.
					c = vinfo{kind: kConst, c: k}
				}
				if a.kind == kStack && c.kind == kConst {
					d := int64(c.c)
					if v.Op == ir.OpSub64 {
						d = -d
					}
					in.kind, in.off, in.hiZero = kStack, a.off+d, true
				}
			case ir.OpLoad64:
				// A reload of the spilled context is the context: its
				// register value is never read (as in the Linux JIT).
				if v.Region == ir.RegionStack && isCtxFact(f, v) {
					in.kind = kCtx
				}
			case ir.OpZext, ir.OpTrunc:
				a := g.info[v.Args[0].ID]
				switch a.kind {
				case kConst:
					in.kind, in.c = kConst, a.c&0xffffffff
					in.hiZero = true
				case kReg, kAlias:
					in.kind, in.root = kAlias, g.rootOf(v.Args[0])
					in.hiZero = true
				}
			}
		}
	}
}

func (g *gen) rootOf(v *ir.Value) *ir.Value {
	for g.info[v.ID].kind == kAlias {
		v = g.info[v.ID].root
	}
	return v
}

type interval struct {
	v          *ir.Value
	start, end int
	crossCall  bool
}

// allocate runs liveness over the blocks and a linear scan in layout order
// (Poletto & Sarkar, "Linear Scan Register Allocation", TOPLAS 1999), each
// value's live range taken as one interval from its first to its last live
// point. A value live across a helper call gets a register the firmware
// preserves.
func (g *gen) allocate() error {
	if err := g.allocatePass(false); err == nil {
		return nil
	}
	// Out of registers: keep some for reloading spilled values and spill.
	for i := range g.info {
		g.info[i].spilled = false
	}
	g.spillBytes, g.slots, g.spilledValues = 0, nil, 0
	return g.allocatePass(true)
}

// reloadRegs hold spilled operands and results while one instruction is
// lowered (two operands and a result, two halves each). They are caller
// saved: nothing lives in them across a call.
var reloadRegs = []int{26, 27, 28, 29, 30, 31}

func (g *gen) allocatePass(spill bool) error {
	f := g.f
	pos := map[*ir.Value]int{}
	bstart := map[*ir.Block]int{}
	bend := map[*ir.Block]int{}
	var calls []int
	n := 0
	for _, b := range f.Blocks {
		bstart[b] = n
		for _, p := range b.Params {
			pos[p] = n
		}
		n++
		for _, v := range b.Instrs {
			pos[v] = n
			if g.firmwareCall(v) {
				calls = append(calls, n)
			}
			n++
		}
		bend[b] = n - 1
	}
	isReg := func(v *ir.Value) (*ir.Value, bool) {
		r := g.rootOf(v)
		return r, g.info[r.ID].kind == kReg && r.Type != ir.Void
	}
	// Per-block use-before-def and def sets.
	type sets struct{ use, def, in, out map[*ir.Value]bool }
	bs := map[*ir.Block]*sets{}
	for _, b := range f.Blocks {
		s := &sets{use: map[*ir.Value]bool{}, def: map[*ir.Value]bool{}, in: map[*ir.Value]bool{}, out: map[*ir.Value]bool{}}
		for _, p := range b.Params {
			s.def[p] = true
		}
		useOf := func(a *ir.Value) {
			if r, ok := isReg(a); ok && !s.def[r] {
				s.use[r] = true
			}
		}
		for _, v := range b.Instrs {
			for _, a := range v.Args {
				useOf(a)
			}
			for _, t := range v.Targets {
				for _, a := range t.Args {
					useOf(a)
				}
			}
			if _, ok := isReg(v); ok && g.info[v.ID].kind == kReg {
				s.def[v] = true
			}
		}
		bs[b] = s
	}
	for changed := true; changed; {
		changed = false
		for i := len(f.Blocks) - 1; i >= 0; i-- {
			b := f.Blocks[i]
			s := bs[b]
			for _, succ := range b.Succs() {
				for v := range bs[succ].in {
					if !s.out[v] {
						s.out[v] = true
						changed = true
					}
				}
			}
			for v := range s.use {
				if !s.in[v] {
					s.in[v] = true
					changed = true
				}
			}
			for v := range s.out {
				if !s.def[v] && !s.in[v] {
					s.in[v] = true
					changed = true
				}
			}
		}
	}
	ivs := map[*ir.Value]*interval{}
	touch := func(v *ir.Value, p int) {
		iv := ivs[v]
		if iv == nil {
			ivs[v] = &interval{v: v, start: p, end: p}
			return
		}
		iv.start = min(iv.start, p)
		iv.end = max(iv.end, p)
	}
	for _, b := range f.Blocks {
		s := bs[b]
		for v := range s.in {
			touch(v, bstart[b])
		}
		for v := range s.out {
			touch(v, bend[b])
		}
		for _, p := range b.Params {
			if _, ok := isReg(p); ok {
				touch(p, pos[p])
			}
		}
		for _, v := range b.Instrs {
			if g.info[v.ID].kind == kReg && v.Type != ir.Void {
				touch(v, pos[v])
			}
			for _, a := range v.Args {
				if r, ok := isReg(a); ok {
					touch(r, pos[v])
				}
			}
			for _, t := range v.Targets {
				for _, a := range t.Args {
					if r, ok := isReg(a); ok {
						touch(r, pos[v])
					}
				}
			}
		}
	}
	list := make([]*interval, 0, len(ivs))
	for _, iv := range ivs {
		for _, c := range calls {
			if iv.start < c && c < iv.end {
				iv.crossCall = true
			}
		}
		list = append(list, iv)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].start != list[j].start {
			return list[i].start < list[j].start
		}
		return list[i].v.ID < list[j].v.ID
	})
	busy := map[int]*interval{}
	usable := func(pool []int) []int {
		var out []int
		for _, r := range pool {
			// A limit keeps the first of the registers calls preserve too,
			// so that values living across calls can still be placed.
			if g.opts.Regs > 0 && !slicesContains(anyOrder[:min(g.opts.Regs, len(anyOrder))], r) && !slicesContains(calleeSaved[:min(g.opts.Regs/2, len(calleeSaved))], r) {
				continue
			}
			if spill && slicesContains(reloadRegs, r) {
				continue
			}
			out = append(out, r)
		}
		return out
	}
	anyPool, savedPool := usable(anyOrder), usable(calleeSaved)
	// Hints: a branch argument prefers the registers of the parameter it is
	// bound to, so that the edge needs no move. (The reverse hint, a
	// parameter taking its entry argument's registers, put the moves on
	// loops' back edges and made alaw2ulaw slower.)
	partners := map[*ir.Value][]*ir.Value{}
	for _, b := range f.Blocks {
		for _, v := range b.Instrs {
			for _, t := range v.Targets {
				for i, a := range t.Args {
					p := t.Block.Params[i]
					r := g.rootOf(a)
					partners[r] = append(partners[r], p)
				}
			}
		}
	}
	placed := map[*ir.Value]bool{}
	for _, iv := range list {
		for r, o := range busy {
			if o.end < iv.start {
				delete(busy, r)
			}
		}
		in := &g.info[iv.v.ID]
		need := 2
		if in.hiZero && !g.wideDiv(iv.v) {
			need = 1
		}
		pool := anyPool
		if iv.crossCall {
			pool = savedPool
		} else if iv.v.Op == ir.OpCall {
			// The firmware returns in R0: keep it there when free.
			pool = append([]int{0, 1}, pool...)
		}
		var hint []int
		for _, o := range partners[iv.v] {
			if oi := g.info[o.ID]; placed[o] && !oi.spilled {
				if slicesContains(pool, oi.lo) {
					hint = append(hint, oi.lo)
				}
				if need == 2 && oi.hi >= 0 && slicesContains(pool, oi.hi) {
					hint = append(hint, oi.hi)
				}
			}
		}
		order := pool
		if len(hint) > 0 {
			order = append(hint, pool...)
		}
		var got []int
		for {
			got = got[:0]
			for _, r := range order {
				if busy[r] == nil && !slicesContains(got, r) {
					got = append(got, r)
					if len(got) == need {
						break
					}
				}
			}
			if len(got) == need || !spill {
				break
			}
			// Spill the value (not a block parameter: edges copy into
			// registers) whose range ends last, this one included.
			victim := iv
			if iv.v.Op == ir.OpParam {
				victim = nil
			}
			for _, o := range busy {
				if o.v.Op != ir.OpParam && (victim == nil || o.end > victim.end || o.end == victim.end && o.v.ID > victim.v.ID) {
					victim = o
				}
			}
			if victim == nil {
				break
			}
			g.spillValue(victim)
			for r, o := range busy {
				if o == victim {
					delete(busy, r)
				}
			}
			if victim == iv {
				break
			}
		}
		if g.info[iv.v.ID].spilled {
			continue
		}
		if len(got) < need {
			what := "registers"
			if iv.crossCall {
				what = "registers a helper call preserves (GPR 12–19)"
			}
			return fmt.Errorf("v%d (eBPF slot %d): out of %s", iv.v.ID, iv.v.Pos, what)
		}
		placed[iv.v] = true
		in.lo, in.hi = got[0], -1
		busy[got[0]] = iv
		if need == 2 {
			in.hi = got[1]
			busy[got[1]] = iv
		}
		if len(busy) > g.maxRegs {
			g.maxRegs = len(busy)
		}
	}
	return nil
}

func slicesContains(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// spillValue gives iv's value an 8-byte slot of the spill area, sharing a
// slot with values whose ranges do not overlap its own.
func (g *gen) spillValue(iv *interval) {
	in := &g.info[iv.v.ID]
	k := 0
	for ; k < len(g.slots); k++ {
		free := true
		for _, o := range g.slots[k] {
			if o.start <= iv.end && iv.start <= o.end {
				free = false
				break
			}
		}
		if free {
			break
		}
	}
	if k == len(g.slots) {
		g.slots = append(g.slots, nil)
		g.spillBytes += 8
	}
	g.slots[k] = append(g.slots[k], iv)
	g.spilledValues++
	in.spilled, in.slot, in.lo, in.hi = true, int64(8*k), -1, -1
}
