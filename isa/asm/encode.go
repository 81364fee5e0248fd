package asm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
)

// Filler values for fields the text does not show. They are what
// Netronome's assembler writes (checked against the firmware corpora), so
// that assembling objdump's text of a real image gives back its words.
const (
	hiddenSrc10  = isa.Opnd10(0x300) // alu's unprinted A operand (B, ~B): constant 0
	hiddenSpec10 = isa.Opnd10(0)     // unprinted operands of pop_count, ffs, cam_*: gpr 0
	hiddenDst10  = isa.NoDst10       // "--" destination
	hiddenSrc8   = isa.Opnd8(0)      // unprinted restricted operand: gpr 0
	hiddenDst8   = isa.NoDst8        // "--" restricted destination
)

// encoder turns one parsed instruction into an isa.Instr.
type encoder struct {
	mode   isa.Mode
	in     *instr
	target func(a *arg) (int, error) // resolves a branch target
	style  Style
	labels map[string]int
	// relocOK allows load-time targets (@out(…), …) in this instruction;
	// reloc is the one found, subst what the disassembler prints for it.
	relocOK bool
	reloc   *Reloc
	subst   map[string]string
}

// posError is an error at a place in the source line.
type posError struct {
	col int
	msg string
}

func (e *posError) Error() string { return e.msg }

func (e *encoder) errAt(a *arg, format string, args ...any) error {
	col := e.in.Pos.Column
	if a != nil {
		col = a.Pos.Column
	}
	return &posError{col: col, msg: fmt.Sprintf(format, args...)}
}

func (e *encoder) errf(format string, args ...any) error { return e.errAt(nil, format, args...) }

// nargs checks the argument count.
func (e *encoder) nargs(n ...int) error {
	for _, k := range n {
		if len(e.in.Args) == k {
			return nil
		}
	}
	want := fmt.Sprint(n[0])
	if len(n) > 1 {
		want = fmt.Sprintf("%d or %d", n[0], n[1])
	}
	return e.errf("%s takes %s operands, not %d", e.in.Mnem, want, len(e.in.Args))
}

func (e *encoder) argText(i int) string { return e.in.Args[i].Text }

// modifiers collects the `, name` / `, name[args]` items after the
// brackets, refusing any the instruction does not know.
type modifiers map[string]*mod

func (e *encoder) mods(allowed ...string) (modifiers, error) {
	ms := modifiers{}
	for _, m := range e.in.Mods {
		ok := false
		for _, a := range allowed {
			ok = ok || a == m.Name
		}
		if !ok {
			return nil, &posError{col: m.Pos.Column, msg: fmt.Sprintf("%s does not take modifier %q", e.in.Mnem, m.Name)}
		}
		if _, dup := ms[m.Name]; dup {
			return nil, &posError{col: m.Pos.Column, msg: fmt.Sprintf("modifier %q given twice", m.Name)}
		}
		ms[m.Name] = m
	}
	return ms, nil
}

// flags reads the ALU-family modifiers no_cc, gpr_wrboth, predicate_cc.
func (ms modifiers) flags() isa.Flags {
	var f isa.Flags
	if ms["no_cc"] != nil {
		f |= isa.FlagNoCC
	}
	if ms["gpr_wrboth"] != nil {
		f |= isa.FlagWrBoth
	}
	if ms["predicate_cc"] != nil {
		f |= isa.FlagPredCC
	}
	return f
}

// modNum reads the single number of a modifier such as defer[2].
func (e *encoder) modNum(m *mod, max int) (int, error) {
	if m == nil {
		return 0, nil
	}
	if len(m.Args) != 1 {
		return 0, &posError{col: m.Pos.Column, msg: fmt.Sprintf("%s[] takes one number", m.Name)}
	}
	v, err := strconv.Atoi(m.Args[0].Text)
	if err != nil || v < 0 || v > max {
		return 0, e.errAt(m.Args[0], "%s[%s]: want a number 0..%d", m.Name, m.Args[0].Text, max)
	}
	return v, nil
}

// dst10 encodes a destination: "--", or an operand printed in bank A (DstB
// clear) or B, with or without the LM extension.
func (e *encoder) dst10(a *arg) (f isa.Opnd10, dstB, lm bool, err error) {
	if a.Text == "--" {
		return hiddenDst10, false, false, nil
	}
	for _, c := range [4]struct{ b, lm bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		if f, ok := lookup10(e.mode, bankOf(c.b), c.lm, a.Text); ok {
			return f, c.b, c.lm, nil
		}
	}
	return 0, false, false, e.errAt(a, "%q is not a destination operand", a.Text)
}

func (e *encoder) dst8(a *arg) (f isa.Opnd8, dstB, lm bool, err error) {
	if a.Text == "--" {
		return hiddenDst8, false, false, nil
	}
	for _, c := range [4]struct{ b, lm bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		if f, ok := lookup8(e.mode, bankOf(c.b), c.lm, false, a.Text); ok {
			return f, c.b, c.lm, nil
		}
	}
	return 0, false, false, e.errAt(a, "%q is not a restricted destination operand", a.Text)
}

func bankOf(b bool) isa.Bank {
	if b {
		return isa.BankB
	}
	return isa.BankA
}

// pair10 encodes the two printed sources of an A/B instruction. left is
// printed from the A field (or the B field when swapped) in its bank, right
// from the other; nil means not printed. It returns the raw fields.
func (e *encoder) pair10(left, right *arg) (a, b isa.Opnd10, swap, lm bool, err error) {
	return e.pair10h(left, right, e.fill10())
}

// fill10 is the filler of an unprinted unrestricted source in alu and
// mul_step: Netronome's constant 0 (0x300), or the kernel JIT's field 0.
func (e *encoder) fill10() isa.Opnd10 {
	if e.style == StyleKernel {
		return 0
	}
	return hiddenSrc10
}

// pair10h is pair10 with the filler for an unprinted operand.
func (e *encoder) pair10h(left, right *arg, hidden isa.Opnd10) (a, b isa.Opnd10, swap, lm bool, err error) {
	return e.pair10o(left, right, hidden, false)
}

// pair10o is pair10h trying the swapped placement first when preferSwap.
func (e *encoder) pair10o(left, right *arg, hidden isa.Opnd10, preferSwap bool) (a, b isa.Opnd10, swap, lm bool, err error) {
	order := []bool{false, true}
	if preferSwap {
		order = []bool{true, false}
	}
	for _, sw := range order {
		for _, l := range []bool{false, true} {
			lf, rf := hidden, hidden
			okL, okR := true, true
			lb, rb := isa.BankA, isa.BankB
			if sw {
				lb, rb = isa.BankB, isa.BankA
			}
			if left != nil {
				lf, okL = lookup10(e.mode, lb, l, left.Text)
			}
			if right != nil {
				rf, okR = lookup10(e.mode, rb, l, right.Text)
			}
			if okL && okR {
				if sw {
					return rf, lf, true, l, nil
				}
				return lf, rf, false, l, nil
			}
		}
	}
	return 0, 0, false, false, e.pairError(left, right, "unrestricted")
}

func (e *encoder) pairError(left, right *arg, kind string) error {
	for _, a := range []*arg{left, right} {
		if a == nil {
			continue
		}
		found := false
		for _, b := range []isa.Bank{isa.BankA, isa.BankB} {
			for _, lm := range []bool{false, true} {
				if kind == "unrestricted" {
					_, ok := lookup10(e.mode, b, lm, a.Text)
					found = found || ok
				} else {
					for _, i8 := range []bool{false, true} {
						_, ok := lookup8(e.mode, b, lm, i8, a.Text)
						found = found || ok
					}
				}
			}
		}
		if !found {
			return e.errAt(a, "%q is not an %s source operand", a.Text, kind)
		}
	}
	if left != nil && right != nil {
		return e.errAt(left, "operands %s and %s cannot be encoded together (both read the same register bank, or two LM pointers of different groups)", left.Text, right.Text)
	}
	return e.errf("operands cannot be encoded")
}

// pair8 is pair10 for restricted fields, which share an imm8-MSB bit.
func (e *encoder) pair8(left, right *arg, leftLM, rightLM bool) (a, b isa.Opnd8, swap, lmL, lmR, i8 bool, err error) {
	for _, sw := range []bool{false, true} {
		for _, msb := range []bool{false, true} {
			for _, lm := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				if (!leftLM && lm[0]) || (!rightLM && lm[1]) {
					continue
				}
				lf, rf := hiddenSrc8, hiddenSrc8
				okL, okR := true, true
				lb, rb := isa.BankA, isa.BankB
				if sw {
					lb, rb = isa.BankB, isa.BankA
				}
				if left != nil {
					lf, okL = lookup8(e.mode, lb, lm[0], msb, left.Text)
				}
				if right != nil {
					rf, okR = lookup8(e.mode, rb, lm[1], msb, right.Text)
				}
				if okL && okR {
					if sw {
						return rf, lf, true, lm[0], lm[1], msb, nil
					}
					return lf, rf, false, lm[0], lm[1], msb, nil
				}
			}
		}
	}
	return 0, 0, false, false, false, false, e.pairError(left, right, "restricted")
}

func lmFlags(src, dst bool) isa.Flags {
	var f isa.Flags
	if src {
		f |= isa.FlagSrcLMExt
	}
	if dst {
		f |= isa.FlagDstLMExt
	}
	return f
}

// isGPR reports a general-purpose register, relative or absolute.
func isGPR(s string) bool {
	s = strings.TrimPrefix(s, "@")
	return strings.HasPrefix(s, "gprA_") || strings.HasPrefix(s, "gprB_")
}
