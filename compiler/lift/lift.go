// Package lift turns a loaded eBPF program into the SSA IR (package ir),
// one ir.Func per subprogram, annotated with what the verifier proved.
//
// SSA construction follows Braun et al., "Simple and Efficient Construction
// of Static Single Assignment Form" (CC 2013), directly over the eBPF CFG:
// registers r0–r10 and the stack slots the program uses as plain spills are
// the variables; block parameters take the place of phi nodes, and trivial
// ones are removed afterwards. 32-bit ALU ops work on i32 values that are
// zero-extended into the 64-bit register, as eBPF defines them, so that the
// NFP backend (a 32-bit machine) sees where 64-bit arithmetic is needed.
package lift

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/ir"
)

// Program lifts every function of prog: the entry first, then its
// subprograms in slot order. With facts from the verifier (may be nil), each
// value is annotated with the verifier's knowledge and blocks the verifier
// never reached become `unreachable`.
func Program(prog *loader.Program, facts Facts) (*ir.Module, error) {
	if prog == nil || len(prog.Insns) == 0 {
		return nil, fmt.Errorf("lift: empty program")
	}
	funcs := prog.Funcs
	if len(funcs) == 0 {
		funcs = []loader.Func{{Name: prog.Name, Slot: 0}}
	}
	// Slot of every instruction, and which function each slot starts.
	slots := make([]int, len(prog.Insns))
	s := 0
	for i, in := range prog.Insns {
		slots[i] = s
		s += int(in.Size() / asm.InstructionSize)
	}
	names := map[int]string{}
	arity := map[int]int{}
	for k, fn := range funcs {
		names[fn.Slot] = textName(fn.Name)
		arity[fn.Slot] = argCount(k == 0, fn.Slot, facts)
	}
	m := &ir.Module{}
	for k, fn := range funcs {
		end := s
		if k+1 < len(funcs) {
			end = funcs[k+1].Slot
		}
		l := &funcLifter{index: k, name: textName(fn.Name), main: k == 0, funcNames: names, arity: arity, res: facts}
		for i, in := range prog.Insns {
			if slots[i] >= fn.Slot && slots[i] < end {
				l.insns = append(l.insns, insn{Instruction: in, slot: slots[i]})
			}
		}
		f, err := l.lift()
		if err != nil {
			return nil, fmt.Errorf("lift %s: %w", prog.Name, err)
		}
		m.Funcs = append(m.Funcs, f)
	}
	if err := ir.CheckModule(m); err != nil {
		return nil, fmt.Errorf("BUG: lift %s produced invalid IR: %w", prog.Name, err)
	}
	return m, nil
}

// Facts is what the lifter needs from the verifier: per slot, whether any
// path reaches it, and the facts of each register before it. A nil Facts
// lifts without annotations.
type Facts interface {
	// Reachable reports whether the verifier reached slot pc.
	Reachable(pc int) bool
	// Reg is what holds of register r before slot pc.
	Reg(pc, r int) *ir.Facts
	// Written reports whether register r holds a value before slot pc on
	// every path.
	Written(pc, r int) bool
	// StackDepth is the deepest stack byte function k (index into
	// Program.Funcs) uses, if known.
	StackDepth(k int) (int, bool)
	// Region is the memory an access through register r at slot pc touches.
	Region(pc, r int) (ir.Region, bool)
}

// funcLifter lifts one function.
type funcLifter struct {
	index     int // in Program.Funcs
	name      string
	main      bool           // the program's entry (one argument, r1 = ctx) rather than a subprogram (r1–r5)
	funcNames map[int]string // first slot → function name, for BPF-to-BPF calls
	arity     map[int]int    // first slot → number of arguments
	res       Facts
	insns     []insn
	blocks    []*bblock
	stack     *stackInfo

	f       *ir.Func
	undef   *ir.Value
	ctx     *ir.Value // r1 at the entry of the main function
	phis    []*phi
	phiOf   map[*ir.Value]*phi
	replace map[*ir.Value]*ir.Value
	cur     *bblock
	pos     int // slot of the instruction being lifted
}

// textName makes a symbol name writable in the IR text: characters other
// than letters, digits, '_' and '.' become '_', and a name that would read
// as a number or a value or block name gets an "f_" prefix.
func textName(s string) string {
	if ir.ValidName(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			b[i] = '_'
		}
	}
	if n := string(b); ir.ValidName(n) {
		return n
	}
	return "f_" + string(b)
}

// argCount is how many of r1–r5 a function takes: 1 (the context) for
// the program, and for a subprogram the registers the verifier saw
// written at its entry on every path (a callee cannot read the others);
// all five without facts.
func argCount(main bool, slot int, facts Facts) int {
	if main {
		return 1
	}
	if facts == nil || !facts.Reachable(slot) {
		return ir.MaxCallArgs
	}
	n := 0
	for r := 1; r <= ir.MaxCallArgs; r++ {
		if !facts.Written(slot, r) {
			break
		}
		n = r
	}
	return n
}

func (l *funcLifter) reachable(pc int) bool { return l.res == nil || l.res.Reachable(pc) }

func (l *funcLifter) errf(in insn, format string, args ...any) error {
	return fmt.Errorf("pc %d (%v): %s", in.slot, in.Instruction, fmt.Sprintf(format, args...))
}
