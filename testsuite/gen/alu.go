package gen

import (
	"math"

	"github.com/cilium/ebpf/asm"
)

// edge32 are immediates at the edges of the 32- and 64-bit ranges (a
// 32-bit immediate is sign-extended in 64-bit operations: -1 is 2^64-1,
// -2^31 is 2^64-2^31).
var edge32 = [...]int32{
	0, 1, -1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, -256,
	0x7fff, -0x8000, 0xffff, 0x10000, 0x7fffffff, math.MinInt32, 0x55555555, -0x55555556,
	0x00ff00ff, 0x12345678, -2,
}

// edge64 are 64-bit constants for LD_IMM64, many with non-zero upper halves.
var edge64 = [...]uint64{
	0, 1, math.MaxUint64, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 32, 1<<32 + 1, 1 << 63, 1<<63 - 1,
	0x8000000080000000, 0x0123456789abcdef, 0xffffffff00000000, 0x00000001ffffffff,
	0xfedcba9876543210, 0x7fffffff80000000, 0x00000000ffff0000, 0x8000000000000001,
}

// imm32 is an immediate: an edge constant most of the time, else random.
func (g *gen) imm32() int32 {
	switch g.intn(8) {
	case 0, 1:
		return int32(g.rng.Uint32())
	case 2:
		return int32(g.intn(512)) - 256
	}
	return edge32[g.intn(len(edge32))]
}

// cover records the edge constants an immediate is (for Coverage).
func (g *gen) coverImm(v int64) {
	switch v {
	case 0:
		g.sem.add(FConst0)
	case 1:
		g.sem.add(FConst1)
	case -1:
		g.sem.add(FConstM1)
	case math.MaxInt32:
		g.sem.add(FConstMaxS32)
	case math.MinInt32:
		g.sem.add(FConst2p31)
	}
}

// aluOps are the plain ALU operations.
var aluOps = [...]asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Or, asm.And, asm.Xor, asm.Mov, asm.Neg, asm.Add, asm.Xor, asm.Sub}

// stmtALU emits one plain ALU operation on a scalar.
func (g *gen) stmtALU() {
	op := aluOps[g.intn(len(aluOps))]
	wide := !g.chance(g.cfg.ALU32Prob)
	if op == asm.Neg {
		d := g.scalar()
		g.clobber(d)
		if wide {
			g.emit(asm.Neg.Imm(d, 0))
		} else {
			g.emit(asm.Neg.Imm32(d, 0))
		}
		g.setScalar(d, prov{})
		return
	}
	var d asm.Register
	if op == asm.Mov {
		d = g.pickDst()
	} else {
		d = g.scalar()
		g.clobber(d)
	}
	g.aluSrc(op, d, wide)
}

// aluSrc emits d op= src with a register or immediate source.
func (g *gen) aluSrc(op asm.ALUOp, d asm.Register, wide bool) {
	if g.chance(g.cfg.ImmProb) {
		v := g.imm32()
		g.coverImm(int64(v))
		if wide {
			g.emit(op.Imm(d, v))
		} else {
			g.emit(op.Imm32(d, v))
		}
	} else {
		s := g.scalarKeep(1 << d)
		if wide {
			g.emit(op.Reg(d, s))
		} else {
			g.emit(op.Reg32(d, s))
		}
	}
	g.setScalar(d, prov{})
}

// stmtDivMod emits a division or modulo. Register divisors may be 0 (the
// result is defined: x/0 = 0, x%0 = x); immediates are never 0 (the
// verifier refuses that). The NFP backend divides 32-bit values only, by
// constants below 2^31: 64-bit operands are first truncated with mov32
// unless the program may use refused shapes, and so are signed forms.
func (g *gen) stmtDivMod() {
	op := asm.Div
	if g.intn(2) == 0 {
		op = asm.Mod
	}
	if g.v4 && g.refused && g.intn(3) == 0 {
		op = asm.SDiv
		if g.intn(2) == 0 {
			op = asm.SMod
		}
	}
	wide := !g.chance(g.cfg.ALU32Prob)
	byImm := g.chance(g.cfg.ImmProb)
	if wide && !byImm && !g.refused {
		// The backend divides 64-bit values by registers only when it
		// sees both are below 2^32, which mov32 does not show it.
		wide = false
	}
	d := g.scalar()
	g.clobber(d)
	if wide && !g.refused {
		g.emit(asm.Mov.Reg32(d, d)) // zero-extend: the verifier then knows d < 2^32
	}
	if byImm {
		var v int32
		switch g.intn(4) {
		case 0:
			v = int32(1 + g.intn(64))
		case 1:
			v = int32(g.rng.Uint32()>>1) | 1
		case 2:
			v = 1 << g.intn(31)
		default:
			v = edge32[g.intn(len(edge32))]
		}
		if v == 0 || (v < 0 && !g.refused) {
			v = 7
		}
		g.coverImm(int64(v))
		if wide {
			g.emit(op.Imm(d, v))
		} else {
			g.emit(op.Imm32(d, v))
		}
	} else {
		s := g.scalarKeep(1 << d)
		if wide && !g.refused && s != d {
			// Truncate a copy: the divisor register keeps its value.
			t := g.pickDstExcept(1<<d | 1<<s)
			g.emit(asm.Mov.Reg32(t, s))
			g.setScalar(t, prov{})
			s = t
		}
		g.sem.add(FDivReg)
		if wide {
			g.emit(op.Reg(d, s))
		} else {
			g.emit(op.Reg32(d, s))
		}
	}
	g.setScalar(d, prov{})
}

// stmtShift emits a shift by an immediate in range (edges 0, 1, 31, 32,
// 63) or by a register, masked to the width or not (the hardware masks).
func (g *gen) stmtShift() {
	ops := [...]asm.ALUOp{asm.LSh, asm.RSh, asm.ArSh}
	op := ops[g.intn(3)]
	wide := !g.chance(g.cfg.ALU32Prob)
	d := g.scalar()
	g.clobber(d)
	width := int32(32)
	if wide {
		width = 64
	}
	if g.chance(g.cfg.ImmProb + 0.15) {
		var n int32
		switch g.intn(4) {
		case 0:
			n = [...]int32{0, 1, 31, 32, 63}[g.intn(5)]
		default:
			n = int32(g.intn(int(width)))
		}
		n %= width
		switch n {
		case 0:
			g.sem.add(FShift0)
		case 31:
			g.sem.add(FShift31)
		case 32:
			g.sem.add(FShift32)
		case 63:
			g.sem.add(FShift63)
		}
		if wide {
			g.emit(op.Imm(d, n))
		} else {
			g.emit(op.Imm32(d, n))
		}
	} else {
		s := g.scalarKeep(1 << d)
		if s != d && g.intn(2) == 0 {
			t := g.pickDstExcept(1<<d | 1<<s)
			g.emit(asm.Mov.Reg(t, s))
			g.emit(asm.And.Imm(t, width-1))
			g.setScalar(t, prov{})
			s = t
			g.sem.add(FShiftMasked)
		}
		if wide {
			g.emit(op.Reg(d, s))
		} else {
			g.emit(op.Reg32(d, s))
		}
	}
	g.setScalar(d, prov{})
}

// stmtSwap emits an endianness conversion or a cpu v4 bswap.
func (g *gen) stmtSwap() {
	d := g.scalar()
	g.clobber(d)
	sizes := [...]asm.Size{asm.Half, asm.Word, asm.DWord}
	sz := sizes[g.intn(3)]
	switch {
	case g.v4 && g.intn(3) == 0:
		g.emit(asm.BSwap(d, sz))
	case g.intn(3) == 0:
		g.emit(asm.HostTo(asm.LE, d, sz))
	default:
		g.emit(asm.HostTo(asm.BE, d, sz))
	}
	g.setScalar(d, prov{})
}

// stmtMovSX emits a sign-extending move (cpu v4), or a plain mov32 when
// cpu v4 is off.
func (g *gen) stmtMovSX() {
	s := g.scalar()
	d := g.pickDst()
	if !g.v4 {
		g.emit(asm.Mov.Reg32(d, s))
		g.setScalar(d, prov{})
		return
	}
	switch g.intn(5) {
	case 0:
		g.emit(asm.MovSX8.Reg(d, s))
	case 1:
		g.emit(asm.MovSX16.Reg(d, s))
	case 2:
		g.emit(asm.MovSX32.Reg(d, s))
	case 3:
		g.emit(asm.MovSX8.Reg32(d, s))
	default:
		g.emit(asm.MovSX16.Reg32(d, s))
	}
	g.setScalar(d, prov{})
}

// stmtLoadImm64 loads a 64-bit constant.
func (g *gen) stmtLoadImm64() {
	d := g.pickDst()
	var v uint64
	if g.intn(4) == 0 {
		v = g.rng.Uint64()
	} else {
		v = edge64[g.intn(len(edge64))]
	}
	if v>>32 != 0 && v>>32 != 0xffffffff {
		g.sem.add(FLddwHigh)
	}
	switch v {
	case 1<<32 - 1:
		g.sem.add(FConstU32Max)
	case 1 << 63:
		g.sem.add(FConst2p63)
	}
	g.emit(asm.LoadImm(d, int64(v), asm.DWord))
	g.setScalar(d, prov{})
}
