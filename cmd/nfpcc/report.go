package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/diff"
)

func init() {
	register(&command{
		name:    "report",
		summary: "compare nfpcc's NFP code with the Linux JIT's on the nfp-jit corpus (words, model cycles)",
		run:     reportMain,
	})
}

// reportMain is `nfpcc report [--corpus DIR]`: the table of
// testsuite/diff.Quality for the nfp-jit corpus (DIR defaults to the shared
// corpora's nfp-jit).
func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", "", "the nfp-jit corpus folder (summary.csv, cases.json, programs/)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: nfpcc report [--corpus DIR]")
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
	return 0
}
