package lift

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/testsuite"
)

// objects lists the eBPF objects under dir, sorted.
func objects(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".o") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// TestCorpus lifts every program of every object of ebpf-samples and
// testdata/progs: with the verifier's facts when it accepts the program,
// without them when it does not. Every lift must succeed or fail with a
// clear "not supported" error, give the same IR when repeated, and the IR
// must check and round-trip through its text format.
func TestCorpus(t *testing.T) {
	var files []string
	files = append(files, objects(t, filepath.Join(testsuite.ProjectRoot(), "testdata", "progs"))...)
	files = append(files, objects(t, testsuite.Corpus(t, "ebpf-samples"))...)
	var progs, verified, lifted, unsupported int
	reasons := map[string]int{}
	for _, file := range files {
		obj, err := loader.Load(file)
		if err != nil {
			continue // the loader's own tests cover bad objects
		}
		for _, p := range obj.Programs {
			progs++
			var facts Facts
			if res, err := verifier.Verify(p, obj.Maps, nil); err == nil {
				verified++
				facts = VerifierFacts(res)
			}
			m, err := Program(p, facts)
			if err != nil {
				if strings.Contains(err.Error(), "BUG") || !strings.Contains(err.Error(), "not supported") {
					t.Errorf("%s: %s: %v", file, p.Name, err)
					continue
				}
				unsupported++
				msg := err.Error()
				reasons[msg[strings.LastIndex(msg, ": ")+2:]]++
				continue
			}
			lifted++
			text := ir.Print(m)
			if again, err := Program(p, facts); err != nil || ir.Print(again) != text {
				t.Errorf("%s: %s: lifting twice gives different IR (%v)", file, p.Name, err)
			}
			m2, err := ir.Parse(text)
			if err != nil {
				t.Errorf("%s: %s: printed IR does not parse: %v", file, p.Name, err)
				continue
			}
			if err := ir.CheckModule(m2); err != nil {
				t.Errorf("%s: %s: reparsed IR fails Check: %v", file, p.Name, err)
			}
			if ir.Print(m2) != text {
				t.Errorf("%s: %s: IR text does not round-trip", file, p.Name)
			}
		}
	}
	t.Logf("%d objects, %d programs: %d accepted by the verifier, %d lifted, %d not supported %v", len(files), progs, verified, lifted, unsupported, reasons)
	if lifted == 0 {
		t.Fatal("nothing lifted")
	}
}
