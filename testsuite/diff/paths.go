package diff

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/testsuite"
)

// fwCycles is the published model's fixed per-packet firmware cost; the
// program part of a path is its cycles minus this.
const fwCycles = 224

// PathRow is one ereport path: the JIT's model cycles on it (the paper's
// estimator) and nfpcc's image's on the path's example packet.
type PathRow struct {
	Program, Kind string // "xdp-cloudflare", "k" or "i"
	Index         int
	JITCycles     int64
	Cycles        int64
}

// Paths runs nfpcc's image of each nfp-jit program on the example packet
// of every path the estimator enumerated for the JIT's code
// (predictions/*.ereport). Maps persist from packet to packet of a
// program, as on the NIC.
func Paths(dir string, opts compiler.Options) ([]PathRow, error) {
	opts.DefaultXDP = true
	if opts.MCPU == "" {
		opts.MCPU = "emulator" // (count-min's maps: see QualityWith)
	}
	files, err := filepath.Glob(filepath.Join(dir, "predictions", "*.ereport"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("%s: no predictions/*.ereport", dir)
	}
	sort.Strings(files)
	var out []PathRow
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".ereport")
		name, kind := strings.TrimSuffix(strings.TrimSuffix(base, ".k"), ".i"), base[len(base)-1:]
		paths, err := testsuite.ReadEreport(file)
		if err != nil {
			return nil, err
		}
		ci, err := loadCorpusImage(dir, name, opts)
		if err != nil {
			return nil, err
		}
		fw, err := ci.firmware()
		if err != nil {
			return nil, err
		}
		for k, p := range paths {
			r, err := fw.RunPacket(p.Packet)
			if err != nil {
				return nil, fmt.Errorf("%s path %d: %v", base, k, err)
			}
			out = append(out, PathRow{Program: name, Kind: kind, Index: k, JITCycles: p.Cycles, Cycles: r.Cycles})
		}
	}
	return out, nil
}

// PathsTable summarises rows per program and overall: paths, how many
// take longer than the JIT's, the largest ratio and the geometric mean of
// the ratios, of whole cycles and of the program part (cycles − 224).
func PathsTable(rows []PathRow) string {
	type agg struct {
		n, slower  int
		maxW, maxP float64
		logW, logP float64
	}
	by := map[string]*agg{}
	var names []string
	all := &agg{}
	for _, r := range rows {
		a := by[r.Program]
		if a == nil {
			a = &agg{}
			by[r.Program] = a
			names = append(names, r.Program)
		}
		w := float64(r.Cycles) / float64(r.JITCycles)
		p := float64(r.Cycles-fwCycles) / float64(max(r.JITCycles-fwCycles, 1))
		for _, x := range []*agg{a, all} {
			x.n++
			if r.Cycles > r.JITCycles {
				x.slower++
			}
			x.maxW, x.maxP = math.Max(x.maxW, w), math.Max(x.maxP, p)
			x.logW += math.Log(w)
			x.logP += math.Log(math.Max(p, 1e-9))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %5s %7s %9s %9s   %s\n", "ereport paths", "paths", "slower", "max", "geomean", "(nfpcc/JIT model cycles on each path's example packet; program part: cycles − 224)")
	line := func(name string, a *agg) {
		fmt.Fprintf(&b, "%-18s %5d %7d %4.2f|%4.2f %4.2f|%4.2f\n", name, a.n, a.slower, a.maxW, a.maxP,
			math.Exp(a.logW/float64(a.n)), math.Exp(a.logP/float64(a.n)))
	}
	for _, n := range names {
		line(n, by[n])
	}
	if all.n > 0 {
		line("all", all)
	}
	return b.String()
}
