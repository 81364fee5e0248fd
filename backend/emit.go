package backend

import (
	"fmt"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// label names a code address that is known only once everything is laid
// out: a block's first word, a branch trampoline, the outro.
type label int

// item is one word of code before layout: an instruction, or a branch whose
// target is a label (resolved in finish) or fixed at load (a relocation).
type item struct {
	in     isa.Instr
	br     bool     // a branch built in finish from cond/defer/target
	cond   isa.Cond // for br
	defer_ int
	target label
	reloc  image.RelocKind // load-time target kind (0: none)
	value  uint32          // the relocation's value, for helpers the id
	relLbl label           // for RelocBrGoOut/Abort: the label whose address is the value
	pc     int             // eBPF slot, or -1
	immRel bool            // immed[immDst, address of target]
	immDst isa.Operand
}

// asm collects the code of one program.
type asm struct {
	items  []item
	labels []int // label → word index (-1 until placed)
	pc     int   // the eBPF slot of the instruction being lowered
	// lmReady is the first item at which a pending ActLMAddr write is in
	// effect (3 instructions after local_csr_wr, nfp-isa.md §1.5); settle
	// fills the gap with nops before a use, a label or a branch, so other
	// work can take the slots first.
	lmReady int
}

// lmWrite records that an ActLMAddr write was just emitted.
func (a *asm) lmWrite() { a.lmReady = len(a.items) + 3 }

// settle makes the last ActLMAddr write take effect.
func (a *asm) settle() {
	for len(a.items) < a.lmReady {
		a.items = append(a.items, item{in: isa.Nop(), pc: a.pc})
	}
}

func (a *asm) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *asm) place(l label) {
	a.settle()
	a.labels[l] = len(a.items)
}

func (a *asm) emit(ins ...isa.Instr) {
	for _, in := range ins {
		a.items = append(a.items, item{in: in, pc: a.pc})
	}
}

// branch emits b<cond>[l].
func (a *asm) branch(c isa.Cond, l label, defer_ int) {
	a.settle()
	a.items = append(a.items, item{br: true, cond: c, target: l, defer_: defer_, pc: a.pc})
}

// reloc emits a branch whose target the loader fixes (exit, abort, helper).
func (a *asm) reloc(c isa.Cond, kind image.RelocKind, lbl label, value uint32, defer_ int) {
	if kind != image.RelocBrHelper {
		// The firmware's helpers run long after: pending writes are in
		// effect for them.
		a.settle()
	}
	a.items = append(a.items, item{br: true, cond: c, reloc: kind, relLbl: lbl, value: value, defer_: defer_, pc: a.pc, target: -1})
}

// finish resolves labels, encodes every word and returns the code,
// relocations and line table.
func (a *asm) finish() ([]uint64, []image.Reloc, []image.Line, error) {
	code := make([]uint64, len(a.items))
	var relocs []image.Reloc
	var lines []image.Line
	for i, it := range a.items {
		in := it.in
		if it.br {
			t := image.BranchRelocBase
			switch {
			case it.reloc == image.RelocBrHelper:
				t += int(it.value)
			case it.reloc != 0:
			default:
				t = a.labels[it.target]
				if t < 0 {
					return nil, nil, nil, fmt.Errorf("BUG: branch at .%d to an unplaced label", i)
				}
			}
			b := isa.Br(it.cond, t)
			b.Defer = uint8(it.defer_)
			in = b
			switch it.reloc {
			case 0:
				relocs = append(relocs, image.Reloc{Index: uint32(i), Kind: image.RelocBrRel})
			case image.RelocBrGoOut, image.RelocBrGoAbort:
				relocs = append(relocs, image.Reloc{Index: uint32(i), Kind: it.reloc, Value: uint32(a.labels[it.relLbl])})
			default:
				relocs = append(relocs, image.Reloc{Index: uint32(i), Kind: it.reloc, Value: it.value})
			}
		} else if it.immRel {
			in = isa.Immed(it.immDst, uint32(a.labels[it.target]))
			relocs = append(relocs, image.Reloc{Index: uint32(i), Kind: image.RelocImmedRel})
		} else if it.reloc != 0 {
			relocs = append(relocs, image.Reloc{Index: uint32(i), Kind: it.reloc, Value: it.value})
		}
		w, err := isa.Encode(in)
		if err != nil {
			txt, _ := isa.Text(in, isa.Options{Mode: isa.Ctx4})
			return nil, nil, nil, fmt.Errorf("BUG: word .%d (%s, eBPF slot %d): %v", i, txt, it.pc, err)
		}
		code[i] = uint64(w)
		pc := image.NoPC
		if it.pc >= 0 {
			pc = uint32(it.pc)
		}
		if n := len(lines); n == 0 || lines[n-1].PC != pc {
			lines = append(lines, image.Line{Addr: uint32(i), PC: pc})
		}
	}
	return code, relocs, lines, nil
}

// immedRel emits immed[dst, address of l] with a RELO_IMMED_REL relocation
// (a return address the firmware jumps to).
func (a *asm) immedRel(dst isa.Operand, l label) {
	a.items = append(a.items, item{immRel: true, immDst: dst, target: l, reloc: image.RelocImmedRel, pc: a.pc})
}
