package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// Packet read grouping (the JIT's packet cache, nfp-isa.md §6 item 7, done
// along single-predecessor chains of blocks): consecutive loads through the same packet pointer whose
// bytes fall in one window of at most 16 words (64 bytes, as the JIT's
// cache) share one read32_swap into $xfer_8…23, issued at the first of
// them (through indirect_ref with a length override above 8 words: the
// command's own count field stops at 8); the others only extract their
// bytes. Each command costs a context swap (16 cycles in the model when
// back to back), so a header parsed field by field gets much cheaper. A
// group ends at anything that may change the packet or the transfer
// registers (packet stores, helper calls) and at a load
// that does not fit it. A load crossing words of the window takes them
// (extract: a dbl_shf per result word).
type pktGroup struct {
	start   int64 // packet offset of $xfer_8's first byte
	words   int
	issued  bool // the read has been emitted (at the first member)
	aligned bool // start is a word boundary of the packet
}

const (
	groupXfer = 8
	// maxWindow is a group's largest read in bytes; directWindow the
	// largest a read32 command's count field gives without an override.
	maxWindow, directWindow = 64, 32
	// prevReadLen is the PREV_ALU word that overrides a command's length
	// (ov_len, length in bits 12:8 as words − 1; nfp-isa.md §2.12.4).
	prevReadLen = 1 << 7
)

// groupPacketLoads fills g.groups for every packet load that shares a read.
// A group open at the end of a block continues into a successor whose
// predecessors all end with it open (a join of paths that all read the
// window): there the read has happened on every path, and nothing else
// wrote the transfer registers.
func (g *gen) groupPacketLoads() {
	g.groups = map[*ir.Value]*pktGroup{}
	g.baseOff = map[*ir.Value]int64{}
	members := map[*pktGroup][]*ir.Value{}
	type open struct {
		grp  *pktGroup
		base *ir.Value
	}
	atEnd := map[*ir.Block]open{}
	done := map[*ir.Block]bool{}
	preds := g.f.Preds()
	for _, b := range g.f.Blocks {
		// A group open at the end of every predecessor (all laid out
		// before b: no back edge) is open in b: the read happened on
		// every path into it and nothing wrote the transfer registers.
		var cur open
		for i, p := range preds[b] {
			if !done[p] || atEnd[p].grp == nil || i > 0 && atEnd[p] != cur {
				cur = open{}
				break
			}
			cur = atEnd[p]
		}
		for _, v := range b.Instrs {
			if v.Region == ir.RegionPkt && isLoad(v.Op) && g.info[v.ID].kind == kReg {
				r, extra := g.pktBase(v.Args[0])
				imm := v.Imm + extra // the load's offset from r
				g.baseOff[v] = extra
				size := int64(v.Op.Info().Size)
				if grp := cur.grp; grp != nil && r == cur.base {
					start := grp.start
					if imm < start && grp.aligned {
						// An aligned window may start earlier: lanes stay.
						start -= (start - imm + 3) &^ 3
					}
					if imm >= start {
						rel := imm - start
						end := max(rel+size, grp.start-start+int64(grp.words)*4)
						if end <= maxWindow {
							grp.start = start
							grp.words = int((end + 3) / 4)
							members[grp] = append(members[grp], v)
							continue
						}
					}
				}
				// Where the verifier fixed the pointer's offset in the packet
				// (whose data starts 4-byte aligned), the window starts at a
				// word boundary, so loads below it can join later.
				grp := &pktGroup{start: imm}
				if fa := g.f.Facts[r.ID]; fa != nil && fa.Ptr != nil && fa.Ptr.Kind == ir.PtrPkt && fa.Ptr.MinOff == fa.Ptr.MaxOff {
					abs := fa.Ptr.MinOff + imm
					if abs >= 0 {
						grp.start, grp.aligned = imm-abs%4, true
					}
				}
				rel := imm - grp.start
				grp.words = int((rel + size + 3) / 4)
				cur = open{grp, r}
				members[grp] = []*ir.Value{v}
				continue
			}
			// Stack and map value accesses leave the packet and $xfer_8…
			// alone; packet stores, helpers and calls may not.
			if isStore(v.Op) && (v.Region == ir.RegionPkt || v.Region == ir.RegionAny) || v.Op == ir.OpCall || v.Op == ir.OpCallFn {
				cur = open{}
			}
		}
		atEnd[b] = cur
		done[b] = true
	}
	for grp, ms := range members {
		if len(ms) > 1 {
			for _, m := range ms {
				g.groups[m] = grp
			}
		}
	}
}

// pktBase walks a packet pointer back through additions of constants
// (`v92 = add64 v90, 4`) to the pointer they start from, so that loads
// through p, p+4 and p+8 share one window: it returns that pointer and the
// constant added to it.
func (g *gen) pktBase(p *ir.Value) (*ir.Value, int64) {
	var off int64
	for {
		p = g.rootOf(p)
		if p.Op != ir.OpAdd64 || g.info[p.ID].kind != kReg {
			return p, off
		}
		c := g.info[p.Args[1].ID]
		if c.kind != kConst || int64(c.c) < -(1<<16) || int64(c.c) > 1<<16 {
			return p, off
		}
		off += int64(c.c)
		p = p.Args[0]
	}
}

// groupedLoad lowers a member of a packet read group; false if v is not in
// one.
func (g *gen) groupedLoad(v *ir.Value) bool {
	grp := g.groups[v]
	if grp == nil {
		return false
	}
	extra := g.baseOff[v] // v's pointer is the group's base + extra
	if !grp.issued {
		// The first member in layout order is the first on every path:
		// later ones are in its block or in blocks it alone leads to.
		// Its pointer addresses the window (the base may be dead here).
		off := g.offOperand(grp.start - extra)
		ptr := g.src(v.Args[0], false, left, limU)
		if grp.words*4 <= directWindow {
			g.a.emit(isa.Cmd(isa.TargetMU, "read32_swap", groupXfer, ptr, off, isa.Mode32, grp.words, isa.CtxSwapWait))
		} else {
			// The length travels in the previous ALU result, built in
			// A21 (the operands use A20 and B21) right before.
			g.a.emit(isa.Immed(isa.GPRA(regScratchB), prevReadLen|uint32(grp.words-1)<<8))
			cmd := isa.Cmd(isa.TargetMU, "read32_swap", groupXfer, ptr, off, isa.Mode32, 8, isa.CtxSwapWait)
			cmd.Indirect = true
			g.a.emit(cmd)
		}
		grp.issued = true
	}
	rel := v.Imm + extra - grp.start
	k := groupXfer + int(rel/4)
	g.extract(v, v.Op.Info().Size, int(rel%4), isa.Xfer(k), isa.Xfer(k+1))
	return true
}
