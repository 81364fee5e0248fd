package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/nfpcc/nfpcc/testsuite/conformance"
	"github.com/nfpcc/nfpcc/testsuite/conformance/nfpengine"
)

func init() {
	register(&command{
		name:    "conformance",
		summary: "run bpf_conformance / uBPF .data tests on an engine",
		run:     conformanceMain,
	})
}

// The NFP engine lives in its own package (it imports the compiler, whose
// tests import package conformance's assembler): the command offers it.
func init() { nfpengine.Register() }

// conformanceMain is `nfpcc conformance [--engine=interp] FILE.data...`:
// one line per failing file, then exactly "N passed, N failed". Engines
// that compile (nfp) also list each program they could not compile, with
// the compiler's reason, and end "N passed, N failed, N not compiled": a
// refusal is not a failure. Exit 1 if any test failed, 2 on usage errors.
func conformanceMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("conformance", stdout, stderr, "nfpcc conformance [--engine=interp|interp-xdp|nfp] [-v] FILE.data...")
	engine := fs.String("engine", "interp", "engine to run the tests on: "+strings.Join(conformance.EngineNames(), ", "))
	verbose := fs.Bool("v", false, "also print a line for every passing test")
	files, status, err := fs.parse(args)
	if err != nil {
		return status
	}
	mk, ok := conformance.Engines[*engine]
	if !ok {
		fmt.Fprintf(stderr, "nfpcc conformance: unknown engine %q (known: %s)\n", *engine, strings.Join(conformance.EngineNames(), ", "))
		return 2
	}
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	e := mk()
	_, compiles := e.(interface{ Compiles() bool })
	passed, failed, notCompiled := 0, 0, 0
	for _, path := range files {
		o := conformance.RunFile(e, path)
		if o.Passed() {
			passed++
			if *verbose {
				fmt.Fprintf(stdout, "%s: pass\n", path)
			}
			continue
		}
		if o.NotCompiled() {
			notCompiled++
		} else {
			failed++
		}
		fmt.Fprintln(stdout, o.Line())
	}
	if compiles {
		fmt.Fprintf(stdout, "%d passed, %d failed, %d not compiled\n", passed, failed, notCompiled)
	} else {
		fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	}
	if failed > 0 {
		return 1
	}
	return 0
}
