package backend

import (
	"fmt"
	"testing"

	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestBanksGolden runs bank allocation on the machine IR of each
// testdata/banks/*.txtar's `in` section and compares the code with `out`,
// the webs (mir.Webs.Table: register before -> after, fixed, tied,
// interfering webs) and figures with `webs`. `go test ./backend -run
// BanksGolden -update` rewrites them.
func TestBanksGolden(t *testing.T) {
	golden.Run(t, "testdata/banks/*.txtar", func(t *testing.T, a *golden.Archive) {
		f, err := mir.Parse("in", a.Section("in"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := banks(f, true)
		if err != nil {
			t.Fatal(err)
		}
		summary := fmt.Sprintf("registers: bank A %d, bank B %d; %d writes to one bank; %d moves deleted\n", st.regsA, st.regsB, st.narrowed, st.copies)
		if st.skipped != "" {
			summary = "skipped: " + st.skipped + "\n"
		}
		a.Check(t, "webs", summary+st.table)
		a.Check(t, "out", f.Print())
	})
}
