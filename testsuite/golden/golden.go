// Package golden runs the project's golden tests: txtar archives whose
// input sections a test reads and whose expected sections it compares with
// what the code under test prints. Every package's tests share one -update
// flag, registered here, so `go test ./... -update` rewrites the expected
// sections of the whole project (STYLE.md §3).
//
// It imports only the standard library and txtar, so that the tests of the
// leaf packages (ir, isa, emulator/nfp …) can use it without import cycles.
package golden

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the expected sections of the golden files (testdata/**/*.txtar) from the output")

// Update reports whether the test binary runs with -update, for tests that
// regenerate something other than a section (their own flag, if any, is
// then checked together with this one).
func Update() bool { return *update }

// Archive is one golden file. Check compares a section with the output;
// with -update it replaces the section instead, and the file is rewritten
// when the test that opened it ends. Sections keep their order and the
// archive its comment; a section the test adds goes after the one it
// checked before (so an all-output archive keeps the order of the checks),
// or at the end.
type Archive struct {
	// Path is the file's absolute path, so that a test may change
	// directory (t.Chdir) and still have its archive rewritten.
	Path    string
	name    string // as the test named it, for messages
	ar      *txtar.Archive
	checked map[string]bool
	last    string // the section Check saw last, where a new one goes
	changed bool
}

// Run opens every archive matching pattern (a filepath.Glob, such as
// "testdata/*.txtar") and calls f with it in a subtest named after the
// file without ".txtar". No match is a failure: a golden test that runs
// nothing would pass forever.
func Run(t *testing.T, pattern string, f func(t *testing.T, a *Archive)) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files match %s (err %v)", pattern, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			f(t, Open(t, file))
		})
	}
}

// Open reads one archive, for goldens that are a single file (a whole
// corpus in one archive). With -update a missing file starts empty and is
// created; without, it is a failure. The archive is written back, if a
// Check or Set changed it, when t ends.
func Open(t testing.TB, path string) *Archive {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	a := &Archive{Path: abs, name: path, checked: map[string]bool{}}
	data, err := os.ReadFile(abs)
	switch {
	case err == nil:
		a.ar = txtar.Parse(data)
	case *update && errors.Is(err, fs.ErrNotExist):
		a.ar = &txtar.Archive{}
	default:
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	t.Cleanup(func() {
		if !a.changed {
			return
		}
		if err := os.MkdirAll(filepath.Dir(a.Path), 0o755); err != nil {
			t.Error(err)
			return
		}
		if err := os.WriteFile(a.Path, txtar.Format(a.ar), 0o644); err != nil {
			t.Error(err)
		}
	})
	return a
}

// Name is the path the archive was opened with, for messages.
func (a *Archive) Name() string { return a.name }

// Section is the content of a section, "" if the archive has none.
func (a *Archive) Section(name string) string {
	s, _ := a.Lookup(name)
	return s
}

// Lookup is the content of a section and whether the archive has it.
func (a *Archive) Lookup(name string) (string, bool) {
	if f := a.file(name); f != nil {
		return string(f.Data), true
	}
	return "", false
}

func (a *Archive) file(name string) *txtar.File {
	for i := range a.ar.Files {
		if a.ar.Files[i].Name == name {
			return &a.ar.Files[i]
		}
	}
	return nil
}

// Set replaces a section (adding it at the end if missing); the archive is
// written back when the test ends. Tests call it only with -update.
func (a *Archive) Set(name, data string) {
	if f := a.file(name); f != nil {
		if string(f.Data) != data {
			f.Data = []byte(data)
			a.changed = true
		}
		return
	}
	at := len(a.ar.Files)
	for i := range a.ar.Files {
		if a.last != "" && a.ar.Files[i].Name == a.last {
			at = i + 1
		}
	}
	a.ar.Files = slices.Insert(a.ar.Files, at, txtar.File{Name: name, Data: []byte(data)})
	a.changed = true
}

// Check compares section name with got. A missing section counts as empty,
// so an output that is empty needs no section (and -update removes it). On a mismatch it reports
// the difference line by line, or with -update replaces the section. It
// reports whether the section matched (true also after an update).
func (a *Archive) Check(t testing.TB, name, got string) bool {
	t.Helper()
	a.checked[name] = true
	defer func() { a.last = name }()
	want, _ := a.Lookup(name)
	if got == want {
		return true
	}
	if *update {
		if got == "" {
			a.remove(name) // empty output needs no section
		} else {
			a.Set(name, got)
		}
		return true
	}
	t.Errorf("%s: section %q differs (run go test -update to accept):\n%s", a.name, name, Diff(want, got))
	return false
}

func (a *Archive) remove(name string) {
	a.ar.Files = slices.DeleteFunc(a.ar.Files, func(f txtar.File) bool { return f.Name == name })
	a.changed = true
}

// CheckNoOthers is for archives that are all output (no input sections):
// every section that no Check asked for is stale, an error, and -update
// removes it.
func (a *Archive) CheckNoOthers(t testing.TB) {
	t.Helper()
	kept := a.ar.Files[:0]
	for _, f := range a.ar.Files {
		if a.checked[f.Name] {
			kept = append(kept, f)
			continue
		}
		if !*update {
			t.Errorf("%s: section %q is not produced any more (run go test -update to remove it)", a.name, f.Name)
			kept = append(kept, f)
			continue
		}
		a.changed = true
	}
	a.ar.Files = kept
}
