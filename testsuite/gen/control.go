package gen

import (
	"github.com/cilium/ebpf/asm"
)

// Jump instructions are built here rather than with cilium's JumpOp
// methods, whose label metadata allocates; finish sets the targets.
func jImm(op asm.JumpOp, r asm.Register, v int32) asm.Instruction {
	return asm.Instruction{OpCode: op.Op(asm.ImmSource), Dst: r, Constant: int64(v)}
}

func jImm32(op asm.JumpOp, r asm.Register, v int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(op).SetSource(asm.ImmSource), Dst: r, Constant: int64(v)}
}

func jReg(op asm.JumpOp, d, s asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: op.Op(asm.RegSource), Dst: d, Src: s}
}

func jReg32(op asm.JumpOp, d, s asm.Register) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(op).SetSource(asm.RegSource), Dst: d, Src: s}
}

var jA = asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)}

// jumpOps are the conditional jumps, signed and unsigned.
var jumpOps = [...]asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE, asm.JSet}

// cond builds a conditional jump on scalars (target still open): register
// or immediate, 64 or 32 bits. Comparing an unmodified packet load with a
// constant records a hint so that some frames take the other way.
func (g *gen) cond() asm.Instruction {
	op := jumpOps[g.intn(len(jumpOps))]
	wide := !g.chance(g.cfg.JMP32Prob)
	a := g.scalar()
	if g.chance(g.cfg.ImmProb + 0.2) {
		v := g.imm32()
		x := g.st.r[a]
		if x.prov.how != provNone && g.intn(4) != 0 {
			// Near a value the field takes in frames that get the hint.
			v = int32(g.rng.Uint32())
			if x.prov.size < 4 {
				v &= 1<<(8*x.prov.size) - 1
			}
			if g.intn(2) == 0 {
				v &= 0xff
			}
			g.hint(int(x.prov.off), int(x.prov.size), uint64(uint32(v)), x.prov.how == provBE)
			v += int32(g.intn(3)) - 1
		}
		g.coverImm(int64(v))
		if wide {
			return jImm(op, a, v)
		}
		return jImm32(op, a, v)
	}
	b := g.scalarKeep(1 << a)
	if wide {
		return jReg(op, a, b)
	}
	return jReg32(op, a, b)
}

// stmtBranch emits an if-then or if-then-else on a scalar compare.
func (g *gen) stmtBranch() {
	g.condBody(g.cond())
}

// stmtEarlyExit emits a conditional jump to an exit.
func (g *gen) stmtEarlyExit() {
	j := g.cond()
	g.jump(j, g.deferExit())
	g.sem.add(FEarlyExit)
}

// stmtSelect emits d = cond ? c : 1-c (c 0 or 1) as a move, a
// conditional jump over a second move: what clang makes of `x += a > b`,
// the shape the passes' ifconv turns into a compare producing the value.
func (g *gen) stmtSelect() {
	j := g.cond()
	avoid := uint16(1) << j.Dst
	if j.OpCode.Source() == asm.RegSource {
		avoid |= 1 << j.Src
	}
	d := g.pickDstExcept(avoid)
	c := int32(g.intn(2))
	mov := asm.Mov.Imm
	if g.chance(g.cfg.ALU32Prob) {
		mov = asm.Mov.Imm32
	}
	g.emit(mov(d, c))
	skip := g.newLabel()
	g.jump(j, skip)
	g.emit(mov(d, 1-c))
	g.place(skip)
	g.setScalar(d, prov{})
	g.sem.add(FSelect)
}

// condBody emits the code controlled by the conditional jump j: an
// if-then (j skips the arm), an if-then-else, or an early exit.
func (g *gen) condBody(j asm.Instruction) {
	if g.depth >= g.cfg.MaxDepth || g.inLoop || g.intn(6) == 0 {
		g.jump(j, g.deferExit())
		g.sem.add(FEarlyExit)
		return
	}
	g.depth++
	defer func() { g.depth-- }()
	outer := g.wmask
	g.wmask = 0
	if g.intn(2) == 0 {
		skip := g.newLabel()
		g.jump(j, skip)
		before := g.st
		g.block(2 + g.intn(10))
		g.observeAll()
		after := g.st
		g.place(skip)
		g.st = meet(&after, &before)
		g.sem.add(FBranch)
	} else {
		els, join := g.newLabel(), g.newLabel()
		g.jump(j, els)
		before := g.st
		g.block(2 + g.intn(10))
		g.observeAll()
		then := g.st
		if g.v4 && g.intn(4) == 0 {
			// cpu v4 gotol: the displacement in imm.
			g.jump(asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja)}, join)
		} else {
			g.jump(jA, join)
		}
		g.place(els)
		g.st = before
		g.block(1 + g.intn(10))
		g.observeAll()
		els2 := g.st
		g.place(join)
		g.st = meet(&then, &els2)
		g.sem.add(FIfElse)
	}
	written := g.wmask
	g.wmask = outer | written
	if g.phis < g.cfg.MaxPhis {
		g.phis++
		g.sem.add(FPhi)
		return
	}
	// Registers the arms wrote are not read again (until rewritten), so
	// the verifier's liveness lets the two paths' states prune each other.
	for _, r := range allRegs {
		if written&(1<<r) != 0 && r != g.acc && g.st.r[r].k == kScalar {
			g.set(r, reg{})
		}
	}
}

// set writes the abstract value of r, noting the write.
func (g *gen) set(r asm.Register, x reg) {
	g.st.r[r] = x
	g.wmask |= 1 << r
}

// deferExit returns the label of a new exit block for the current state,
// emitted after the function's body.
func (g *gen) deferExit() int32 {
	l := g.newLabel()
	g.deferred = append(g.deferred, deferredExit{label: l, st: g.st})
	return l
}

// failLabel is where a failed bounds check goes: the function's shared
// exit (which assumes nothing but the context and the accumulator) or an
// exit of its own.
func (g *gen) failLabel() int32 {
	if g.intn(2) == 0 {
		return g.deferExit()
	}
	if g.short < 0 {
		g.short = g.newLabel()
		var s state
		s.reset()
		if g.fnIndex < 0 {
			s.r[asm.R6] = reg{k: kCtx}
		}
		s.r[g.acc] = reg{k: kScalar}
		g.deferred = append(g.deferred, deferredExit{label: g.short, st: s})
	}
	return g.short
}

// emitDeferred emits the current function's exit blocks.
func (g *gen) emitDeferred() {
	for i := 0; i < len(g.deferred); i++ {
		d := g.deferred[i]
		g.place(d.label)
		g.st = d.st
		g.exitSeq()
	}
	if len(g.deferred) > 1 {
		g.sem.add(FMultiExit)
	}
	g.deferred = g.deferred[:0]
	g.short = -1
}

// exitSeq ends the current path: every dirty value is folded, the
// accumulator is stored into the packet (and maybe a map), and the return
// code is set.
func (g *gen) exitSeq() {
	g.observeAll()
	if g.fnIndex >= 0 {
		if g.intn(3) == 0 {
			g.emit(asm.Mov.Reg(asm.R0, g.acc))
			g.emit(asm.Xor.Imm(asm.R0, g.imm32()))
		} else {
			g.emit(asm.Mov.Reg(asm.R0, g.acc))
		}
		g.emit(asm.Return())
		return
	}
	g.storeResult()
	if g.resultMap {
		g.storeResultMap()
	}
	g.setAction()
	g.emit(asm.Return())
}

// storeResult writes the accumulator (and maybe other scalars) into the
// packet: through a pointer with range, or behind a fresh check.
func (g *gen) storeResult() {
	if p, ok := g.findReg(kPkt, func(r *reg) bool { return r.base == 0 && r.rng >= 8 }); ok {
		rng := int(g.st.r[p].rng)
		abs := g.intn(min(rng, 72) - 8 + 1)
		g.emit(asm.StoreMem(p, int16(abs)-g.st.r[p].off, g.acc, asm.DWord))
		g.laneFeature(true, 8, abs)
		// Other scalars as they are, unmixed.
		for _, r := range allRegs {
			if g.st.r[r].k == kScalar && r != g.acc && g.intn(3) == 0 {
				sz := g.intn(4)
				n := 1 << sz
				abs := g.intn(rng - n + 1)
				g.emit(asm.StoreMem(p, int16(abs)-g.st.r[p].off, r, sizes[sz]))
			}
		}
		return
	}
	// data and data_end into free registers, an 8-byte window at a random lane.
	p := g.exitReg(0)
	g.emit(asm.LoadMem(p, asm.R6, g.dataOff(), asm.Word))
	e := g.exitReg(1 << p)
	g.emit(asm.LoadMem(e, asm.R6, g.endOff(), asm.Word))
	abs := g.intn(8)
	t := g.exitReg(1<<p | 1<<e)
	g.emit(asm.Mov.Reg(t, p))
	g.emit(asm.Add.Imm(t, int32(abs+8)))
	skip := g.newLabel()
	g.jump(jReg(asm.JGT, t, e), skip)
	g.emit(asm.StoreMem(p, int16(abs), g.acc, asm.DWord))
	g.laneFeature(true, 8, abs)
	g.place(skip)
	g.st.r[p], g.st.r[e], g.st.r[t] = reg{}, reg{}, reg{}
	g.lenHint(abs + 8)
}

// exitReg is a register the exit sequence may overwrite (all values are
// folded by then).
func (g *gen) exitReg(avoid uint16) asm.Register {
	for _, r := range [...]asm.Register{asm.R1, asm.R2, asm.R3, asm.R4, asm.R5, asm.R0, asm.R7, asm.R8} {
		if avoid&(1<<r) == 0 && r != g.acc && !(g.fnIndex < 0 && r == asm.R6) {
			return r
		}
	}
	panic("BUG: gen: no exit register")
}

// setAction sets r0 to the return code: mostly a constant, sometimes
// derived from the accumulator.
func (g *gen) setAction() {
	if g.intn(4) == 0 {
		g.sem.add(FActionComputed)
		if g.intn(2) == 0 {
			g.emit(asm.Mov.Reg32(asm.R0, g.acc))
		} else {
			g.emit(asm.Mov.Reg(asm.R0, g.acc))
		}
		if g.tc {
			g.emit(asm.And.Imm(asm.R0, 7))
		} else {
			g.emit(asm.And.Imm(asm.R0, 3))
		}
		return
	}
	var codes []int32
	if g.tc {
		codes = []int32{0, 0, 0, 2, 2, 2, -1, 1, 3, 4, 5, 6, 7}
	} else {
		codes = []int32{1, 1, 2, 2, 2, 2, 3, 3, 3, 0}
		if g.refused {
			codes = append(codes, 4)
		}
	}
	g.emit(asm.Mov.Imm(asm.R0, codes[g.intn(len(codes))]))
}

// stmtLoop emits a counted loop: the counter lives in a reserved register,
// its bound is a constant (or a register holding one), and the body
// cannot change any register's kind, so the state at the loop head is
// the same on every iteration as far as the body's instructions care.
// The verifier unrolls it.
func (g *gen) stmtLoop() {
	// Enough scalar-or-free registers for the body.
	free := 0
	for _, r := range allRegs {
		if g.isFree(r) {
			if k := g.st.r[r].k; k == kScalar || k == kNone {
				free++
			}
		}
	}
	if free < 5 {
		g.stmtALU()
		return
	}
	iters := 1 + g.intn(g.cfg.MaxLoopIters)
	c := g.pickLoopReg(0)
	form := g.intn(6)
	var bound asm.Register
	switch form {
	case 2, 3:
		g.emit(asm.Mov.Imm(c, int32(iters)))
	case 5:
		bound = g.pickLoopReg(1 << c)
		g.emit(asm.Mov.Imm(bound, int32(iters)))
		g.set(bound, reg{k: kScalar})
		g.reserved |= 1 << bound
		g.emit(asm.Mov.Imm(c, 0))
	default:
		g.emit(asm.Mov.Imm(c, 0))
	}
	g.set(c, reg{k: kScalar})
	g.reserved |= 1 << c
	head := g.newLabel()
	g.place(head)
	g.inLoop = true
	g.depth++
	g.block(3 + g.intn(12))
	if g.intn(2) == 0 {
		g.emit(asm.Add.Reg(g.acc, c))
	}
	g.depth--
	g.inLoop = false
	w := g.chance(g.cfg.JMP32Prob)
	imm := func(op asm.JumpOp, v int32) asm.Instruction {
		if w {
			return jImm32(op, c, v)
		}
		return jImm(op, c, v)
	}
	switch form {
	case 0: // c++ < N
		g.emit(asm.Add.Imm(c, 1))
		g.jump(imm(asm.JLT, int32(iters)), head)
	case 1: // c++ != N
		g.emit(asm.Add.Imm(c, 1))
		g.jump(imm(asm.JNE, int32(iters)), head)
	case 2: // --c != 0
		g.emit(asm.Sub.Imm(c, 1))
		g.jump(imm(asm.JNE, 0), head)
	case 3: // --c s> 0
		g.emit(asm.Add.Imm(c, -1))
		g.jump(imm(asm.JSGT, 0), head)
	case 4: // c++ <= N-1
		g.emit(asm.Add.Imm(c, 1))
		g.jump(imm(asm.JLE, int32(iters-1)), head)
	case 5: // c++ < bound
		g.emit(asm.Add.Imm(c, 1))
		if w {
			g.jump(jReg32(asm.JLT, c, bound), head)
		} else {
			g.jump(jReg(asm.JLT, c, bound), head)
		}
		g.reserved &^= 1 << bound
	}
	g.reserved &^= 1 << c
	g.set(c, reg{k: kScalar})
	g.sem.add(FLoop)
}

// pickLoopReg picks a loop counter: free and holding a scalar or nothing.
func (g *gen) pickLoopReg(avoid uint16) asm.Register {
	var cand [10]asm.Register
	n := 0
	for _, r := range allRegs {
		if g.isFree(r) && avoid&(1<<r) == 0 {
			if k := g.st.r[r].k; k == kScalar || k == kNone {
				cand[n] = r
				n++
			}
		}
	}
	r := cand[g.intn(n)]
	g.clobber(r)
	return r
}

// entry generates the entry function: r6 keeps the context, r9 is the
// accumulator.
func (g *gen) entry() {
	g.fnIndex, g.acc, g.short = -1, asm.R9, -1
	g.st.reset()
	g.set(asm.R1, reg{k: kCtx})
	g.emit(asm.Mov.Reg(asm.R6, asm.R1))
	g.set(asm.R6, reg{k: kCtx})
	if g.intn(3) == 0 {
		g.emit(asm.LoadImm(asm.R9, int64(edge64[g.intn(len(edge64))]), asm.DWord))
	} else {
		g.emit(asm.Mov.Imm(asm.R9, g.imm32()))
	}
	g.set(asm.R9, reg{k: kScalar})
	if g.intn(4) != 0 {
		g.ensure(ladder[g.intn(len(ladder))])
	}
	lo, hi := g.cfg.MinInsns, g.cfg.MaxInsns
	g.target = lo + g.intn(max(hi-lo, 1))
	g.block(g.target)
	g.exitSeq()
	g.emitDeferred()
}
