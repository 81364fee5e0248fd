package backend

import (
	"fmt"
	"strings"

	"github.com/nfpcc/nfpcc/ir"
)

// allocText is the allocation stage's output as text (Options.Dump's
// "alloc" stage, the goldens' `alloc` section): where each value the
// program defines lives, in IR order, after the figures of the whole
// function. One line a value:
//
//	v7 gpr 4            lower half in GPR 4 (both banks), upper known zero
//	v8 gpr 5 6          lower half in GPR 5, upper in GPR 6
//	v9 slot 8 +hi       spilled: the spill-area word at byte 8 (and 12)
//	v3 const 0x2a       a constant the instructions fold
//	v2 stack fp-8       an LM address, fp-relative
//	v5 alias v4         a zext/trunc sharing v4's registers
//	v1 ctx | mapref 0 | mapvalue 0+16 | folded | fused
//
// It is what the later stages read: selection asks for these locations
// and emits nothing else.
func (g *gen) allocText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "; %s: %d registers live at most, %d values spilled, %d spill bytes\n", g.f.Name, g.maxRegs, g.spilledValues, g.spillBytes)
	line := func(v *ir.Value) {
		if v.Type == ir.Void {
			return
		}
		in := g.info[v.ID]
		fmt.Fprintf(&b, "v%d ", v.ID)
		switch in.kind {
		case kReg:
			switch {
			case in.spilled:
				fmt.Fprintf(&b, "slot %d", in.slot)
				if !in.hiZero || g.wideDiv(v) {
					b.WriteString(" +hi")
				}
			case in.hi >= 0:
				fmt.Fprintf(&b, "gpr %d %d", in.lo, in.hi)
			default:
				fmt.Fprintf(&b, "gpr %d", in.lo)
			}
		case kConst:
			fmt.Fprintf(&b, "const %#x", in.c)
		case kStack:
			fmt.Fprintf(&b, "stack fp%+d", in.off)
		case kMapRef:
			fmt.Fprintf(&b, "mapref %d", in.c)
		case kMapValue:
			fmt.Fprintf(&b, "mapvalue %d%+d", in.c, in.off)
		case kCtx:
			b.WriteString("ctx")
		case kAlias:
			fmt.Fprintf(&b, "alias v%d", in.root.ID)
		case kFolded:
			b.WriteString("folded")
		case kFused:
			b.WriteString("fused")
		}
		b.WriteByte('\n')
	}
	for _, blk := range g.f.Blocks {
		for _, p := range blk.Params {
			line(p)
		}
		for _, v := range blk.Instrs {
			line(v)
		}
	}
	return b.String()
}
