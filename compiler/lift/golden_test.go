package lift

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestGolden lifts the program named by each testdata/*.txtar archive (its
// `args` section: the object, relative to the project root or, with a
// corpus: prefix, to the shared corpora, and the program name) with the
// verifier's facts, and compares the printed IR with the `ir` section
// (go test -update rewrites it; review the diff).
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata/*.txtar", func(t *testing.T, a *golden.Archive) {
		args := strings.Fields(a.Section("args"))
		if len(args) != 2 {
			t.Fatal("args section must be: OBJECT PROGRAM")
		}
		obj := args[0]
		if c, ok := strings.CutPrefix(obj, "corpus:"); ok {
			dir, rest, _ := strings.Cut(c, "/")
			obj = filepath.Join(testsuite.Corpus(t, dir), rest)
		} else {
			obj = filepath.Join(testsuite.ProjectRoot(), obj)
		}
		got := liftText(t, obj, args[1])
		if want := a.Section("ir"); got != want && !golden.Update() && stripFacts(got) == stripFacts(want) {
			t.Errorf("only the !facts differ from %s: the verifier's precision changed; rerun `go test ./compiler/lift -run TestGolden -update` and review the diff", a.Name())
		}
		a.Check(t, "ir", got)
	})
}

func liftText(t *testing.T, path, name string) string {
	o, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range o.Programs {
		if p.Name != name {
			continue
		}
		res, err := verifier.Verify(p, o.Maps, nil)
		if err != nil {
			t.Fatalf("verifier: %v", err)
		}
		m, err := Program(p, VerifierFacts(res))
		if err != nil {
			t.Fatal(err)
		}
		text := ir.Print(m)
		m2, err := ir.Parse(text)
		if err != nil {
			t.Fatalf("printed IR does not parse: %v", err)
		}
		if err := ir.CheckModule(m2); err != nil {
			t.Fatalf("reparsed IR fails Check: %v", err)
		}
		return text
	}
	t.Fatalf("%s has no program %s", path, name)
	return ""
}

// sectionOf is the content of a section of an archive ("" if none), for
// the tests that read archives without golden.Run.
func sectionOf(ar *txtar.Archive, name string) string {
	for _, f := range ar.Files {
		if f.Name == name {
			return string(f.Data)
		}
	}
	return ""
}

// stripFacts removes the !facts of IR text, to tell a change of the
// verifier's precision from a change of the lifting.
func stripFacts(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if i := strings.Index(line, " !"); i >= 0 {
			nl := strings.HasSuffix(line, "\n")
			line = line[:i]
			if strings.HasPrefix(line, "b") && !strings.HasSuffix(line, ":") {
				line += "…" // a block header: its parameters' facts went too
			}
			if nl {
				line += "\n"
			}
		}
		b.WriteString(line)
	}
	return b.String()
}
