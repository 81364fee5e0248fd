package golden

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records errors and cleanups instead of
// failing the real test.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func withUpdate(t *testing.T, on bool) {
	old := *update
	if err := flag.Set("update", fmt.Sprint(on)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { *update = old })
}

const archive = `comment line
-- in --
input
-- out --
one
two
-- trailer --
kept
`

func write(t *testing.T, s string) string {
	path := filepath.Join(t.TempDir(), "x.txtar")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheckMismatchFails(t *testing.T) {
	withUpdate(t, false)
	path := write(t, archive)
	r := &recorder{TB: t}
	a := Open(r, path)
	if a.Section("in") != "input\n" {
		t.Errorf("in = %q", a.Section("in"))
	}
	if a.Check(r, "out", "one\nTWO\n") {
		t.Error("Check of a different output reported a match")
	}
	if !a.Check(r, "missing", "") {
		t.Error("an empty output must match a missing section")
	}
	r.end()
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "-update") || !strings.Contains(r.errs[0], "- two\n+ TWO\n") {
		t.Errorf("errors %q", r.errs)
	}
	if read(t, path) != archive {
		t.Error("the archive was written without -update")
	}
}

func TestUpdateRewritesInPlace(t *testing.T) {
	withUpdate(t, true)
	path := write(t, archive)
	r := &recorder{TB: t}
	a := Open(r, path)
	a.Set("first", "1\n")
	a.Check(r, "out", "one\nthree\n")
	a.Check(r, "new", "added\n")
	r.end()
	want := "comment line\n-- in --\ninput\n-- out --\none\nthree\n-- new --\nadded\n-- trailer --\nkept\n-- first --\n1\n"
	if got := read(t, path); got != want || len(r.errs) != 0 {
		t.Errorf("archive after -update:\n%s\nerrors %q", got, r.errs)
	}
}

func TestUpdateUnchangedDoesNotWrite(t *testing.T) {
	withUpdate(t, true)
	path := write(t, archive)
	r := &recorder{TB: t}
	a := Open(r, path)
	a.Check(r, "out", "one\ntwo\n")
	// Changed behind the archive's back: a write at the end would undo it.
	if err := os.WriteFile(path, []byte("sentinel"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.end()
	if got := read(t, path); got != "sentinel" || len(r.errs) != 0 {
		t.Errorf("an unchanged archive was written: %q, errors %q", got, r.errs)
	}
}

func TestCheckNoOthers(t *testing.T) {
	withUpdate(t, false)
	path := write(t, archive)
	r := &recorder{TB: t}
	a := Open(r, path)
	a.Check(r, "in", "input\n")
	a.Check(r, "out", "one\ntwo\n")
	a.CheckNoOthers(r)
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], `"trailer"`) {
		t.Errorf("errors %q", r.errs)
	}

	withUpdate(t, true)
	r = &recorder{TB: t}
	a = Open(r, path)
	a.Check(r, "in", "input\n")
	a.Check(r, "out", "one\ntwo\n")
	a.CheckNoOthers(r)
	r.end()
	if got := read(t, path); got != strings.TrimSuffix(archive, "-- trailer --\nkept\n") {
		t.Errorf("archive after -update:\n%s", got)
	}
}

func TestOpenMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "new.txtar")
	withUpdate(t, true)
	r := &recorder{TB: t}
	a := Open(r, path)
	a.Check(r, "a", "x\n")
	r.end()
	if got := read(t, path); got != "-- a --\nx\n" {
		t.Errorf("created %q", got)
	}
}

func TestDiff(t *testing.T) {
	for _, c := range []struct{ want, got, diff string }{
		{"a\nb\nc\n", "a\nb\nc\n", ""},
		{"a\nb\nc\nd\ne\nf\n", "a\nb\nc\nD\ne\nf\n",
			"@@ want line 2, got line 2 @@\n  b\n  c\n- d\n+ D\n  e\n  f\n"},
		{"", "x\n", "@@ want line 1, got line 1 @@\n+ x\n"},
		{"x", "x\n", "@@ want line 1, got line 1 @@\n- x⏎ (no newline at end)\n+ x\n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n",
			"@@ want line 1, got line 1 @@\n+ 0\n  1\n  2\n@@ want line 7, got line 8 @@\n  7\n  8\n- 9\n"},
	} {
		if d := Diff(c.want, c.got); d != c.diff {
			t.Errorf("Diff(%q, %q) =\n%s\nwant\n%s", c.want, c.got, d, c.diff)
		}
	}
}

func TestDiffLarge(t *testing.T) {
	big := strings.Repeat("same\n", 5000)
	d := Diff(big+"a\n", big+"b\n")
	if !strings.Contains(d, "- a\n+ b\n") {
		t.Errorf("diff %q", d)
	}
}
