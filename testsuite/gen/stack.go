package gen

import "github.com/cilium/ebpf/asm"

// stackSlot picks a naturally aligned n-byte location in the general area
// (the kernel requires aligned stack accesses).
func (g *gen) stackSlot(n int) int16 {
	lo := int(g.genLo())
	slots := -lo / n
	return int16(lo + n*g.intn(slots))
}

// stmtStack stores to or loads from the stack: registers and immediates
// of every size, loads only of initialised bytes, sometimes through a
// register holding fp+c instead of fp.
func (g *gen) stmtStack() {
	si := g.intn(4)
	n := 1 << si
	load := g.intn(5) < 2
	var at int16
	found := false
	for try := 0; try < 6; try++ {
		at = g.stackSlot(n)
		if load && g.st.isInit(at, n) || !load && g.st.canWrite(at, n) {
			found = true
			break
		}
	}
	if !found {
		if load {
			load = false
			if g.st.canWrite(at, n) {
				found = true
			}
		}
		if !found {
			g.stmtALU()
			return
		}
	}
	base, off := g.stackBase(at)
	if load {
		d := g.pickDstExcept(1 << base)
		if g.v4 && si < 3 && g.intn(4) == 0 {
			g.emit(asm.LoadMemSX(d, base, off, sizes[si]))
			g.sem.add(FStackLoadSX)
		} else {
			g.emit(asm.LoadMem(d, base, off, sizes[si]))
		}
		g.setScalar(d, prov{})
		g.sem.add(FStackLoad1 + Feature(si))
		return
	}
	if si < 3 && g.intn(3) == 0 || si == 3 && g.intn(6) == 0 {
		g.emit(asm.Instruction{OpCode: asm.StoreImmOp(sizes[si]), Dst: base, Offset: off, Constant: int64(g.imm32())})
		g.sem.add(FStackStoreImm)
	} else {
		if base != asm.R10 {
			g.reserved |= 1 << base
		}
		s := g.scalar()
		g.reserved &^= 1 << base
		g.emit(asm.StoreMem(base, off, s, sizes[si]))
	}
	g.st.write(at, n)
	g.sem.add(FStackStore1 + Feature(si))
}

// stackBase returns the base register and offset for fp+at: r10, or a
// register holding fp+c (made here sometimes).
func (g *gen) stackBase(at int16) (asm.Register, int16) {
	if g.intn(6) != 0 {
		return asm.R10, at
	}
	if r, ok := g.findReg(kStack, nil); ok {
		g.sem.add(FStackPtrReg)
		return r, at - g.st.r[r].off
	}
	if g.inLoop {
		return asm.R10, at
	}
	r := g.pickDst()
	c := -8 * int16(g.intn(int(-g.genLo())/8+1))
	g.emit(asm.Mov.Reg(r, asm.R10))
	if c != 0 {
		g.emit(asm.Add.Imm(r, int32(c)))
	}
	g.set(r, reg{k: kStack, off: c})
	g.sem.add(FStackPtrReg)
	return r, at - c
}

// stmtSpill spills a pointer (context, packet, data_end, map value) to an
// 8-byte slot, or fills one back: the verifier tracks the pointer through
// the stack.
func (g *gen) stmtSpill() {
	lo := g.genLo()
	nslots := int(-lo) / 8
	if g.intn(2) == 0 {
		// Fill.
		for try := 0; try < 4; try++ {
			j := g.intn(nslots)
			if g.st.slot[j] != slotPointer {
				continue
			}
			at := -8 * int16(j+1)
			d := g.pickDst()
			g.emit(asm.LoadMem(d, asm.R10, at, asm.DWord))
			x := g.st.spill[j]
			x.dirty = false
			g.set(d, x)
			g.sem.add(FFillPtr)
			return
		}
	}
	var cand [10]asm.Register
	c := 0
	for _, r := range allRegs {
		switch g.st.r[r].k {
		case kCtx:
			// The NFP backend keeps the context out of registers and memory.
			if g.refused {
				cand[c] = r
				c++
			}
		case kPkt, kPktEnd, kMapVal:
			cand[c] = r
			c++
		}
	}
	if c == 0 {
		g.stmtStack()
		return
	}
	r := cand[g.intn(c)]
	j := g.intn(nslots)
	at := -8 * int16(j+1)
	g.emit(asm.StoreMem(asm.R10, at, r, asm.DWord))
	g.st.slot[j], g.st.spill[j] = slotPointer, g.st.r[r]
	g.sem.add(FSpillPtr)
}
