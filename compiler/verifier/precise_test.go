package verifier_test

import (
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
)

// verifyBoth verifies prog in the default (facts) mode and again with
// precise pruning (Options.VerdictOnly), and fails the test when the
// verdicts differ: precision tracking may only save work, never change an
// answer. The one allowed difference is a facts-mode run that exhausts the
// instruction budget. Nor may it process more instructions, unless it
// forgot values as the kernel does (Result.Forgot). It returns the
// facts-mode result.
func verifyBoth(t testing.TB, prog *loader.Program, maps []*loader.Map, opts *verifier.Options) (*verifier.Result, error) {
	t.Helper()
	res, err := verifier.Verify(prog, maps, opts)
	o := *opts
	o.VerdictOnly, o.Log = true, nil
	pres, perr := verifier.Verify(prog, maps, &o)
	switch {
	case err != nil && strings.Contains(err.Error(), "BPF program is too large"):
	case (err == nil) != (perr == nil):
		t.Errorf("%s: facts mode: %v; verdict-only mode: %v", prog.Name, err, perr)
	case err != nil && err.Error() != perr.Error():
		t.Errorf("%s: facts mode rejects with %q, verdict-only mode with %q", prog.Name, err, perr)
	case err == nil && pres.Processed > res.Processed && !pres.Forgot:
		t.Errorf("%s: verdict-only mode processed %d instructions, facts mode %d", prog.Name, pres.Processed, res.Processed)
	}
	if perr == nil && pres.Facts != nil && o.Target == nil {
		t.Errorf("%s: verdict-only mode returned facts", prog.Name)
	}
	return res, err
}
