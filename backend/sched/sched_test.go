package sched

import (
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestGolden runs the steps a `steps` section names (all without one) on
// the machine IR of `in` and compares the result with `out`; the words of
// the result must encode. `go test ./backend/sched -run Golden -update`
// rewrites `out`.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata/*.txtar", func(t *testing.T, a *golden.Archive) {
		f, err := mir.Parse("in", a.Section("in"))
		if err != nil {
			t.Fatalf("in: %v", err)
		}
		names := strings.Fields(a.Section("steps"))
		for _, s := range Steps {
			if len(names) == 0 || contains(names, s.Name) {
				s.Run(f)
			}
		}
		if _, _, _, err := f.Encode(); err != nil {
			t.Fatalf("the result does not encode: %v", err)
		}
		a.Check(t, "out", f.Print())
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
