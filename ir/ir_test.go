package ir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestGolden runs every testdata/*.txtar archive: the `ir` section is parsed,
// printed back (it must be unchanged), checked, and analysed (dominators,
// loops); the `out` section is the expected result: either the analysis or
// the parse or check error. An optional `canonical` section is what Print
// must give when the input is not in canonical form. go test -update
// rewrites `out`.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata/*.txtar", func(t *testing.T, a *golden.Archive) {
		src, ok := a.Lookup("ir")
		if !ok {
			t.Fatal("no `ir` section")
		}
		canon, ok := a.Lookup("canonical")
		if !ok {
			canon = src
		}
		a.Check(t, "out", run(t, src, canon))
	})
}

// run is what the golden files record for one IR text; Print must give
// canon back (the input itself unless the archive has a `canonical`
// section, for inputs with comments or non-canonical spelling).
func run(t *testing.T, src, canon string) string {
	m, err := ParseNamed("ir", src)
	if err != nil {
		return "parse error: " + err.Error() + "\n"
	}
	if out := Print(m); out != canon {
		t.Errorf("Print(Parse(s)) != s:\n%s", out)
	}
	if err := CheckModule(m); err != nil {
		return "check error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, f := range m.Funcs {
		b.WriteString(Analysis(f))
	}
	return b.String()
}

// Analysis describes a function's dominator tree and loops, for goldens.
func Analysis(f *Func) string {
	var b strings.Builder
	d := Dominators(f)
	fmt.Fprintf(&b, "func %s\n  rpo:", f.Name)
	for _, bl := range d.RPO {
		fmt.Fprintf(&b, " b%d", bl.ID)
	}
	b.WriteString("\n  idom:")
	for _, bl := range d.RPO[1:] {
		fmt.Fprintf(&b, " b%d<-b%d", bl.ID, d.Idom(bl).ID)
	}
	b.WriteByte('\n')
	loops, irr := Loops(f, d)
	for _, l := range loops {
		fmt.Fprintf(&b, "  loop b%d depth %d latches %s blocks %s exits %s", l.Header.ID, l.Depth, names(l.Latches), names(l.Blocks), names(l.Exits))
		if l.Parent != nil {
			fmt.Fprintf(&b, " parent b%d", l.Parent.Header.ID)
		}
		b.WriteByte('\n')
	}
	for _, e := range irr {
		fmt.Fprintf(&b, "  irreducible edge b%d->b%d\n", e[0].ID, e[1].ID)
	}
	return b.String()
}

func names(bs []*Block) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = fmt.Sprintf("b%d", b.ID)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// section is the content of a section of an archive (for the tests that
// read an archive's input without golden.Run).
func section(ar *txtar.Archive, name string) (string, bool) {
	for _, f := range ar.Files {
		if f.Name == name {
			return string(f.Data), true
		}
	}
	return "", false
}

// FuzzParse: Parse never panics; what it accepts prints to a fixed point
// and can be checked without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if src, ok := section(ar, "ir"); ok {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		m, err := Parse(src)
		if err != nil {
			return
		}
		out := Print(m)
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("printed IR does not parse: %v\n%s", err, out)
		}
		if out2 := Print(m2); out2 != out {
			t.Fatalf("print is not a fixed point:\n%s\n---\n%s", out, out2)
		}
		if CheckModule(m) == nil {
			for _, fn := range m.Funcs {
				Loops(fn, Dominators(fn))
				// Running checked IR fails cleanly or returns, never panics.
				args := make([]uint64, len(fn.Entry().Params))
				(&Machine{Module: m, MaxSteps: 1000, CheckFacts: true}).Run(fn.Name, args...)
			}
		}
	})
}

// TestDocExamples keeps the IR examples of docs/ir.md valid: every fenced
// block that starts with "func " round-trips and checks.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/ir.md")
	if err != nil {
		t.Skip("docs/ir.md not found")
	}
	n := 0
	for _, block := range strings.Split(string(doc), "```")[1:] {
		block = strings.TrimPrefix(block, "\n")
		if !strings.HasPrefix(block, "func ") {
			continue
		}
		n++
		m, err := Parse(block)
		if err != nil {
			t.Fatalf("example %d: %v", n, err)
		}
		if got := Print(m); got != block {
			t.Errorf("example %d does not round-trip:\n%s", n, got)
		}
		if err := CheckModule(m); err != nil {
			t.Errorf("example %d: %v", n, err)
		}
	}
	if n == 0 {
		t.Error("no IR example in docs/ir.md")
	}
}
