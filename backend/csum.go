package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// csumChunk bounds the words one read32_swap brings into $xfer_0…7.
const csumChunk = 8

// csumDiff is bpf_csum_diff(from, from_size, to, to_size, seed) inline for
// its common use, the checksum of a packet range (from_size 0, to_size a
// constant multiple of 4 up to 512, to a packet pointer): the one's
// complement sum of the range's little-endian words and the seed's low
// half, folded to 16 bits as Linux (≥ 6.12) returns it. The words come in
// chunks of 8 through $xfer_0…7 and are added with +carry into A21; two
// +carry 0 after each chunk fold the pending carry (the second cannot carry
// out again), so a memory command between chunks never sees one pending.
// The verifier has proved the range inside the packet.
func (g *gen) csumDiff(v *ir.Value) {
	a := g.a
	if len(v.Args) < 5 {
		g.fail(v, "bpf_csum_diff takes 5 arguments, the call passes %d", len(v.Args))
	}
	if lo, ok := g.constant(v.Args[1], false); !ok || lo != 0 {
		g.fail(v, "bpf_csum_diff: only from_size 0 (the sum of one range) is supported")
	}
	n, ok := g.constant(v.Args[3], false)
	if !ok || n == 0 || n%4 != 0 || n > 512 {
		g.fail(v, "bpf_csum_diff: to_size must be a constant multiple of 4 from 4 to 512")
	}
	to := v.Args[2]
	fa := g.f.Facts[to.ID]
	if g.info[g.rootOf(to).ID].kind != kReg || fa == nil || fa.Ptr == nil || fa.Ptr.Kind != ir.PtrPkt {
		g.fail(v, "bpf_csum_diff: only a range of the packet is supported")
	}
	acc := isa.GPRA(regScratchB)
	a.emit(isa.Mov(acc, g.src(v.Args[4], false, right, limU)))
	words := int(n / 4)
	for w := 0; w < words; w += csumChunk {
		cnt := min(csumChunk, words-w)
		off := g.offOperand(int64(4 * w))
		a.emit(isa.Cmd(isa.TargetMU, "read32_swap", 0, g.src(to, false, left, limU), off, isa.Mode32, cnt, isa.CtxSwapWait))
		for i := 0; i < cnt; i++ {
			op := isa.OpAddCarry
			if i == 0 {
				op = isa.OpAdd
			}
			a.emit(isa.ALU(acc, acc, op, isa.Xfer(i)))
		}
		a.emit(isa.ALU(acc, acc, isa.OpAddCarry, isa.Imm(0)), isa.ALU(acc, acc, isa.OpAddCarry, isa.Imm(0)))
	}
	// csum_from32to16: (acc + rotr(acc, 16)) >> 16.
	t := isa.GPRB(regScratchA)
	a.emit(isa.ALU(t, acc, isa.OpOr, isa.Imm(0)),
		isa.Shf(t, isa.None, isa.ShfB, t, isa.ShiftRotR, 16),
		isa.ALU(t, acc, isa.OpAdd, t))
	if g.info[v.ID].kind != kReg {
		return
	}
	a.emit(isa.Shf(g.dlo(v), isa.None, isa.ShfB, t, isa.ShiftR, 16))
	if dh := g.dhi(v); !dh.IsNone() {
		a.emit(isa.Immed(dh, 0))
	}
}
