package loader

import (
	"errors"
	"fmt"
	"math"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// link turns one program of cilium/ebpf — already flattened: the entry
// function first, every subprogram it reaches appended, each marked with its
// symbol, references still symbolic — into the kernel form of Program.Insns:
// map references become indices into Object.Maps, calls and function
// pointers become relative slot offsets.
func link(ps *ebpf.ProgramSpec, index map[string]int) (*Program, error) {
	insns := make(asm.Instructions, len(ps.Instructions))
	copy(insns, ps.Instructions)
	if len(insns) == 0 {
		return nil, errors.New("no instructions")
	}
	p := &Program{
		Name:    ps.Name,
		Section: ps.SectionName,
		Type:    ps.Type,
		License: ps.License,
		Insns:   insns,
	}

	// First pass: slot of every instruction and of every function start.
	slots := make([]int, len(insns))
	funcAt := map[string]int{}
	slot := 0
	for i, ins := range insns {
		slots[i] = slot
		if sym := ins.Symbol(); sym != "" {
			if _, dup := funcAt[sym]; dup {
				return nil, fmt.Errorf("function %s appears twice", sym)
			}
			funcAt[sym] = slot
			p.Funcs = append(p.Funcs, Func{Name: sym, Slot: slot})
		}
		slot += int(ins.Size() / asm.InstructionSize)
	}
	if len(p.Funcs) == 0 || p.Funcs[0].Slot != 0 {
		// cilium/ebpf marks the entry; without it nothing can be named.
		p.Funcs = append([]Func{{Name: ps.Name, Slot: 0}}, p.Funcs...)
		funcAt[ps.Name] = 0
	}

	// Second pass: resolve references.
	for i := range insns {
		ins := &insns[i]
		ref := ins.Reference()
		switch {
		case ins.Src == asm.PseudoKfuncCall && ins.OpCode.JumpOp() == asm.Call:
			return nil, p.errAt(slots[i], "call to kernel function %s: kfuncs are not supported", ref)

		case ins.IsFunctionReference() || (ins.OpCode.IsDWordLoad() && ins.Src == asm.PseudoFunc):
			// A BPF-to-BPF call, or the address of a callback function.
			if ref == "" {
				// A call whose target cilium/ebpf already made relative (no
				// relocation): keep it when it lands on a function start.
				if !ins.IsFunctionReference() {
					return nil, p.errAt(slots[i], "function pointer without a target")
				}
				tgt := slots[i] + 1 + int(ins.Constant)
				if !isFuncStart(p.Funcs, tgt) {
					return nil, p.errAt(slots[i], "call to pc %d, which starts no function", tgt)
				}
				continue
			}
			tgt, ok := funcAt[ref]
			if !ok {
				return nil, p.errAt(slots[i], "call to undefined function %q", ref)
			}
			ins.Constant = int64(tgt - (slots[i] + 1))

		case ins.OpCode.IsDWordLoad() && (ins.Src == asm.PseudoMapFD || ins.Src == asm.PseudoMapValue):
			if ref == "" {
				return nil, p.errAt(slots[i], "map load without a map")
			}
			idx, ok := index[ref]
			if !ok {
				return nil, p.errAt(slots[i], "reference to unknown map %q", ref)
			}
			if ins.Src == asm.PseudoMapFD {
				ins.Constant = int64(idx)
				break
			}
			// cilium/ebpf leaves the offset in the upper half.
			off := uint64(ins.Constant) >> 32
			if off > math.MaxUint32 {
				return nil, p.errAt(slots[i], "offset %d into %s out of range", off, ref)
			}
			ins.Constant = int64(uint64(idx) | off<<32)

		case ref != "":
			return nil, p.errAt(slots[i], "unresolved reference to %q (extern symbol?)", ref)
		}
	}
	return p, nil
}

// linkError is a failure at one instruction: Func and Off (bytes from the
// function's start) say where it is; LoadBytes turns them into the section
// and the offset in it.
type linkError struct {
	Func string
	Off  int
	Err  error
}

func (e *linkError) Error() string { return fmt.Sprintf("%s+%#x: %v", e.Func, e.Off, e.Err) }

func (e *linkError) Unwrap() error { return e.Err }

// errAt is an error at slot of p, placed in its function.
func (p *Program) errAt(slot int, format string, a ...any) error {
	fn := p.Funcs[0]
	for _, f := range p.Funcs {
		if f.Slot <= slot && f.Slot >= fn.Slot {
			fn = f
		}
	}
	return &linkError{Func: fn.Name, Off: (slot - fn.Slot) * asm.InstructionSize, Err: fmt.Errorf(format, a...)}
}

func isFuncStart(funcs []Func, slot int) bool {
	for _, f := range funcs {
		if f.Slot == slot {
			return true
		}
	}
	return false
}
