package lift

import (
	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/ir"
)

type value = ir.Value

// variable is an SSA variable of the construction: a register (0–10) or a
// promoted stack slot (numStackBase + slot index, slot index = -off/8).
type variable int

const numStackBase variable = 16

func slotVar(off int64) variable { return numStackBase + variable(-off/8) }

// undefMark is written to a variable to say "undefined from here on" (r1–r5
// after a call); reading it gives the function's undef value.
var undefMark = &ir.Value{ID: -1}

// phi is a block parameter under construction: one operand per
// predecessor edge, resolved once every block is sealed.
type phi struct {
	v    *ir.Value
	x    variable
	bb   *bblock
	ops  []*ir.Value
	dead bool
}

func (l *funcLifter) write(x variable, bb *bblock, v *ir.Value) { bb.defs[x] = v }

// read is readVariable of Braun et al.
func (l *funcLifter) read(x variable, bb *bblock) *ir.Value {
	if v, ok := bb.defs[x]; ok {
		if v == undefMark {
			return l.undefValue()
		}
		return v
	}
	var v *ir.Value
	switch {
	case !bb.sealed:
		v = l.newPhi(bb, x)
		bb.incomplete[x] = v
	case len(bb.preds) == 0:
		v = l.entryDef(x)
	case len(bb.preds) == 1:
		v = l.read(x, bb.preds[0].from)
	default:
		v = l.newPhi(bb, x)
		l.write(x, bb, v)
		l.addOperands(x, l.phiOf[v])
	}
	l.write(x, bb, v)
	return v
}

// entryDef is a variable's value at the function's entry: its arguments
// and frame pointer are defined there, everything else is undefined.
func (l *funcLifter) entryDef(x variable) *ir.Value {
	return l.undefValue()
}

func (l *funcLifter) newPhi(bb *bblock, x variable) *ir.Value {
	v := bb.b.AddParam(ir.I64)
	p := &phi{v: v, x: x, bb: bb}
	l.phis = append(l.phis, p)
	l.phiOf[v] = p
	return v
}

func (l *funcLifter) addOperands(x variable, p *phi) {
	for _, e := range p.bb.preds {
		p.ops = append(p.ops, l.read(x, e.from))
	}
}

// seal is sealBlock of Braun et al.: every predecessor is filled, so the
// incomplete phis can get their operands.
func (l *funcLifter) seal(bb *bblock) {
	if bb.sealed {
		return
	}
	bb.sealed = true
	// Deterministic order: by parameter position.
	for _, v := range bb.b.Params {
		for x, iv := range bb.incomplete {
			if iv == v {
				l.addOperands(x, l.phiOf[v])
			}
		}
	}
	bb.incomplete = nil
}

// undefValue is the function's single undef, placed first in the entry.
func (l *funcLifter) undefValue() *ir.Value {
	if l.undef == nil {
		entry := l.f.Entry()
		v := l.f.NewValue(ir.OpUndef, ir.I64)
		v.Block = entry
		entry.Instrs = append([]*ir.Value{v}, entry.Instrs...)
		l.undef = v
	}
	return l.undef
}

// resolve follows replacements of removed phis.
func (l *funcLifter) resolve(v *ir.Value) *ir.Value {
	for {
		r, ok := l.replace[v]
		if !ok {
			return v
		}
		v = r
	}
}

// finish removes trivial phis (all operands the same value, or the phi
// itself), then turns the remaining ones into block parameters with their
// arguments on each incoming edge, and renames every use.
func (l *funcLifter) finish() {
	for changed := true; changed; {
		changed = false
		for _, p := range l.phis {
			if p.dead {
				continue
			}
			var same *ir.Value
			trivial := true
			for _, op := range p.ops {
				op = l.resolve(op)
				if op == p.v || op == same {
					continue
				}
				if same != nil {
					trivial = false
					break
				}
				same = op
			}
			if !trivial {
				continue
			}
			if same == nil {
				same = l.undefValue()
			}
			l.replace[p.v] = same
			p.dead = true
			changed = true
		}
	}
	for _, bb := range l.blocks {
		if bb.b == nil {
			continue
		}
		live := bb.b.Params[:0]
		for _, v := range bb.b.Params {
			if p := l.phiOf[v]; p == nil || !p.dead {
				live = append(live, v)
			}
		}
		bb.b.Params = live
	}
	for _, p := range l.phis {
		if p.dead {
			continue
		}
		for i, e := range p.bb.preds {
			t := e.from.b.Terminator()
			t.Targets[e.idx].Args = append(t.Targets[e.idx].Args, l.resolve(p.ops[i]))
		}
	}
	for _, b := range l.f.Blocks {
		for _, v := range b.Instrs {
			for i, a := range v.Args {
				v.Args[i] = l.resolve(a)
			}
			for _, t := range v.Targets {
				for i, a := range t.Args {
					t.Args[i] = l.resolve(a)
				}
			}
		}
	}
}

// registers of eBPF as variables.
func reg(r asm.Register) variable { return variable(r) }

// sweepable ops are the ones the lifter emits on speculation (constants,
// width conversions, the frame pointer, undef); those left without a use
// are removed so the IR carries no lifting noise. Everything else, dead or
// not, is the program's and is left to the passes.
var sweepable = map[ir.Op]bool{ir.OpConst: true, ir.OpTrunc: true, ir.OpZext: true, ir.OpFP: true, ir.OpUndef: true}

func (l *funcLifter) sweep() {
	for {
		uses := map[*ir.Value]int{}
		for _, b := range l.f.Blocks {
			for _, v := range b.Instrs {
				for _, a := range v.Args {
					uses[a]++
				}
				for _, t := range v.Targets {
					for _, a := range t.Args {
						uses[a]++
					}
				}
			}
		}
		removed := false
		for _, b := range l.f.Blocks {
			keep := b.Instrs[:0]
			for _, v := range b.Instrs {
				if sweepable[v.Op] && uses[v] == 0 {
					delete(l.f.Facts, v.ID)
					removed = true
					continue
				}
				keep = append(keep, v)
			}
			b.Instrs = keep
		}
		if !removed {
			return
		}
	}
}
