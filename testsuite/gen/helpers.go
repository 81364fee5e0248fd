package gen

import (
	"github.com/cilium/ebpf/asm"
)

// stmtPrandom calls bpf_get_prandom_u32 (both executors draw the same
// sequence from the run's seed).
func (g *gen) stmtPrandom() {
	g.clobberCallerSaved(0)
	g.call(asm.FnGetPrandomU32)
	g.sem.add(FPrandom)
}

// stmtCsumDiff sums a packet range with bpf_csum_diff(NULL, 0, p, 4k,
// seed), the shape the NFP inlines; programs allowed refused shapes also
// take "from" from the stack.
func (g *gen) stmtCsumDiff() {
	if g.st.maxRange(0) < 8 {
		g.ensure(g.nextLen(8))
	}
	p, ok := g.findReg(kPkt, func(r *reg) bool { return r.base == 0 && r.rng >= 4 })
	if !ok {
		g.stmtPrandom()
		return
	}
	rng := int(g.st.r[p].rng)
	words := 1 + g.intn(rng/4)
	n := 4 * words
	abs := g.intn(rng - n + 1)
	fromStack := g.refused && g.intn(2) == 0
	var fromOff int16
	var fromN int
	g.reserved |= 1 << p
	if fromStack {
		fromN = 4 * (1 + g.intn(4))
		fromOff = g.genLo()
		g.fillStack(fromOff, fromN, fromN)
	}
	if p >= asm.R1 && p <= asm.R5 {
		// Move the pointer out of the argument registers' way.
		g.clobber(asm.R0)
		g.emit(asm.Mov.Reg(asm.R0, p))
		g.set(asm.R0, g.st.r[p])
		g.reserved &^= 1 << p
		p = asm.R0
		g.reserved |= 1 << p
	}
	// The seed: a scalar copied into r5.
	if g.intn(2) == 0 {
		s := g.scalar()
		if s != asm.R5 {
			g.clobber(asm.R5)
			g.emit(asm.Mov.Reg(asm.R5, s))
		}
	} else {
		g.clobber(asm.R5)
		g.emit(asm.Mov.Imm(asm.R5, g.imm32()))
	}
	g.set(asm.R5, reg{k: kScalar})
	g.reserved &^= 1 << p
	g.clobberCallerSaved(1 << asm.R5)
	off := int32(abs) - int32(g.st.r[p].off)
	g.emit(asm.Mov.Reg(asm.R3, p))
	if off != 0 {
		g.emit(asm.Add.Imm(asm.R3, off))
	}
	g.emit(asm.Mov.Imm(asm.R4, int32(n)))
	if fromStack {
		g.stackArg(asm.R1, fromOff)
		g.emit(asm.Mov.Imm(asm.R2, int32(fromN)))
		g.sem.add(FCsumStack)
	} else {
		g.emit(asm.Mov.Imm(asm.R1, 0))
		g.emit(asm.Mov.Imm(asm.R2, 0))
		g.sem.add(FCsumPkt)
	}
	g.call(asm.FnCsumDiff)
}

// stmtAdjustHead moves the packet start (XDP): afterwards every packet
// pointer is invalid, and later accesses reload data and check again.
func (g *gen) stmtAdjustHead() {
	if g.intn(2) == 0 {
		g.clobberCallerSaved(0)
		d := [...]int32{-4, -8, -14, -16, -20, -40, 0, 4, 8, 14, 20, -64, 64}[g.intn(13)]
		g.emit(asm.Mov.Imm(asm.R2, d))
	} else {
		s := g.scalar()
		g.clobberCallerSaved(0)
		if s != asm.R2 {
			g.emit(asm.Mov.Reg(asm.R2, s))
		}
		g.emit(asm.And.Imm(asm.R2, 0x1f))
		g.emit(asm.Sub.Imm(asm.R2, 16))
	}
	g.emit(asm.Mov.Reg(asm.R1, asm.R6))
	g.call(asm.FnXdpAdjustHead)
	g.st.killPacket()
	g.adjusted = true
	g.sem.add(FAdjustHead)
}

// stmtAdjustTail shrinks the frame (the NFP cannot grow one; programs
// allowed refused shapes also grow it).
func (g *gen) stmtAdjustTail() {
	s := noReg
	if g.intn(3) == 0 {
		s = g.scalar()
	}
	g.clobberCallerSaved(0)
	switch {
	case g.refused && g.intn(2) == 0:
		g.emit(asm.Mov.Imm(asm.R2, [...]int32{4, 16, 64}[g.intn(3)]))
		g.sem.add(FAdjustTailGrow)
	case s == noReg:
		g.emit(asm.Mov.Imm(asm.R2, [...]int32{0, -1, -4, -14, -60}[g.intn(5)]))
	default:
		if s != asm.R2 {
			g.emit(asm.Mov.Reg(asm.R2, s))
		}
		g.emit(asm.And.Imm(asm.R2, 63))
		g.emit(asm.Neg.Imm(asm.R2, 0))
	}
	g.emit(asm.Mov.Reg(asm.R1, asm.R6))
	g.call(asm.FnXdpAdjustTail)
	g.st.killPacket()
	g.adjusted = true
	g.sem.add(FAdjustTail)
}

// stmtPerfOutput emits an event with bpf_perf_event_output(ctx, map,
// BPF_F_CURRENT_CPU, data, size): data from the stack (filled with live
// values, another way they become observable) or a map value.
func (g *gen) stmtPerfOutput() {
	idx := g.mapIndex(rolePerf)
	// Data on the stack or in a map value. (Not in the packet: the
	// kernel refuses packet memory for this helper, "helper access to the
	// packet is not allowed", though nfpcc's verifier takes it.)
	src := g.intn(10)
	if g.holdsMapValue() != noReg && g.intn(3) == 0 {
		src = 2
	}
	dataReg := noReg
	var n int
	switch {
	case src < 3:
		v := g.holdsMapValue()
		if v == noReg {
			break
		}
		x := g.st.r[v]
		mi := &g.mapInfo[x.m]
		if mi.atomicOff-int(x.off) < 1 {
			break
		}
		n = 1 + g.intn(mi.atomicOff-int(x.off))
		g.clobberCallerSaved(0)
		if v >= asm.R1 && v <= asm.R5 {
			g.emit(asm.Mov.Reg(asm.R0, v))
			g.set(asm.R0, x)
			v = asm.R0
		}
		g.emit(asm.Mov.Reg(asm.R4, v))
		dataReg = asm.R4
		g.sem.add(FPerfMapValue)
	}
	if dataReg == noReg {
		n = 1 + g.intn(64)
		off := -int16((n + 7) &^ 7)
		if off < g.genLo() {
			off = g.genLo()
		}
		// Fill from live values: the event carries them out.
		g.fillStack(off, (n+7)&^7, 1<<30)
		g.clobberCallerSaved(0)
		g.stackArg(asm.R4, off)
		g.sem.add(FPerfStack)
	}
	if g.intn(6) == 0 {
		// Also n bytes of the packet (BPF_F_CTXLEN_MASK).
		g.emit(asm.LoadImm(asm.R3, int64(uint64(g.intn(64))<<32|0xffffffff), asm.DWord))
		g.sem.add(FPerfCtxLen)
	} else if g.intn(2) == 0 {
		g.emit(asm.LoadImm(asm.R3, 0xffffffff, asm.DWord))
	} else {
		g.emit(asm.Mov.Imm32(asm.R3, -1))
	}
	g.emit(asm.Mov.Imm(asm.R5, int32(n)))
	g.emit(asm.LoadMapPtr(asm.R2, idx))
	g.emit(asm.Mov.Reg(asm.R1, asm.R6))
	g.call(asm.FnPerfEventOutput)
	g.sem.add(FPerfOutput)
}
