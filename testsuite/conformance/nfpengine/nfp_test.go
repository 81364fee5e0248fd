package nfpengine_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
	"github.com/nfpcc/nfpcc/testsuite/conformance/nfpengine"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestBPFConformanceNFP compiles every bpf_conformance test for the NFP
// and runs it on the emulator: none may fail, and the programs the
// compiler refuses, with its reasons, are pinned in testdata/nfp.txtar
// (go test -update rewrites the list), so that a new refusal, or a test
// that compiles now, shows up in review.
//
// The second run, at -O0, pins the refusals of the backend itself: at -O2
// the middle end folds most tests (constant programs) before it.
func TestBPFConformanceNFP(t *testing.T) {
	a := golden.Open(t, "testdata/nfp.txtar")
	runNFP(t, a, nfpengine.NFP{}, "")
	runNFP(t, a, nfpengine.NFP{Passes: passes.Config{Level: passes.O0}}, " -O0")
}

func runNFP(t *testing.T, a *golden.Archive, e nfpengine.NFP, suffix string) {
	dir := filepath.Join(testsuite.Corpus(t, "bpf_conformance"), "tests")
	var refused strings.Builder
	passed, failed, notCompiled := 0, 0, 0
	files, err := conformance.DataFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		o := conformance.RunFile(e, f)
		switch {
		case o.Passed():
			passed++
		case o.NotCompiled():
			notCompiled++
			rel, _ := filepath.Rel(dir, f)
			fmt.Fprintf(&refused, "%s: %s\n", rel, o.Detail)
		default:
			failed++
			t.Errorf("%s", o.Line())
		}
	}
	a.Check(t, "not compiled"+suffix, refused.String())
	a.Check(t, "summary"+suffix, fmt.Sprintf("%d passed, %d not compiled\n", passed, notCompiled))
	t.Logf("%s: %d passed, %d failed, %d not compiled", e.Name(), passed, failed, notCompiled)
}
