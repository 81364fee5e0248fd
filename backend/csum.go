package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// csumChunk bounds the words one read32_swap brings into $xfer_0…7.
const csumChunk = 8

// csumDiff is bpf_csum_diff(from, from_size, to, to_size, seed) inline:
// the one's complement sum of the seed's low half, the complement of each
// little-endian word of from and each word of to (Linux sums exactly
// that: ~from then to, csum_partial), folded to 16 bits as Linux (≥ 6.12)
// returns it. Sizes are constant multiples of 4 (at most 512 bytes in
// all, the kernel's scratch); each range lies in the packet or at a
// constant stack address (the verifier proved it readable). Packet words
// come in chunks of 8 through $xfer_0…7 and are added with +carry into
// A21 (a from word complemented first into B20 without touching the
// carry: no_cc); two +carry 0 after each chunk fold the pending carry (the
// second cannot carry out again), so nothing between chunks sees one
// pending. Stack words are added one at a time, each carry folded at once
// (reaching a word may move the LM window, an ALU instruction).
func (g *gen) csumDiff(v *ir.Value) {
	a := g.a
	if len(v.Args) < 5 {
		g.fail(v, "bpf_csum_diff takes 5 arguments, the call passes %d", len(v.Args))
	}
	size := func(k int, what string) uint64 {
		n, ok := g.constant(v.Args[k], false)
		if !ok || n%4 != 0 || n > 512 {
			g.fail(v, "bpf_csum_diff: %s must be a constant multiple of 4 up to 512", what)
		}
		return uint64(n)
	}
	fromN, toN := size(1, "from_size"), size(3, "to_size")
	if fromN+toN == 0 || fromN+toN > 512 {
		g.fail(v, "bpf_csum_diff: from_size + to_size must be from 4 to 512")
	}
	a.emit(isa.Mov(csumAcc, g.src(v.Args[4], false, right, limU)))
	g.csumRange(v, v.Args[0], fromN, true)
	g.csumRange(v, v.Args[2], toN, false)
	// csum_from32to16: (acc + rotr(acc, 16)) >> 16.
	t := csumTmp
	a.emit(isa.ALU(t, csumAcc, isa.OpOr, isa.Imm(0)),
		isa.Shf(t, isa.None, isa.ShfB, t, isa.ShiftRotR, 16),
		isa.ALU(t, csumAcc, isa.OpAdd, t))
	if g.info[v.ID].kind != kReg {
		return
	}
	a.emit(isa.Shf(g.dlo(v), isa.None, isa.ShfB, t, isa.ShiftR, 16))
	if dh := g.dhi(v); !dh.IsNone() {
		a.emit(isa.Immed(dh, 0))
	}
}

// The accumulator (A21) and the complemented word (B20) of csumDiff.
var (
	csumAcc = isa.GPRA(regScratchB)
	csumTmp = isa.GPRB(regScratchA)
)

// csumRange adds the n bytes at p to the accumulator, each word
// complemented when not (bpf_csum_diff's from range).
func (g *gen) csumRange(v, p *ir.Value, n uint64, not bool) {
	if n == 0 {
		return
	}
	a := g.a
	root := g.info[g.rootOf(p).ID]
	fa := g.f.Facts[p.ID]
	switch {
	case root.kind == kStack:
		addr := g.frame + root.off
		if addr%4 != 0 {
			g.fail(v, "bpf_csum_diff: a stack range must start at a 4-byte boundary")
		}
		for w := uint64(0); w < n/4; w++ {
			src := g.lmWord(v, addr+int64(4*w), false)
			if not {
				a.emit(isa.ALU(csumTmp, isa.None, isa.OpNotB, src))
				src = csumTmp
			}
			a.emit(isa.ALU(csumAcc, csumAcc, isa.OpAdd, src), isa.ALU(csumAcc, csumAcc, isa.OpAddCarry, isa.Imm(0)))
		}
	case root.kind == kReg && fa != nil && fa.Ptr != nil && fa.Ptr.Kind == ir.PtrPkt:
		words := int(n / 4)
		for w := 0; w < words; w += csumChunk {
			cnt := min(csumChunk, words-w)
			off := g.offOperand(int64(4 * w))
			a.emit(isa.Cmd(isa.TargetMU, "read32_swap", 0, g.src(p, false, left, limU), off, isa.Mode32, cnt, isa.CtxSwapWait))
			for i := 0; i < cnt; i++ {
				op := isa.OpAddCarry
				if i == 0 {
					op = isa.OpAdd
				}
				src := isa.Xfer(i)
				if not {
					c := isa.ALU(csumTmp, isa.None, isa.OpNotB, src)
					c.Flags |= isa.FlagNoCC
					a.emit(c)
					src = csumTmp
				}
				a.emit(isa.ALU(csumAcc, csumAcc, op, src))
			}
			a.emit(isa.ALU(csumAcc, csumAcc, isa.OpAddCarry, isa.Imm(0)), isa.ALU(csumAcc, csumAcc, isa.OpAddCarry, isa.Imm(0)))
		}
	default:
		g.fail(v, "bpf_csum_diff: a range must be in the packet or at a constant stack address")
	}
}
