package fuzz

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/testsuite/gen"
)

// Campaign configures a fuzzing run: programs gen.Generate(ProgramSeed(Seed,
// k), Gen) for k = 0, 1, 2, …, each over Packets frames, on Workers
// goroutines, until Duration, MaxPrograms or the context ends.
type Campaign struct {
	Gen         gen.Config
	Seed        uint64
	Workers     int
	Duration    time.Duration // 0: no time limit
	MaxPrograms int           // 0: no count limit
	MaxRuns     int           // stop once this many program×packet runs are done (0: no limit)
	Packets     int           // frames per program (0: 64)
	// Levels are the compiler configurations each program is compiled
	// with and checked under (nil: the default options only).
	Levels []Level
	// Minimize shrinks each mismatch before it is reported.
	Minimize bool
	// Progress, if set, is called about once a second with the counts so
	// far, and once at the end.
	Progress func(*Stats)
	// OnFinding, if set, is called for each mismatch (after minimizing),
	// from the worker that found it.
	OnFinding func(*Finding)
	// StopAfter ends the campaign after this many findings (0: never).
	StopAfter int
	// Kernel also runs every program in the running kernel (see
	// Options.Kernel); the caller checks KernelAvailable.
	Kernel bool
}

// Level is one compiler configuration a campaign checks.
type Level struct {
	Name    string
	Options compiler.Options
}

// Finding is one mismatch: the generated program, the packets it ran, what
// differed, and its shrunk form.
type Finding struct {
	Seed  uint64 // the program's seed (gen.Generate(Seed, cfg))
	Level string
	// Compile are the level's compiler options, which the archive of the
	// finding records (FindingArchive) so that it replays under them.
	Compile compiler.Options
	Case    *Case // as generated
	Outcome Outcome
	Reduced *Case // as minimized (nil when not minimized)
	// ReducedOutcome is the outcome of Reduced.
	ReducedOutcome Outcome
}

// Stats are a campaign's counts.
type Stats struct {
	mu         sync.Mutex
	Start      time.Time
	Elapsed    time.Duration
	Programs   int // generated
	Checked    int // program × level checks
	Compiled   int // checks whose program compiled
	Runs       int // program × packet runs compared on both engines
	Mismatches int
	GenBugs    int
	Refusals   map[string]int // by reason
	GenBugList map[string]int // by reason
	Coverage   Coverage
	// KernelRuns counts the runs also compared with the kernel;
	// KernelSkipped the programs the kernel did not run, by reason.
	KernelRuns    int
	KernelSkipped map[string]int
	// ByLevel counts runs and mismatches per level (Campaign.Levels).
	ByLevel map[string]*LevelStats
}

// LevelStats are one level's counts.
type LevelStats struct {
	Compiled, Runs, Mismatches int
}

// ProgramsPerSec, RunsPerSec: rates over the elapsed time.
func (s *Stats) ProgramsPerSec() float64 { return float64(s.Programs) / s.Elapsed.Seconds() }
func (s *Stats) RunsPerSec() float64     { return float64(s.Runs) / s.Elapsed.Seconds() }

// Line is the one-line progress report.
func (s *Stats) Line() string {
	refused := 0
	for _, n := range s.Refusals {
		refused += n
	}
	return fmt.Sprintf("%7.1fs  %d programs (%.0f/s)  %d runs (%.0f/s)  %d mismatches  %d refused  %d generator bugs  op coverage %.1f%%",
		s.Elapsed.Seconds(), s.Programs, s.ProgramsPerSec(), s.Runs, s.RunsPerSec(), s.Mismatches, refused, s.GenBugs,
		s.Coverage.Percent())
}

// Summary is the closing report: the counts, refusals and generator bugs
// by reason, the features never generated.
func (s *Stats) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d programs, %d checks (%d compiled), %d program×packet runs in %.1fs: %.0f runs/s, %.0f programs/s\n",
		s.Programs, s.Checked, s.Compiled, s.Runs, s.Elapsed.Seconds(), s.RunsPerSec(), s.ProgramsPerSec())
	fmt.Fprintf(&b, "%d mismatches, %d generator bugs\n", s.Mismatches, s.GenBugs)
	fmt.Fprintf(&b, "op coverage: %s\n", s.Coverage.String())
	if len(s.ByLevel) > 1 {
		names := make([]string, 0, len(s.ByLevel))
		for n := range s.ByLevel {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			l := s.ByLevel[n]
			fmt.Fprintf(&b, "  %s: %d compiled, %d runs, %d mismatches\n", n, l.Compiled, l.Runs, l.Mismatches)
		}
	}
	writeCounts(&b, "refused", s.Refusals)
	writeCounts(&b, "generator bugs", s.GenBugList)
	if s.KernelRuns > 0 || len(s.KernelSkipped) > 0 {
		fmt.Fprintf(&b, "kernel (BPF_PROG_TEST_RUN): %d runs also compared with the kernel\n", s.KernelRuns)
		writeCounts(&b, "programs not run in the kernel (their results depend on the host)", s.KernelSkipped)
	}
	return b.String()
}

func writeCounts(b *strings.Builder, title string, m map[string]int) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	total := 0
	for k, n := range m {
		keys = append(keys, k)
		total += n
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(b, "%s: %d\n", title, total)
	for _, k := range keys {
		fmt.Fprintf(b, "  %6d  %s\n", m[k], k)
	}
}

// addCounts adds the counts of src to dst.
func addCounts(dst, src map[string]int) {
	for k, v := range src {
		dst[k] += v
	}
}

// snapshot copies the counts under the lock.
func (s *Stats) snapshot() *Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Stats{Start: s.Start, Elapsed: time.Since(s.Start), Programs: s.Programs, Checked: s.Checked,
		Compiled: s.Compiled, Runs: s.Runs, Mismatches: s.Mismatches, GenBugs: s.GenBugs,
		Refusals: maps.Clone(s.Refusals), GenBugList: maps.Clone(s.GenBugList), Coverage: s.Coverage.clone(),
		KernelRuns: s.KernelRuns, KernelSkipped: maps.Clone(s.KernelSkipped), ByLevel: map[string]*LevelStats{}}
	for k, v := range s.ByLevel {
		x := *v
		c.ByLevel[k] = &x
	}
	return c
}

// ProgramSeed is the seed of the k-th program of a campaign seeded with
// base (a SplitMix64 step, so neighbouring campaigns do not share programs).
func ProgramSeed(base uint64, k int) uint64 {
	z := base + uint64(k+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Run runs the campaign and returns its counts and findings.
func (c *Campaign) Run(ctx context.Context) (*Stats, []*Finding) {
	if c.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Duration)
		defer cancel()
	}
	workers := max(c.Workers, 1)
	levels := c.Levels
	if len(levels) == 0 {
		levels = []Level{{Name: "default"}}
	}
	npkt := c.Packets
	if npkt == 0 {
		npkt = 64
	}
	st := &Stats{Start: time.Now(), Refusals: map[string]int{}, GenBugList: map[string]int{}, Coverage: NewCoverage(),
		KernelSkipped: map[string]int{}, ByLevel: map[string]*LevelStats{}}
	var next atomic.Int64
	var mu sync.Mutex
	var findings []*Finding
	stop := make(chan struct{})
	var stopOnce sync.Once
	done := make(chan struct{})
	if c.Progress != nil {
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					c.Progress(st.snapshot())
				case <-done:
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cov Coverage
			for {
				select {
				case <-ctx.Done():
					return
				case <-stop:
					return
				default:
				}
				k := int(next.Add(1) - 1)
				if c.MaxPrograms > 0 && k >= c.MaxPrograms {
					return
				}
				if c.MaxRuns > 0 {
					st.mu.Lock()
					done := st.Runs >= c.MaxRuns
					st.mu.Unlock()
					if done {
						return
					}
				}
				seed := ProgramSeed(c.Seed, k)
				cs := Generated(seed, c.Gen, npkt)
				cov.Reset()
				cov.Add(cs.P)
				var local Stats
				local.Refusals, local.GenBugList, local.KernelSkipped = map[string]int{}, map[string]int{}, map[string]int{}
				local.ByLevel = map[string]*LevelStats{}
				for _, lv := range levels {
					opts := Options{Compile: lv.Options, Kernel: c.Kernel}
					out := cs.Check(opts)
					ls := local.ByLevel[lv.Name]
					if ls == nil {
						ls = &LevelStats{}
						local.ByLevel[lv.Name] = ls
					}
					ls.Runs += out.Runs
					if out.Kind == Agreed || out.Kind == Mismatch {
						ls.Compiled++
					}
					if out.Kind == Mismatch {
						ls.Mismatches++
					}
					local.Checked++
					local.Runs += out.Runs
					local.KernelRuns += out.KernelRuns
					if out.KernelSkip != "" {
						local.KernelSkipped[out.KernelSkip]++
					}
					switch out.Kind {
					case Agreed:
						local.Compiled++
					case Refused:
						local.Refusals[out.Reason]++
					case GenBug:
						local.GenBugs++
						local.GenBugList[out.Reason]++
					case Mismatch:
						local.Compiled++
						local.Mismatches++
						f := &Finding{Seed: seed, Level: lv.Name, Compile: lv.Options, Case: cs, Outcome: out}
						if c.Minimize {
							f.Reduced, f.ReducedOutcome = Minimize(cs, func(q *Case) Outcome { return q.Check(opts) }, out)
						}
						if c.OnFinding != nil {
							c.OnFinding(f)
						}
						mu.Lock()
						findings = append(findings, f)
						if c.StopAfter > 0 && len(findings) >= c.StopAfter {
							stopOnce.Do(func() { close(stop) })
						}
						mu.Unlock()
					}
				}
				st.mu.Lock()
				st.Programs++
				st.Checked += local.Checked
				st.Compiled += local.Compiled
				st.Runs += local.Runs
				st.Mismatches += local.Mismatches
				st.GenBugs += local.GenBugs
				addCounts(st.Refusals, local.Refusals)
				addCounts(st.GenBugList, local.GenBugList)
				st.KernelRuns += local.KernelRuns
				addCounts(st.KernelSkipped, local.KernelSkipped)
				st.Coverage.Merge(cov)
				for k, v := range local.ByLevel {
					x := st.ByLevel[k]
					if x == nil {
						x = &LevelStats{}
						st.ByLevel[k] = x
					}
					x.Compiled += v.Compiled
					x.Runs += v.Runs
					x.Mismatches += v.Mismatches
				}
				st.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(done)
	final := st.snapshot()
	if c.Progress != nil {
		c.Progress(final)
	}
	sort.Slice(findings, func(i, j int) bool { return findings[i].Seed < findings[j].Seed })
	return final, findings
}
