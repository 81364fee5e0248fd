package main

import (
	"fmt"
	"io"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/passes"
)

// dumpPasses is `nfpcc PROG.o --dump-passes=FUNC [-O…] [-o passes.html]`:
// one HTML page with FUNC (a function of the lifted program; the program's
// name for its entry) after lifting and after every pass that runs, side by
// side, changed lines marked, the CFG drawn (passes.HTML).
func dumpPasses(path, progName, fn, out string, override ebpf.ProgramType, xdp bool, pc passes.Config, stdout, stderr io.Writer) int {
	obj, err := loader.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	progs, err := selectPrograms(obj, progName)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %s: %v\n", path, err)
		return 2
	}
	var m *ir.Module
	for _, p := range progs {
		pm, err := liftProgram(obj, p, true, override, xdp)
		if err != nil {
			continue
		}
		if pm.Lookup(fn) != nil {
			m = pm
			break
		}
	}
	if m == nil {
		fmt.Fprintf(stderr, "nfpcc: %s: no program has a function %s\n", path, fn)
		return 2
	}
	snaps := []passes.Snapshot{passes.Snap("lift", m.Lookup(fn), nil)}
	for _, p := range passes.Pipeline {
		if !pc.Enabled(p) {
			continue
		}
		rs, err := passes.RunPass(p, m, passes.Config{Check: true})
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc: %s: %v\n", path, err)
			return 1
		}
		if f := m.Lookup(fn); f != nil {
			snaps = append(snaps, passes.Snap(p.Name, f, rs))
		}
		if pc.StopAfter == p.Name {
			break
		}
	}
	page := passes.HTML(fmt.Sprintf("%s: %s at %s", path, fn, pc.Level), snaps)
	if out == "" {
		out = "-"
	}
	if err := writeOutput(out, []byte(page), stdout); err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	return 0
}
