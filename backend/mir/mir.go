// Package mir is the NFP backend's machine IR: the program's instructions
// in order, before layout, with branch targets as labels and load-time
// targets as relocation kinds. Instruction selection (package backend)
// builds it, the scheduler (backend/sched) rewrites it, and Encode lays it
// out into code words, relocations and the line table.
//
// Its text form is the NFP assembler's source (isa/asm): GNU objdump's
// instruction syntax, labels `L3:`, local branches `bne[L3]`, load-time
// targets `br[@out(L9)]`, `br[@helper(1)]`, `immed[gprB_0, @rel(L4)]`, and
// the eBPF slot of each word as a comment `; @12`. Print and Parse
// round-trip, so every stage can be tested from text.
//
// Selection names registers (the backend allocates SSA values before it,
// backend/alloc.go); AnalyzeWebs turns them back into virtual registers —
// webs, each in one bank — for allocation per bank after selection
// (webs.go, flow.go), and Rewrite/Recheck apply and check the result
// (rewrite.go).
package mir

import (
	"fmt"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// Label names a code address known only once the code is laid out: a
// block's first word, a trampoline, the outro.
type Label int

// Kind says what an Instr is.
type Kind uint8

const (
	Plain    Kind = iota // an instruction as it is (In)
	Branch               // b<Cond>[Target] or a load-time target (Reloc)
	ImmedRel             // immed[Dst, address of Target]: a return address
)

// Instr is one word of code before layout.
type Instr struct {
	Kind Kind
	In   isa.Instr // Plain
	// Branch: the condition, the defer slots and the target — a label, or
	// a load-time kind (Reloc) with its value (a helper id) or label (the
	// outro for RelocBrGoOut/GoAbort).
	Cond   isa.Cond
	Defer  int
	Target Label // Branch with Reloc == 0, ImmedRel
	Reloc  image.RelocKind
	Value  uint32
	RelLbl Label
	Dst    isa.Operand // ImmedRel
	PC     int         // eBPF slot, or -1
}

// Func is one program's code before layout.
type Func struct {
	Instrs []Instr
	// Labels maps a label to the index of the instruction it names (-1
	// until placed; len(Instrs) names the end).
	Labels []int
}

// NewLabel returns a label not yet placed.
func (f *Func) NewLabel() Label {
	f.Labels = append(f.Labels, -1)
	return Label(len(f.Labels) - 1)
}

// Place puts l at the next instruction.
func (f *Func) Place(l Label) { f.Labels[l] = len(f.Instrs) }

// Append adds instructions at the end.
func (f *Func) Append(ins ...Instr) { f.Instrs = append(f.Instrs, ins...) }

// LabelsAt returns, for every instruction index (and len(Instrs)), whether
// a label is placed there: a place control can arrive at from elsewhere.
func (f *Func) LabelsAt() []bool {
	at := make([]bool, len(f.Instrs)+1)
	for _, i := range f.Labels {
		if i >= 0 {
			at[i] = true
		}
	}
	return at
}

// DeferSlots marks the words that are defer slots of an earlier branch
// or memory command: they run before that branch transfers control (the
// command sleeps), so passes that move or delete words leave them be.
func (f *Func) DeferSlots() []bool {
	in := make([]bool, len(f.Instrs))
	for i := range f.Instrs {
		it := &f.Instrs[i]
		d := 0
		if it.Kind == Branch {
			d = it.Defer
		} else if c, ok := it.In.(isa.CmdInstr); ok && (c.Ctx == isa.CtxSwapDefer1 || c.Ctx == isa.CtxSwapDefer2) {
			d = int(c.Ctx)
		}
		for k := 1; k <= d && i+k < len(in); k++ {
			in[i+k] = true
		}
	}
	return in
}

// Delete removes the instructions whose del entry is true; labels placed
// at a removed instruction move to the next kept one.
func (f *Func) Delete(del []bool) {
	newIdx := make([]int, len(f.Instrs)+1)
	n := 0
	for i := range f.Instrs {
		newIdx[i] = n
		if !del[i] {
			f.Instrs[n] = f.Instrs[i]
			n++
		}
	}
	newIdx[len(f.Instrs)] = n
	f.Instrs = f.Instrs[:n]
	for l, i := range f.Labels {
		if i >= 0 {
			f.Labels[l] = newIdx[i]
		}
	}
}

// Encode lays the code out: labels become word indices, every word is
// encoded, and the relocations and the line table (word → eBPF slot) are
// returned.
func (f *Func) Encode() ([]uint64, []image.Reloc, []image.Line, error) {
	code := make([]uint64, len(f.Instrs))
	var relocs []image.Reloc
	var lines []image.Line
	addr := func(l Label) (int, error) {
		if int(l) < 0 || int(l) >= len(f.Labels) || f.Labels[l] < 0 {
			return 0, fmt.Errorf("label L%d is not placed", l)
		}
		return f.Labels[l], nil
	}
	for i := range f.Instrs {
		it := &f.Instrs[i]
		in := it.In
		var err error
		switch it.Kind {
		case Branch:
			in, err = f.branchWord(it, i, addr, &relocs)
		case ImmedRel:
			var t int
			t, err = addr(it.Target)
			in = isa.Immed(it.Dst, uint32(t))
			relocs = append(relocs, image.Reloc{Index: uint32(i), Kind: image.RelocImmedRel})
		default:
			if in == nil {
				err = fmt.Errorf("no instruction")
			} else if it.Reloc != 0 {
				relocs = append(relocs, image.Reloc{Index: uint32(i), Kind: it.Reloc, Value: it.Value})
			}
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("BUG: word .%d (eBPF slot %d): %v", i, it.PC, err)
		}
		w, err := isa.Encode(in)
		if err != nil {
			txt, _ := isa.Text(in, isa.Options{Mode: isa.Ctx4})
			return nil, nil, nil, fmt.Errorf("BUG: word .%d (%s, eBPF slot %d): %v", i, txt, it.PC, err)
		}
		code[i] = uint64(w)
		pc := image.NoPC
		if it.PC >= 0 {
			pc = uint32(it.PC)
		}
		if n := len(lines); n == 0 || lines[n-1].PC != pc {
			lines = append(lines, image.Line{Addr: uint32(i), PC: pc})
		}
	}
	return code, relocs, lines, nil
}

// branchWord builds a branch's word and records its relocation.
func (f *Func) branchWord(it *Instr, i int, addr func(Label) (int, error), relocs *[]image.Reloc) (isa.Instr, error) {
	t := image.BranchRelocBase
	var value uint32
	switch it.Reloc {
	case 0:
		a, err := addr(it.Target)
		if err != nil {
			return nil, err
		}
		t = a
	case image.RelocBrHelper:
		t += int(it.Value)
		value = it.Value
	case image.RelocBrGoOut, image.RelocBrGoAbort:
		a, err := addr(it.RelLbl)
		if err != nil {
			return nil, err
		}
		value = uint32(a)
	default:
		value = it.Value
	}
	b := isa.Br(it.Cond, t)
	b.Defer = uint8(it.Defer)
	kind := it.Reloc
	if kind == 0 {
		kind = image.RelocBrRel
	}
	*relocs = append(*relocs, image.Reloc{Index: uint32(i), Kind: kind, Value: value})
	return b, nil
}
