package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite/fuzz"
	"github.com/nfpcc/nfpcc/testsuite/gen"
)

func init() {
	register(&command{
		name:    "fuzz",
		summary: "differential fuzzing: generated programs, compiled image vs interpreter",
		run:     fuzzMain,
	})
}

// fuzzMain is `nfpcc fuzz [--duration D] [--seed S] [-j N] [--programs N]
// [--packets N] [--out DIR]`: a campaign of generated programs, each
// compiled and run on the NFP emulator and the interpreter over its
// frames. A live progress line goes to stderr, the summary to stdout; each
// mismatch is minimized and, with --out, written as a regression case.
// Exit 1 on any mismatch, 2 on usage errors.
func fuzzMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fuzz", stdout, stderr, "nfpcc fuzz [--duration D] [--seed S] [-j N] [--programs N] [--packets N] [-O 0,1,2] [-d FLAGS] [--regs N] [--kernel] [--out DIR]")
	duration := fs.Duration("duration", 60*time.Second, "how long to run (0: until --programs or interrupted)")
	seed := fs.Uint64("seed", 1, "campaign seed: program k is generated from fuzz.ProgramSeed(seed, k)")
	jobs := fs.Int("j", runtime.GOMAXPROCS(0), "parallel workers")
	programs := fs.Int("programs", 0, "stop after this many programs (0: no limit)")
	runs := fs.Int("runs", 0, "stop after this many program×packet runs (0: no limit)")
	packets := fs.Int("packets", 64, "frames per program (each program is compiled once and runs them all)")
	out := fs.String("out", "", "directory for minimized findings (txtar regression cases)")
	minimize := fs.Bool("minimize", true, "shrink each mismatch before reporting it")
	stopAfter := fs.Int("stop-after", 0, "stop after this many mismatches (0: never)")
	quiet := fs.Bool("q", false, "no progress line")
	levels := fs.String("O", "2", "optimisation levels to check each program at, comma-separated (-O 0,1,2); every pass is followed by ir.Check")
	debug := fs.String("d", "", "middle-end flags for every level (PASS/off, …), as nfpcc -d")
	regs := fs.Int("regs", 0, "compile with only this many registers (plus half as many a call preserves) so that values, block parameters included, spill to local memory (0: all)")
	kernel := fs.Bool("kernel", false, "also run every program in the running kernel (BPF_PROG_TEST_RUN; root) and compare it with the interpreter")
	rest, status, err := fs.parse(args)
	if err != nil {
		return status
	}
	if len(rest) != 0 || *jobs < 1 || *packets < 1 || *regs < 0 {
		fs.Usage()
		return 2
	}
	var lvs []fuzz.Level
	for _, l := range strings.Split(*levels, ",") {
		lv, err := passes.ParseLevel(strings.TrimSpace(l))
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc fuzz: -O: %v\n", err)
			return 2
		}
		cfg := passes.Config{Level: lv, Check: true}
		if err := cfg.ParseDebug(*debug); err != nil {
			fmt.Fprintf(stderr, "nfpcc fuzz: %v\n", err)
			return 2
		}
		lvs = append(lvs, fuzz.Level{Name: lv.String(), Options: compiler.Options{Passes: cfg, Regs: *regs}})
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintf(stderr, "nfpcc fuzz: %v\n", err)
			return 2
		}
	}
	if *kernel {
		if err := fuzz.KernelAvailable(); err != nil {
			fmt.Fprintf(stderr, "nfpcc fuzz: --kernel: the kernel oracle is unavailable here (%v); running without it\n", err)
			*kernel = false
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var mu sync.Mutex // stderr is shared by the progress line and findings
	c := &fuzz.Campaign{
		Gen: gen.DefaultConfig(), Seed: *seed, Workers: *jobs, Duration: *duration,
		MaxPrograms: *programs, MaxRuns: *runs, Packets: *packets, Minimize: *minimize, StopAfter: *stopAfter, Kernel: *kernel,
		Levels: lvs,
	}
	if !*quiet {
		c.Progress = func(s *fuzz.Stats) {
			mu.Lock()
			fmt.Fprintf(stderr, "\r%s", s.Line())
			mu.Unlock()
		}
	}
	c.OnFinding = func(f *fuzz.Finding) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, "\nmismatch: seed %#x at %s: %s\n", f.Seed, f.Level, f.Outcome.Reason)
		if *out == "" {
			return
		}
		if path, err := writeFinding(*out, f); err != nil {
			fmt.Fprintf(stderr, "  cannot write it: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "  written to %s\n", path)
		}
	}
	st, findings := c.Run(ctx)
	if !*quiet {
		fmt.Fprintln(stderr)
	}
	fmt.Fprint(stdout, st.Summary())
	for _, f := range findings {
		r := f.Case
		o := f.Outcome
		if f.Reduced != nil {
			r, o = f.Reduced, f.ReducedOutcome
		}
		fmt.Fprintf(stdout, "mismatch: seed %#x at %s (%d instructions, %d packets after minimizing): %s\n",
			f.Seed, f.Level, len(r.Insns()), len(r.Packets), o.Reason)
	}
	if len(findings) > 0 {
		return 1
	}
	return 0
}

// writeFinding writes f (minimized when it was) as DIR/seed-SEED.txtar,
// with the level and register limit it was found at (its replay options).
func writeFinding(dir string, f *fuzz.Finding) (string, error) {
	o := f.Outcome
	if f.Reduced != nil {
		o = f.ReducedOutcome
	}
	comment := fmt.Sprintf("nfpcc fuzz finding: %s\nprogram seed %#x, compiled %s\n\n%s\n", o.Reason, f.Seed, f.Level, o.Detail)
	data, err := fuzz.FindingArchive(f, comment)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("seed-%016x.txtar", f.Seed))
	return path, os.WriteFile(path, data, 0o644)
}
