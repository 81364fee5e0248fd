package oracle

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite"
)

// verifierExceptions lists the XDP/tc programs on which nfpcc's verifier
// and this kernel's disagree, each with why the difference is acceptable.
// The key is the program's name as the test prints it; an entry that no
// longer matches a disagreement fails the test, so the list stays exact.
var verifierExceptions = map[string]string{
	// nfpcc proves more than the kernel here, deliberately (docs/verifier.md,
	// "Packet bounds"): the program checks "data_end - data < 14" on a
	// scalar difference and only then copies data into r7, so every read
	// through r7 is in bounds. nfpcc remembers that the difference is
	// data_end − data and turns the bound into a packet range; the kernel
	// learns packet ranges only from comparing a packet pointer with
	// data_end, so it sees r7 with r=0 and rejects (PREVAIL accepts too).
	"build/correlated_branch.o:xdp:ConvergedBranch": "kernel rejects a safe program: no packet range from a data_end − data scalar (nfpcc's documented extension)",
}

// verifierCase is one program to give both verifiers.
type verifierCase struct {
	name string // object key : section : function
	obj  *loader.Object
	prog *loader.Program
	typ  ebpf.ProgramType
}

// verdict is one verifier's answer: nil error for acceptance.
type verdict struct {
	err error
	log []string // the kernel's verifier log on rejection
}

// TestVerifierKernelOracle is the acceptance test of the verifier against
// the running kernel's: every XDP and tc section of ebpf-samples (the
// program type from sections.tsv, since some tc sections have names the
// loader cannot type) and every XDP/tc program of testdata/progs is loaded
// with BPF_PROG_LOAD and verified by compiler/verifier for the host.
// Soundness: what the kernel rejects, nfpcc rejects. Precision: what the
// kernel accepts, nfpcc accepts. Differences must be listed, with their
// reason, in verifierExceptions.
//
// Reproduce: go test ./testsuite/oracle -run TestVerifierKernelOracle -v
func TestVerifierKernelOracle(t *testing.T) {
	if err := probeKernel(); err != nil {
		t.Skipf("kernel oracle unavailable: %v", err)
	}
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	cases, refused := verifierCases(t)

	// counts[group][kernel accepts][nfpcc accepts], group 0 the corpus,
	// 1 testdata/progs, 2 both.
	var counts [3][2][2]int
	matched := map[string]bool{}
	for _, c := range cases {
		kv, err := kernelVerdict(c, ncpu)
		if err != nil {
			// Not a verdict of the kernel's verifier (a map it cannot
			// create, a malformed program): the oracle has no answer.
			t.Errorf("%s: kernel: %v", c.name, err)
			continue
		}
		_, nerr := verifier.Verify(c.prog, c.obj.Maps, &verifier.Options{Type: c.typ})
		kOK, nOK := kv.err == nil, nerr == nil
		g := 0
		if strings.HasPrefix(c.name, "progs/") {
			g = 1
		}
		counts[g][b2i(kOK)][b2i(nOK)]++
		counts[2][b2i(kOK)][b2i(nOK)]++
		switch {
		case kOK && nOK:
			t.Logf("%-70s both accept", c.name)
		case !kOK && !nOK:
			t.Logf("%-70s both reject\n    kernel: %s\n    nfpcc:  %v", c.name, kernelReason(kv.log), nerr)
		default:
			why, ok := verifierExceptions[c.name]
			matched[c.name] = ok
			var msg string
			if kOK {
				msg = fmt.Sprintf("%s: kernel accepts, nfpcc rejects: %v", c.name, nerr)
			} else {
				msg = fmt.Sprintf("%s: kernel rejects, nfpcc accepts\n    kernel: %s", c.name, kernelReason(kv.log))
			}
			if ok {
				t.Logf("%s\n    (exception: %s)", msg, why)
			} else {
				t.Error(msg)
			}
		}
	}
	for name := range verifierExceptions {
		if !matched[name] {
			t.Errorf("exception %s no longer matches a disagreement: remove it", name)
		}
	}

	t.Logf("kernel oracle for the verifier: %d XDP/tc programs (kernel accepts/rejects × nfpcc accepts/rejects)", len(cases))
	t.Logf("%-16s %8s %8s %8s %8s", "", "k+ n+", "k+ n-", "k- n+", "k- n-")
	for g, name := range []string{"ebpf-samples", "testdata/progs", "total"} {
		c := counts[g]
		t.Logf("%-16s %8d %8d %8d %8d", name, c[1][1], c[1][0], c[0][1], c[0][0])
	}
	t.Logf("%d sections whose object nfpcc's loader refuses (no program to verify):", len(refused))
	for _, r := range refused {
		t.Logf("  %s", r)
	}
}

// kernelReason is the kernel log's last lines before its statistics
// ("processed N insns ..."), which the kernel sometimes appends to the
// reason without a newline.
func kernelReason(log []string) string {
	var keep []string
	for _, l := range log {
		if i := strings.Index(l, "processed "); i >= 0 && strings.Contains(l[i:], " insns (limit ") {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "verification time") &&
			!strings.HasPrefix(l, "stack depth") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 2 {
		keep = keep[len(keep)-2:]
	}
	return strings.Join(keep, " | ")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// kernelVerdict loads c into the kernel with its maps. A rejection by the
// kernel's verifier is a verdict (with the log); any other failure is an
// error of the harness.
func kernelVerdict(c verifierCase, ncpu int) (verdict, error) {
	k, err := newKernelMaps(c.obj, nil, ncpu)
	if err != nil {
		return verdict{}, err
	}
	defer k.Close()
	prog, log, err := loadProgramAs(c.prog, c.typ, k)
	if err == nil {
		prog.Close()
		return verdict{}, nil
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		return verdict{}, err
	}
	return verdict{err: err, log: log}, nil
}

// verifierCases collects the XDP/tc programs: ebpf-samples' sections by
// sections.tsv, then testdata/progs. refused lists the sections of objects
// the loader refuses.
func verifierCases(t *testing.T) (cases []verifierCase, refused []string) {
	if root := testsuite.CorporaDir(); root != "" {
		dir := filepath.Join(root, "ebpf-samples")
		objs := map[string]*loader.Object{}
		loadErr := map[string]error{}
		for _, row := range readSectionsTSV(t, dir) {
			typ := tsvType[row.progType]
			if typ == ebpf.UnspecifiedProgram {
				continue
			}
			obj, ok := objs[row.object]
			if !ok {
				obj, loadErr[row.object] = loader.Load(filepath.Join(dir, row.object))
				objs[row.object] = obj
			}
			if obj == nil {
				refused = append(refused, fmt.Sprintf("%s:%s: %v", row.object, row.section, loadErr[row.object]))
				continue
			}
			n := 0
			for _, p := range obj.Programs {
				if p.Section != row.section {
					continue
				}
				n++
				cases = append(cases, verifierCase{row.object + ":" + row.section + ":" + p.Name, obj, p, typ})
			}
			if n == 0 {
				t.Errorf("%s: sections.tsv lists section %s, the loader found no program in it", row.object, row.section)
			}
		}
	} else {
		t.Log("corpora not found (NFPCC_CORPORA or ../shared/corpora): only testdata/progs runs")
	}
	progs := filepath.Join(testsuite.ProjectRoot(), "testdata", "progs")
	paths, _ := filepath.Glob(filepath.Join(progs, "*.o"))
	gcc, _ := filepath.Glob(filepath.Join(progs, "gcc", "*.o"))
	paths = append(paths, gcc...)
	sort.Strings(paths)
	for _, path := range paths {
		rel, _ := filepath.Rel(progs, path)
		obj, err := loader.Load(path)
		if err != nil {
			t.Errorf("progs/%s: %v", rel, err)
			continue
		}
		for _, p := range obj.Programs {
			if p.Type == ebpf.XDP || p.Type == ebpf.SchedCLS {
				cases = append(cases, verifierCase{"progs/" + rel + ":" + p.Section + ":" + p.Name, obj, p, p.Type})
			}
		}
	}
	return cases, refused
}

// tsvType maps sections.tsv's prog_type column to the program types this
// test covers.
var tsvType = map[string]ebpf.ProgramType{"xdp": ebpf.XDP, "tc": ebpf.SchedCLS}

// sectionRow is one line of ebpf-samples/sections.tsv.
type sectionRow struct{ object, section, progType string }

func readSectionsTSV(t *testing.T, dir string) []sectionRow {
	f, err := os.Open(filepath.Join(dir, "sections.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []sectionRow
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 6 {
			continue
		}
		rows = append(rows, sectionRow{object: c[0], section: c[4], progType: c[5]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
