package isa_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/testsuite"
)

// viewGPRs lists the GPRs an instruction reads and writes through the
// typed views (Sources, Dest, Operands, …): a second reading of the
// fields GPRs decodes, as "R A5" / "W B3" / "W AB7" strings.
func viewGPRs(in isa.Instr) []string {
	var out []string
	add := func(rw string, o isa.Operand) {
		if o.Kind != isa.KGPR {
			return
		}
		b := map[isa.Bank]string{isa.BankA: "A", isa.BankB: "B", isa.BankBoth: "AB"}[o.Bank]
		out = append(out, fmt.Sprintf("%s %s%d", rw, b, o.Num))
	}
	m := isa.Ctx4
	switch i := in.(type) {
	case isa.ALUInstr:
		l, r := i.Sources(m)
		if i.Op != isa.OpB && i.Op != isa.OpNotB {
			add("R", l)
		}
		add("R", r)
		add("W", i.Dest(m))
	case isa.ShfInstr:
		l, r := i.Sources(m)
		if i.Op != isa.ShfAsr && (i.Op >= 2 || i.SC == isa.ShiftDbl) {
			add("R", l)
		}
		add("R", r)
		add("W", i.Dest(m))
	case isa.LdFieldInstr:
		d, s := i.Operands(m)
		add("R", s)
		if !i.Clear {
			rd := d
			if rd.Bank == isa.BankBoth {
				rd.Bank = isa.BankA
				if i.Swap {
					rd.Bank = isa.BankB
				}
			}
			add("R", rd)
		}
		add("W", d)
	case isa.ImmedInstr:
		d := i.Dest(m)
		if i.Width != isa.WidthAll && d.Kind == isa.KGPR {
			rd := d
			if rd.Bank == isa.BankBoth {
				rd.Bank = isa.BankA
				if i.A.IsImm() {
					rd.Bank = isa.BankB
				}
			}
			add("R", rd)
		}
		add("W", d)
	case isa.CSRInstr:
		if i.Write {
			// Both fields are read; a register sits in one of them.
			add("R", i.A.Operand(isa.BankA, false, m))
			add("R", i.B.Operand(isa.BankB, false, m))
		}
	case isa.BrByteInstr:
		r, v := i.Operands(m)
		add("R", r)
		add("R", v)
	case isa.BrBitInstr:
		add("R", i.A.Operand(isa.BankA, false, false, m))
		add("R", i.B.Operand(isa.BankB, false, false, m))
	case isa.CmdInstr:
		a, b := i.Operands(m)
		add("R", a)
		add("R", b)
	case isa.MulInstr:
		x, y := i.Operands(m)
		if i.Step >= isa.MulLast {
			add("W", x)
		} else {
			add("R", x)
			add("R", y)
		}
	case isa.JumpInstr:
		add("R", i.A.Operand(isa.BankA, false, m))
		add("R", i.B.Operand(isa.BankB, false, m))
	}
	slices.Sort(out)
	return out
}

func refStrings(refs []isa.GPRRef) []string {
	var out []string
	for _, r := range refs {
		b := map[isa.Bank]string{isa.BankA: "A", isa.BankB: "B", isa.BankBoth: "AB"}[r.Bank]
		if r.Read {
			out = append(out, fmt.Sprintf("R %s%d", b, r.Num))
		}
		if r.Write {
			out = append(out, fmt.Sprintf("W %s%d", b, r.Num))
		}
	}
	slices.Sort(out)
	return out
}

// regWords are binutils' test1 words (every format, both banks, swapped
// operands) and words the backend's constructors build.
func regWords(t *testing.T) []isa.Instr {
	dir := testsuite.Corpus(t, "binutils-nfp")
	var ins []isa.Instr
	for _, s := range readSections(t, filepath.Join(dir, "test1_nfp6000.nffw")) {
		for _, w := range s.Words {
			ins = append(ins, isa.Decode(w))
		}
	}
	return append(ins,
		isa.ALU(isa.GPRBoth(3), isa.GPRB(4), isa.OpAdd, isa.GPRA(5)),
		isa.Shf(isa.GPRB(2), isa.GPRA(6), isa.ShfOr, isa.GPRB(7), isa.ShiftL, 4),
		isa.LdField(isa.GPRBoth(9), 0x3, isa.GPRB(10), isa.ShiftR, 8, false),
		isa.LdField(isa.GPRB(9), 0x3, isa.GPRA(10), isa.ShiftR, 8, true),
		isa.ImmedW(isa.GPRBoth(11), 0x1234, 1),
		isa.Immed(isa.GPRB(12), 0x55),
		isa.CSRWrite(isa.CSRActLMAddr0, isa.GPRB(13)),
		isa.BrByte(isa.GPRA(14), 1, 0x22, true, 5),
		isa.BrBit(isa.GPRB(15), 3, true, 5),
		isa.MulStepOp(isa.GPRA(16), isa.GPRB(17), isa.Mul32x32, isa.MulStep2),
		isa.MulResult(isa.GPRBoth(18), isa.Mul32x32, true),
	)
}

// TestGPRs: GPRs lists what the typed views read and write; renaming a
// field to its own number changes no bit, to another number changes that
// operand only; NarrowDest leaves one bank written.
func TestGPRs(t *testing.T) {
	checked := 0
	defer func() {
		if checked < 500 {
			t.Errorf("only %d register references checked", checked)
		}
	}()
	for k, in := range regWords(t) {
		refs, ok := isa.GPRs(in)
		if !ok {
			continue
		}
		txt, _ := isa.Text(in, isa.Options{Mode: isa.Ctx4})
		if got, want := refStrings(refs), viewGPRs(in); !slices.Equal(got, want) {
			t.Errorf("word %d %s: GPRs %v, views %v", k, txt, got, want)
			continue
		}
		w0, err := isa.Encode(in)
		if err != nil {
			continue
		}
		for j, r := range refs {
			checked++
			if w, err := isa.Encode(isa.SetGPR(in, r.Field, r.Num)); err != nil || w != w0 {
				t.Errorf("word %d %s: renaming %v to itself changed the word", k, txt, r)
			}
			moved := isa.SetGPR(in, r.Field, (r.Num+5)%32)
			got, _ := isa.GPRs(moved)
			for jj, g := range got {
				want := refs[jj]
				if want.Field == r.Field {
					want.Num = (r.Num + 5) % 32
				}
				if g != want {
					t.Errorf("word %d %s: after renaming ref %d: %v, want %v", k, txt, j, g, want)
				}
			}
		}
		for _, r := range refs {
			if !r.Write || r.Bank != isa.BankBoth {
				continue
			}
			for _, b := range []isa.Bank{isa.BankA, isa.BankB} {
				n, ok := isa.NarrowDest(in, b)
				if !ok {
					continue
				}
				got, _ := isa.GPRs(n)
				var w *isa.GPRRef
				for i := range got {
					if got[i].Write {
						w = &got[i]
					}
				}
				if w == nil || w.Bank != b || w.Num != r.Num {
					t.Errorf("word %d %s: narrowed to bank %d: %v", k, txt, b, got)
				}
				if _, err := isa.Encode(n); err != nil {
					t.Errorf("word %d %s: narrowed word does not encode: %v", k, txt, err)
				}
			}
		}
	}
}

// TestGPRsPredicated: a write under predicate_cc may not happen, keeping
// the register's old value; GPRs cannot say so and refuses the word.
func TestGPRsPredicated(t *testing.T) {
	for _, in := range []isa.Instr{
		isa.ALU(isa.GPRBoth(3), isa.GPRA(4), isa.OpAdd, isa.GPRB(5)),
		isa.Shf(isa.GPRB(2), isa.GPRA(6), isa.ShfOr, isa.GPRB(7), isa.ShiftL, 4),
		isa.LdField(isa.GPRA(9), 0x3, isa.GPRB(10), isa.ShiftR, 8, false),
		isa.Immed(isa.GPRBoth(12), 0x55),
		isa.MulResult(isa.GPRBoth(18), isa.Mul32x32, true),
	} {
		if _, ok := isa.GPRs(in); !ok {
			t.Fatalf("%v: refused without predicate_cc", in)
		}
		var p isa.Instr
		switch i := in.(type) {
		case isa.ALUInstr:
			i.Flags |= isa.FlagPredCC
			p = i
		case isa.ShfInstr:
			i.Flags |= isa.FlagPredCC
			p = i
		case isa.LdFieldInstr:
			i.Flags |= isa.FlagPredCC
			p = i
		case isa.ImmedInstr:
			i.Flags |= isa.FlagPredCC
			p = i
		case isa.MulInstr:
			i.Flags |= isa.FlagPredCC
			p = i
		}
		if refs, ok := isa.GPRs(p); ok {
			txt, _ := isa.Text(p, isa.Options{Mode: isa.Ctx4})
			t.Errorf("%s: GPRs %v, want refused", txt, refs)
		}
	}
}
