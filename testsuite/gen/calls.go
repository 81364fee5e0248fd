package gen

import "github.com/cilium/ebpf/asm"

// callInsn is a BPF-to-BPF call; its offset is resolved by finish.
var callInsn = asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoCall, Constant: -1}

// stmtCall calls a later function (no recursion) with scalar arguments in
// r1–r5. The callee folds its arguments into its result, the caller's
// r6–r9 survive (including packet pointers and map values held there),
// r1–r5 do not.
func (g *gen) stmtCall() {
	first := g.fnIndex + 1
	i := first + g.intn(len(g.callees)-first)
	c := &g.callees[i]
	if c.label < 0 {
		c.label = g.newLabel()
	}
	c.called = true
	var keep uint16
	for a := 1; a <= c.nargs; a++ {
		r := asm.R0 + asm.Register(a)
		if g.intn(3) == 0 {
			g.clobber(r)
			g.emit(asm.Mov.Imm(r, g.imm32()))
		} else {
			s := g.scalarKeep(keep)
			if s != r {
				g.clobber(r)
				g.emit(asm.Mov.Reg(r, s))
			}
		}
		// The callee folds its arguments: the call observes them.
		g.set(r, reg{k: kScalar})
		keep |= 1 << r
	}
	g.clobberCallerSaved(keep)
	g.jump(callInsn, c.label)
	g.afterCall()
	g.sem.add(FCall)
	if c.nargs == 5 {
		g.sem.add(FCall5Args)
	}
}

// function generates callee i: arguments in r1..r(nargs), its own
// accumulator among r6–r9 (callee-saved: the caller's values must
// survive), a 64-byte frame; it returns the accumulator.
func (g *gen) function(i int) {
	c := &g.callees[i]
	g.fnIndex, g.short = i, -1
	g.st.reset()
	g.phis = 0
	g.place(c.label)
	g.acc = asm.R6 + asm.Register(g.intn(4))
	if c.nargs > 0 && g.intn(2) == 0 {
		g.emit(asm.Mov.Reg(g.acc, asm.R1))
	} else {
		g.emit(asm.Mov.Imm(g.acc, g.imm32()))
	}
	g.set(g.acc, reg{k: kScalar})
	for a := 1; a <= c.nargs; a++ {
		g.set(asm.Register(a), reg{k: kScalar, dirty: true})
	}
	g.block(6 + g.intn(30))
	g.exitSeq()
	g.emitDeferred()
}
