package backend

import (
	"errors"
	"fmt"

	"github.com/nfpcc/nfpcc/backend/regalloc"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
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
	kFused          // a shift its one OR/AND user applies itself (alu_shf, fuse.go): no code
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
	// reloaded: a spilled value lives in a reload register while one
	// instruction is lowered (spilled is false then); decisions that hold
	// beyond that instruction must see it as spilled.
	reloaded bool
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

// hiZero is hiZeroFacts unless the JIT's baseline is asked for: then only
// 32-bit types are.
func (g *gen) hiZero(v *ir.Value) bool {
	if g.opts.Baseline {
		return v.Type == ir.I32
	}
	return hiZeroFacts(g.f, v)
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
			in.hiZero = g.hiZero(p)
			if bi == 0 && pi == 0 || isCtxFact(f, p) {
				in.kind = kCtx
			}
		}
		for _, v := range b.Instrs {
			in := &g.info[v.ID]
			in.hiZero = g.hiZero(v)
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
					if g.opts.Baseline && v.Op == ir.OpZext {
						// The JIT writes a 32-bit result's upper
						// register: zext is an immed (and a move
						// unless it shares its operand's register).
						break
					}
					in.kind, in.root = kAlias, g.rootOf(v.Args[0])
					in.hiZero = true
				}
			}
		}
	}
}

// foldUnusedParams gives the block parameters nothing reads no location:
// edges then move nothing into them. A parameter is read when an
// instruction uses it or an edge passes it to a parameter that is read
// (a fixed point: chains of parameters carrying a value nobody reads are
// unread). -O2's deadcode removes them; at -O0 they stay, and one may
// join the context on one path with a packet pointer on another (r1
// around a call that ignores it), which no register can receive.
func (g *gen) foldUnusedParams() {
	read := make([]bool, g.f.NumValues())
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			for _, a := range v.Args {
				read[a.ID] = true
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, b := range g.f.Blocks {
			for _, v := range b.Instrs {
				for _, t := range v.Targets {
					for i, a := range t.Args {
						if read[t.Block.Params[i].ID] && !read[a.ID] {
							read[a.ID], changed = true, true
						}
					}
				}
			}
		}
	}
	for _, b := range g.f.Blocks {
		for _, p := range b.Params {
			if in := &g.info[p.ID]; in.kind == kReg && !read[p.ID] {
				in.kind = kFolded
			}
		}
	}
}

// materializeConstants keeps in a register the constants that take more
// than one immed word to build and are read at least twice (count-min's
// hash multipliers, read by every round): built once where the IR defines
// them instead of at every use. A cheaper constant stays an immediate.
func (g *gen) materializeConstants() {
	// Only ALU operations and compares read them: elsewhere (helper
	// arguments, division, memory offsets, atomics) lowering may need the
	// value at compile time.
	uses := make([]int, g.f.NumValues())
	other := make([]bool, g.f.NumValues())
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			if v.Type != ir.Void && g.info[v.ID].kind != kReg {
				continue // folded at compile time (fp + c, …): reads no register
			}
			_, alu := aluOps[v.Op]
			plain := alu || cmpOps[v.Op].cond != 0 || v.Op == ir.OpMul32 || v.Op == ir.OpMul64
			for _, a := range v.Args {
				uses[a.ID]++
				if !plain {
					other[a.ID] = true
				}
			}
			for _, t := range v.Targets {
				for _, a := range t.Args {
					other[a.ID] = true
				}
			}
		}
	}
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			in := &g.info[v.ID]
			if v.Op != ir.OpConst || in.kind != kConst || uses[v.ID] < 2 || other[v.ID] {
				continue
			}
			words := len(isa.LoadImm32(isa.GPRA(0), uint32(in.c)))
			if !in.hiZero {
				words += len(isa.LoadImm32(isa.GPRA(0), uint32(in.c>>32)))
			}
			if words > 1 {
				in.kind = kReg
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

// allocate gives the values that need registers their registers through
// backend/regalloc (linear scan over live intervals): a value live across
// a firmware helper call gets one the firmware preserves; without enough
// registers, a second pass keeps the reload registers free and spills.
func (g *gen) allocate() error {
	if err := g.allocatePass(false); err == nil {
		return nil
	}
	// Out of registers: keep some for reloading spilled values and spill.
	for i := range g.info {
		g.info[i].spilled = false
	}
	g.spillBytes, g.spilledValues = 0, 0
	return g.allocatePass(true)
}

// reloadRegs hold spilled operands and results while one instruction is
// lowered (two operands and a result, two halves each). They are caller
// saved: nothing lives in them across a call.
var reloadRegs = []int{26, 27, 28, 29, 30, 31}

func (g *gen) allocatePass(spill bool) error {
	f := g.f
	fn := newAllocFunc(g)
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
	// Hints: a branch argument prefers the registers of the parameter it is
	// bound to, so that the edge needs no move. (The reverse hint, a
	// parameter taking its entry argument's registers, put the moves on
	// loops' back edges and made alaw2ulaw slower.)
	partners := map[regalloc.Value][]regalloc.Value{}
	for _, b := range f.Blocks {
		for _, v := range b.Instrs {
			for _, t := range v.Targets {
				for i, a := range t.Args {
					r := regalloc.Value(g.rootOf(a).ID)
					partners[r] = append(partners[r], regalloc.Value(t.Block.Params[i].ID))
				}
			}
		}
	}
	cfg := regalloc.Config{
		Pool: usable(anyOrder), Preserved: usable(calleeSaved),
		Need: func(v regalloc.Value) int {
			if in := g.info[v]; in.hiZero && !g.wideDiv(fn.vals[v]) {
				return 1
			}
			return 2
		},
		Prefer: func(v regalloc.Value) []int {
			if fn.vals[v].Op == ir.OpCall {
				return []int{0, 1} // the firmware returns in R0: keep it there when free
			}
			return nil
		},
		Partners: func(v regalloc.Value) []regalloc.Value { return partners[v] },
		// Block parameters spill too: edges then copy into their slots
		// (parallel).
		Spill: spill,
	}
	res, err := regalloc.Allocate(fn, cfg)
	if err != nil {
		var e *regalloc.Error
		if errors.As(err, &e) {
			v := fn.vals[e.Value]
			what := "registers"
			if e.CrossCall {
				what = "registers a helper call preserves (GPR 12–19)"
			}
			return fmt.Errorf("v%d (eBPF slot %d): out of %s", v.ID, v.Pos, what)
		}
		return err
	}
	for v, regs := range res.Regs {
		in := &g.info[v]
		in.lo, in.hi = regs[0], -1
		if len(regs) > 1 {
			in.hi = regs[1]
		}
	}
	for v, k := range res.Slot {
		in := &g.info[v]
		in.spilled, in.slot, in.lo, in.hi = true, int64(8*k), -1, -1
	}
	g.spillBytes = int64(8 * res.Slots)
	g.spilledValues = len(res.Slot)
	g.maxRegs = res.MaxLive
	return nil
}

// allocFunc is the function as backend/regalloc sees it: the values that
// need registers (kReg roots; aliases read their root), numbered by IR
// value ID.
type allocFunc struct {
	g      *gen
	vals   []*ir.Value // by ID
	blocks map[*ir.Block]int
}

func newAllocFunc(g *gen) *allocFunc {
	fn := &allocFunc{g: g, vals: make([]*ir.Value, g.f.NumValues()), blocks: map[*ir.Block]int{}}
	for i, b := range g.f.Blocks {
		fn.blocks[b] = i
		for _, p := range b.Params {
			fn.vals[p.ID] = p
		}
		for _, v := range b.Instrs {
			fn.vals[v.ID] = v
		}
	}
	return fn
}

// reg returns v's root when it needs a register.
func (fn *allocFunc) reg(v *ir.Value) (regalloc.Value, bool) {
	r := fn.g.rootOf(v)
	return regalloc.Value(r.ID), fn.g.info[r.ID].kind == kReg && r.Type != ir.Void
}

func (fn *allocFunc) NumBlocks() int { return len(fn.g.f.Blocks) }

func (fn *allocFunc) Succs(b int) []int {
	var out []int
	for _, s := range fn.g.f.Blocks[b].Succs() {
		out = append(out, fn.blocks[s])
	}
	return out
}

func (fn *allocFunc) Params(b int) []regalloc.Value {
	var out []regalloc.Value
	for _, p := range fn.g.f.Blocks[b].Params {
		if r, ok := fn.reg(p); ok {
			out = append(out, r)
		}
	}
	return out
}

func (fn *allocFunc) NumInstrs(b int) int { return len(fn.g.f.Blocks[b].Instrs) }

func (fn *allocFunc) Def(b, i int) (regalloc.Value, bool) {
	v := fn.g.f.Blocks[b].Instrs[i]
	return regalloc.Value(v.ID), fn.g.info[v.ID].kind == kReg && v.Type != ir.Void
}

func (fn *allocFunc) Uses(b, i int, dst []regalloc.Value) []regalloc.Value {
	v := fn.g.f.Blocks[b].Instrs[i]
	for _, a := range v.Args {
		if fn.g.info[a.ID].kind == kFused {
			a = a.Args[0] // the OR/AND reads the shift's operand
		}
		if r, ok := fn.reg(a); ok {
			dst = append(dst, r)
		}
	}
	for _, t := range v.Targets {
		for _, a := range t.Args {
			if r, ok := fn.reg(a); ok {
				dst = append(dst, r)
			}
		}
	}
	return dst
}

func (fn *allocFunc) IsCall(b, i int) bool { return fn.g.firmwareCall(fn.g.f.Blocks[b].Instrs[i]) }

func slicesContains(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
