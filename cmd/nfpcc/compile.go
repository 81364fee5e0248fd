package main

import (
	"fmt"
	"io"
)

// compileMain is the default action, `nfpcc prog.o -o prog.nfp`. The NFP
// backend is not built yet; until it is, nfpcc says so instead of writing an
// image.
func compileMain(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "nfpcc: %s: compiling to NFP code is not implemented yet (see `nfpcc help` for the tools that are)\n", args[0])
	return 2
}
