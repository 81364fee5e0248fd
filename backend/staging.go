package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// The firmware's map helpers take the key and value as LM addresses
// written to ActLMAddr0/2, which address whole 32-bit words; eBPF allows
// any byte address on the stack (a __u16 key at fp-2 is common). Such an
// argument is copied to an aligned staging area between the spill area and
// the frame, and the helper is given that copy. The helpers only read their
// key and value, so nothing needs copying back.

// stagedArg reports whether argument i of a map helper call is a stack
// address that is not 4-byte aligned (the frame itself is 8-aligned).
func (g *gen) stagedArg(v *ir.Value, i int) bool {
	if i >= len(v.Args) {
		return false
	}
	ai := g.info[g.rootOf(v.Args[i]).ID]
	return ai.kind == kStack && ai.off&3 != 0
}

// stagedSizes returns the bytes that call v stages for its key and value
// (0 when the argument is aligned or the map unknown); each takes a whole
// number of words in the staging area (round4).
func (g *gen) stagedSizes(v *ir.Value) (key, val int64) {
	if v.Op != ir.OpCall || v.Imm < 1 || v.Imm > 3 || len(v.Args) < 2 {
		return 0, 0
	}
	m := g.info[g.rootOf(v.Args[0]).ID]
	if m.kind != kMapRef || int(m.c) >= len(g.opts.Maps) {
		return 0, 0
	}
	mp := g.opts.Maps[m.c]
	if g.stagedArg(v, 1) {
		key = int64(mp.KeySize)
	}
	if v.Imm == 2 && g.stagedArg(v, 2) {
		val = int64(mp.ValueSize)
	}
	return key, val
}

// stagingSize is the staging area's size: the most any one call needs,
// rounded up to 8 bytes so that the frame above it stays 8-aligned in LM
// (an aligned 8-byte stack access then never straddles two *l$index3
// windows; stack_atomics.go relies on it).
func (g *gen) stagingSize() int64 {
	var n int64
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			k, val := g.stagedSizes(v)
			n = max(n, round4(k)+round4(val))
		}
	}
	n = max(n, g.divScratchBytes())
	return (n + 7) &^ 7
}

// stage copies n bytes at stack byte src (not word-aligned) to the aligned
// byte dst: each destination word is the funnel shift of the two source
// words it straddles (one when the bytes lie in one word). The words go
// through A20/A21, which lmWord's window moves (B20/B21) leave alone.
func (g *gen) stage(v *ir.Value, src, dst, n int64) {
	a := g.a
	sh := int(src&3) * 8
	base, lane := src&^3, src&3
	tmp := isa.GPRA(regScratchA)
	for j := int64(0); j < (n+3)/4; j++ {
		lo := base + 4*j
		if 4*j+4-lane < n {
			// Bytes from the next word too: hi into A21, lo into B21.
			a.emit(isa.Mov(isa.GPRA(regScratchB), g.lmWord(v, lo+4, false)))
			a.emit(isa.Mov(isa.GPRB(regScratchB), g.lmWord(v, lo, false)))
			a.emit(isa.DblShf(tmp, isa.GPRA(regScratchB), isa.GPRB(regScratchB), sh))
		} else {
			a.emit(isa.Shf(tmp, isa.None, isa.ShfB, g.lmWord(v, lo, false), isa.ShiftR, sh))
		}
		a.emit(isa.ALU(g.lmWord(v, dst+4*j, true), tmp, isa.OpOr, isa.Imm(0)))
	}
}

func round4(n int64) int64 { return (n + 3) &^ 3 }
