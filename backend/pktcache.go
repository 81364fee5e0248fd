package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// Packet read grouping (the JIT's packet cache, nfp-isa.md §6 item 7, done
// per block): consecutive loads through the same packet pointer whose
// bytes fall in one window of at most 8 words share one read32_swap into
// $xfer_8…15, issued at the first of them; the others only extract their
// bytes. Each command costs a context swap (16 cycles in the model when
// back to back), so a header parsed field by field gets much cheaper. A
// group ends at anything that may change the packet or the transfer
// registers (packet stores, helper calls) and at a load
// that does not fit it; loads that would straddle two words of the window
// start a new group.
type pktGroup struct {
	start int64 // packet offset of $xfer_8's first byte
	words int
}

const groupXfer = 8

// groupPacketLoads fills g.groups for every packet load that shares a read.
func (g *gen) groupPacketLoads() {
	g.groups = map[*ir.Value]*pktGroup{}
	for _, b := range g.f.Blocks {
		var cur *pktGroup
		var base *ir.Value
		var members []*ir.Value
		flush := func() {
			if len(members) > 1 {
				for _, m := range members {
					g.groups[m] = cur
				}
			}
			cur, base, members = nil, nil, nil
		}
		for _, v := range b.Instrs {
			if v.Region == ir.RegionPkt && isLoad(v.Op) && g.info[v.ID].kind == kReg {
				r := g.rootOf(v.Args[0])
				size := int64(v.Op.Info().Size)
				if cur != nil && r == base && v.Imm >= cur.start {
					rel := v.Imm - cur.start
					lane := rel % 4
					end := rel + size
					if (size == 8 && lane == 0 || lane+size <= 4) && end <= 32 {
						if w := int((end + 3) / 4); w > cur.words {
							cur.words = w
						}
						members = append(members, v)
						continue
					}
				}
				flush()
				cur = &pktGroup{start: v.Imm, words: int((size + 3) / 4)}
				base = r
				members = []*ir.Value{v}
				continue
			}
			// Stack and map value accesses leave the packet and $xfer_8…
			// alone; packet stores, helpers and calls may not.
			if isStore(v.Op) && (v.Region == ir.RegionPkt || v.Region == ir.RegionAny) || v.Op == ir.OpCall || v.Op == ir.OpCallFn {
				flush()
			}
		}
		flush()
	}
}

// groupedLoad lowers a member of a packet read group; false if v is not in
// one.
func (g *gen) groupedLoad(v *ir.Value) bool {
	grp := g.groups[v]
	if grp == nil {
		return false
	}
	if g.groupIssued != grp {
		off := g.offOperand(grp.start)
		g.a.emit(isa.Cmd(isa.TargetMU, "read32_swap", groupXfer, g.src(v.Args[0], false, left, limU), off, isa.Mode32, grp.words, isa.CtxSwapWait))
		g.groupIssued = grp
	}
	rel := v.Imm - grp.start
	k := groupXfer + int(rel/4)
	g.extract(v, v.Op.Info().Size, int(rel%4), isa.Xfer(k), isa.Xfer(k+1))
	return true
}
