package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/diff"
)

func init() {
	register(&command{
		name:    "report",
		summary: "compare nfpcc's NFP code at -O0 and -O2 with the Linux JIT's on the nfp-jit corpus (words, model cycles, savings per pass)",
		run:     reportMain,
	})
}

// reportMain is `nfpcc report [--corpus DIR] [--passes=false]`: the table
// of testsuite/diff.Quality for the nfp-jit corpus (DIR defaults to the
// shared corpora's nfp-jit) at -O2, then body words at -O0 and -O2 side by
// side, then what each pass saves: its remarks at -O2 and the words with
// it switched off (-d=PASS/off).
func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report", stdout, stderr, "nfpcc report [--corpus DIR] [--passes=false]")
	corpus := fs.String("corpus", "", "the nfp-jit corpus folder (summary.csv, cases.json, programs/)")
	perPass := fs.Bool("passes", true, "also attribute the savings to the passes (compiles the corpus once per pass)")
	rest, status, err := fs.parse(args)
	if err != nil {
		return status
	}
	if len(rest) != 0 {
		fs.Usage()
		return 2
	}
	dir := *corpus
	if dir == "" {
		d := testsuite.CorporaDir()
		if d == "" {
			fmt.Fprintln(stderr, "nfpcc report: no corpora found: give --corpus DIR (or set NFPCC_CORPORA)")
			return 2
		}
		dir = filepath.Join(d, "nfp-jit")
	}
	rows, err := diff.Quality(dir)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc report: %v\n", err)
		return 1
	}
	io.WriteString(stdout, diff.QualityTable(rows))
	o0, err := diff.QualityWith(dir, compiler.Options{Passes: passes.Config{Level: passes.O0}})
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc report: -O0: %v\n", err)
		return 1
	}
	io.WriteString(stdout, "\n"+levelsTable(o0, rows))
	paths, err := diff.Paths(dir, compiler.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc report: ereport paths: %v\n", err)
		return 1
	}
	io.WriteString(stdout, "\n"+diff.PathsTable(paths))
	if !*perPass {
		return 0
	}
	var b strings.Builder
	remarks := map[string]int{}
	total := 0
	for _, r := range rows {
		total += r.Words
		for p, n := range passes.CountRemarks(r.Remarks) {
			remarks[p] += n
		}
	}
	fmt.Fprintf(&b, "\n%-10s %8s %10s %7s   %s\n", "pass", "remarks", "words off", "saves", "(-O2 with -d=PASS/off; savings overlap: passes clean up after each other)")
	for _, p := range passes.Pipeline {
		if p.Required {
			continue
		}
		cfg := passes.Config{Level: passes.O2, Flags: map[string]string{p.Name: "off"}}
		off, err := diff.QualityWith(dir, compiler.Options{Passes: cfg})
		if err != nil {
			fmt.Fprintf(&b, "%-10s %8d %10s   (%v)\n", p.Name, remarks[p.Name], "error", err)
			continue
		}
		w := 0
		for _, r := range off {
			w += r.Words
		}
		fmt.Fprintf(&b, "%-10s %8d %10d %+7d\n", p.Name, remarks[p.Name], w, w-total)
	}
	io.WriteString(stdout, b.String())
	return 0
}

// levelsTable puts the body words at -O0 and -O2 side by side.
func levelsTable(o0, o2 []diff.QualityRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %6s %6s %6s %7s %7s\n", "program", "JIT", "-O0", "-O2", "-O0/JIT", "-O2/JIT")
	var sj, s0, s2 int
	for i, r := range o2 {
		w0 := o0[i].Words
		sj += r.JITWords
		s0 += w0
		s2 += r.Words
		fmt.Fprintf(&b, "%-18s %6d %6d %6d %7.2f %7.2f\n", r.Program, r.JITWords, w0, r.Words, float64(w0)/float64(r.JITWords), float64(r.Words)/float64(r.JITWords))
	}
	if sj > 0 {
		fmt.Fprintf(&b, "%-18s %6d %6d %6d %7.2f %7.2f\n", "total body words", sj, s0, s2, float64(s0)/float64(sj), float64(s2)/float64(sj))
	}
	return b.String()
}
