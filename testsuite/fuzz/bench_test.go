package fuzz

import (
	"context"
	"testing"

	"github.com/nfpcc/nfpcc/testsuite/gen"
)

// BenchmarkCampaign measures the fuzzer's throughput as nfpcc fuzz runs it
// (2 workers, 64 frames a program, no minimizing): b.N programs, reported
// as program×packet runs per second (the goal is ≥ 20,000 runs/s on a
// 2-core machine).
//
//	go test ./testsuite/fuzz -run XXX -bench Campaign -benchtime 2000x
func BenchmarkCampaign(b *testing.B) {
	c := &Campaign{Gen: gen.DefaultConfig(), Seed: 1, Workers: 2, MaxPrograms: b.N, Packets: 64}
	b.ResetTimer()
	st, _ := c.Run(context.Background())
	b.ReportMetric(float64(st.Runs)/b.Elapsed().Seconds(), "runs/s")
	b.ReportMetric(float64(st.Programs)/b.Elapsed().Seconds(), "programs/s")
}

// BenchmarkCheck is one worker's cost per program: generate, compile, run
// 16 frames on both engines.
func BenchmarkCheck(b *testing.B) {
	cfg := gen.DefaultConfig()
	runs := 0
	for i := 0; i < b.N; i++ {
		runs += Generated(ProgramSeed(1, i), cfg, 16).Check(Options{}).Runs
	}
	b.ReportMetric(float64(runs)/b.Elapsed().Seconds(), "runs/s")
}
