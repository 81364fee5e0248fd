package nfpengine_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

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
func TestBPFConformanceNFP(t *testing.T) {
	dir := filepath.Join(testsuite.Corpus(t, "bpf_conformance"), "tests")
	e := nfpengine.NFP{}
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
	a := golden.Open(t, "testdata/nfp.txtar")
	a.Check(t, "not compiled", refused.String())
	a.Check(t, "summary", fmt.Sprintf("%d passed, %d not compiled\n", passed, notCompiled))
	t.Logf("%d passed, %d failed, %d not compiled", passed, failed, notCompiled)
}
