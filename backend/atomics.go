package backend

import (
	"github.com/nfpcc/nfpcc/ir"
)

// checkAtomicWords refuses programs that use a map value word both through
// an atomic and through a plain load or store: the NFP's atomic engine
// keeps such words big-endian (the driver swaps them for the host), so a
// plain access would see the bytes reversed. The kernel's nfp verifier
// refuses the same programs (nfp-isa.md §2.12.5, §4.10).
func (g *gen) checkAtomicWords() {
	type use struct {
		words   map[int64]*ir.Value
		unknown *ir.Value
	}
	type uses struct{ atomic, plain use }
	per := map[int64]*uses{}
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			if v.Region != ir.RegionMapVal || len(v.Args) == 0 {
				continue
			}
			info := v.Op.Info()
			p := v.Args[0]
			mapIdx, off, known := int64(-1), int64(0), false
			if pi := g.info[g.rootOf(p).ID]; pi.kind == kMapValue {
				mapIdx, off, known = int64(pi.c), pi.off, true
			} else if fa := g.f.Facts[p.ID]; fa != nil {
				if fa.Map != nil {
					mapIdx = *fa.Map
				}
				if fa.Ptr != nil && fa.Ptr.MinOff == fa.Ptr.MaxOff {
					off, known = fa.Ptr.MinOff, true
				}
			}
			u := per[mapIdx]
			if u == nil {
				u = &uses{atomic: use{words: map[int64]*ir.Value{}}, plain: use{words: map[int64]*ir.Value{}}}
				per[mapIdx] = u
			}
			side, other := &u.plain, &u.atomic
			if v.Op.IsMemory() && !isLoad(v.Op) && !isStore(v.Op) {
				side, other = &u.atomic, &u.plain
			}
			if !known {
				side.unknown = v
				for _, o := range other.words {
					g.conflict(v, o, mapIdx)
				}
				if other.unknown != nil {
					g.conflict(v, other.unknown, mapIdx)
				}
				continue
			}
			if other.unknown != nil {
				g.conflict(v, other.unknown, mapIdx)
			}
			start := off + v.Imm
			for w := start >> 2; w <= (start+int64(info.Size)-1)>>2; w++ {
				if o := other.words[w]; o != nil {
					g.conflict(v, o, mapIdx)
				}
				side.words[w] = v
			}
		}
	}
}

func (g *gen) conflict(v, o *ir.Value, mapIdx int64) {
	g.fail(v, "%s and %s (eBPF slot %d) use a word of map %d's value both atomically and plainly; the NFP keeps atomic words big-endian",
		v.Op, o.Op, o.Pos, mapIdx)
}
