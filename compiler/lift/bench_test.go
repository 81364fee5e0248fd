package lift

import (
	"path/filepath"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite"
)

// BenchmarkLift lifts testdata/progs/xdp_lb.o (the largest test program)
// with the verifier's facts; verification is outside the timed loop.
func BenchmarkLift(b *testing.B) {
	obj, err := loader.Load(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "xdp_lb.o"))
	if err != nil {
		b.Fatal(err)
	}
	p := obj.Programs[0]
	res, err := verifier.Verify(p, obj.Maps, nil)
	if err != nil {
		b.Fatal(err)
	}
	facts := VerifierFacts(res)
	b.ReportMetric(float64(len(p.Insns)), "insns")
	for b.Loop() {
		if _, err := Program(p, facts); err != nil {
			b.Fatal(err)
		}
	}
}
