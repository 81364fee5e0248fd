package verifier

import (
	"runtime"
	"slices"
	"sync"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Outcome is one program's verification: its result or its error.
type Outcome struct {
	Result *Result
	Err    error
}

// Job is one program to verify, with its object's maps and its options.
type Job struct {
	Prog *loader.Program
	Maps []*loader.Map
	Opts *Options
}

// VerifyAll verifies the jobs side by side on up to workers goroutines
// (0: GOMAXPROCS) and returns the outcomes in the jobs' order. Programs
// share nothing while they are verified (each run builds its own machine;
// the programs and maps are only read), so an object's programs — Cilium's
// objects hold 5–13 — verify in the time of the slowest few instead of
// their sum. Options with a Log are for one program at a time: their
// output would interleave.
func VerifyAll(jobs []Job, workers int) []Outcome {
	out := make([]Outcome, len(jobs))
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res, err := Verify(jobs[i].Prog, jobs[i].Maps, jobs[i].Opts)
				out[i] = Outcome{res, err}
			}
		}()
	}
	// The biggest programs first, so that one started last does not
	// leave the other workers idle at the end (ties in the given order).
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(jobs[b].Prog.Insns) - len(jobs[a].Prog.Insns) })
	for _, i := range order {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}
