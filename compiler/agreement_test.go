package compiler

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/gen"
)

// corpusObject is one object of the shared corpora with the selection
// rule its programs need: nfp-jit's plain sections are XDP (--xdp), and
// Cilium's numbered tail-call sections are tc, or XDP in the bpf_xdp*
// objects (--type, as the corpus's verdicts.tsv records).
type corpusObject struct {
	path       string
	typ        ebpf.ProgramType
	defaultXDP bool
}

func corpusObjects(t *testing.T) []corpusObject {
	root := testsuite.CorporaDir()
	if root == "" {
		t.Skip("corpora not found: set NFPCC_CORPORA or place them at ../shared/corpora")
	}
	var out []corpusObject
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(p, ".o") {
			return nil
		}
		o := corpusObject{path: p, defaultXDP: strings.Contains(p, "nfp-jit")}
		if filepath.Base(filepath.Dir(p)) == "cilium" {
			o.typ = ebpf.SchedCLS
			if strings.HasPrefix(filepath.Base(p), "bpf_xdp") {
				o.typ = ebpf.XDP
			}
		}
		out = append(out, o)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// agree checks that compiling p for mcpu succeeds exactly when the
// verifier with the mcpu's capability table accepts it, and that a
// refusal is the verifier's own error (same reason, same slot). It
// returns the refusal ("" when compiled).
func agree(t *testing.T, name string, obj *loader.Object, p *loader.Program, opts Options) string {
	t.Helper()
	target, err := verifier.TargetForMCPU(opts.MCPU)
	if err != nil {
		t.Fatal(err)
	}
	typ := loader.EffectiveType(p, opts.Type, opts.DefaultXDP)
	_, verr := verifier.Verify(p, obj.Maps, &verifier.Options{Target: target, Type: typ})
	opts.Prog = p.Name
	_, _, cerr := Compile(obj, opts)
	switch {
	case verr == nil && errors.As(cerr, new(*CodeSizeError)):
		// The one rule only code generation can check (documented on
		// verifier.Target.CodeStore): counted as a refusal.
		return cerr.Error()
	case verr == nil && cerr != nil:
		t.Errorf("%s (--mcpu=%s): verify accepts, compile refuses: %v", name, target.MCPU, cerr)
	case verr != nil && cerr == nil:
		t.Errorf("%s (--mcpu=%s): compile accepts, verify refuses: %v", name, target.MCPU, verr)
	case verr != nil:
		var want, got *verifier.Error
		if !errors.As(verr, &want) {
			return verr.Error() // not a program the verifier interprets
		}
		if !errors.As(cerr, &got) || got.Reason != want.Reason || got.PC != want.PC {
			t.Errorf("%s (--mcpu=%s): refusals differ:\n\tverify:  %v\n\tcompile: %v", name, target.MCPU, verr, cerr)
		}
		return want.Reason
	}
	return ""
}

var (
	mapNameRe = regexp.MustCompile(`(map|global data) [^ :]+:`)
	digitsRe  = regexp.MustCompile(`[0-9]+`)
)

// reasonClass groups refusals: digits become N, the text is cut after the
// rule (the hint and operands vary).
func reasonClass(r string) string {
	var b strings.Builder
	digits := false
	for _, c := range r {
		if c >= '0' && c <= '9' {
			if !digits {
				b.WriteByte('N')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(c)
	}
	s := mapNameRe.ReplaceAllString(b.String(), "$1 M:")
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	if i := strings.Index(s, ": the "); i > 0 {
		s = s[:i]
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// TestAgreement: on every program of the shared corpora and on generated
// programs, `verify --target=MCPU` and the compiler agree (issue 12). It
// logs, per target, how many XDP/tc programs compile and the refusals by
// reason (docs/verifier.md quotes the figures).
func TestAgreement(t *testing.T) {
	objs := corpusObjects(t)
	for _, mcpu := range verifier.MCPUs {
		total, compiled, checked := 0, 0, 0
		reasons := map[string]int{}
		for _, o := range objs {
			obj, err := loader.Load(o.path)
			if err != nil {
				continue // the loader's own tests cover broken objects
			}
			for _, p := range obj.Programs {
				// Every program, .text functions too (PREVAIL's test
				// programs live there); the counts are of the XDP and tc
				// entry programs.
				opts := Options{MCPU: mcpu, Type: o.typ, DefaultXDP: o.defaultXDP}
				r := agree(t, filepath.Base(o.path)+":"+p.Name, obj, p, opts)
				checked++
				typ := loader.EffectiveType(p, o.typ, o.defaultXDP)
				if typ != ebpf.XDP && typ != ebpf.SchedCLS || p.Section == ".text" && !o.defaultXDP {
					continue
				}
				total++
				if r == "" {
					compiled++
				} else {
					reasons[reasonClass(r)]++
				}
			}
		}
		t.Logf("--mcpu=%s: %d corpus programs agree; XDP/tc programs: %d, compiled %d, refused %d", mcpu, checked, total, compiled, total-compiled)
		logReasons(t, reasons)
	}
}

func logReasons(t *testing.T, reasons map[string]int) {
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if reasons[keys[i]] != reasons[keys[j]] {
			return reasons[keys[i]] > reasons[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		t.Logf("  %4d× %s", reasons[k], k)
	}
}

// TestAgreementGenerated: the same on generated programs, with and
// without the shapes the NFP refuses.
func TestAgreementGenerated(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 50
	}
	for _, mcpu := range verifier.MCPUs {
		total, compiled := 0, 0
		reasons := map[string]int{}
		for _, refused := range []float64{0, 1} {
			cfg := gen.DefaultConfig()
			cfg.NFPRefusedProb, cfg.CPUv4Prob = refused, 0.7
			for seed := uint64(0); seed < uint64(n); seed++ {
				obj := gen.Generate(seed, cfg).Object()
				r := agree(t, fmt.Sprintf("gen seed %d", seed), obj, obj.Programs[0], Options{MCPU: mcpu})
				total++
				if r == "" {
					compiled++
				} else {
					reasons[reasonClass(r)]++
				}
			}
		}
		t.Logf("--mcpu=%s: generated programs: %d, compiled %d", mcpu, total, compiled)
		logReasons(t, reasons)
	}
}

// TestAgreementEdges: hand-written programs at the edges of the table,
// where the kernel accepts and the NFP may not.
func TestAgreementEdges(t *testing.T) {
	for name, obj := range edgePrograms() {
		for _, mcpu := range verifier.MCPUs {
			r := agree(t, name, obj, obj.Programs[0], Options{MCPU: mcpu})
			if want, ok := edgeWant[name]; ok && (!strings.Contains(r, want) || r == "") || !ok && r != "" {
				t.Errorf("%s (--mcpu=%s): refusal %q, want %q", name, mcpu, r, want)
			}
		}
	}
}

// edgePrograms are hand-written programs at the edges of the table, where
// the kernel accepts and the NFP may not.
func edgePrograms() map[string]*loader.Object {
	prog := func(insns ...asm.Instruction) *loader.Object {
		insns[0] = insns[0].WithSymbol("edge")
		return &loader.Object{Path: "edge.o", Programs: []*loader.Program{{
			Name: "edge", Section: "xdp", Type: ebpf.XDP, License: "GPL", Insns: insns, Funcs: []loader.Func{{Name: "edge"}}}}}
	}
	return map[string]*loader.Object{
		"read rx_queue_index":  prog(asm.LoadMem(asm.R0, asm.R1, 16, asm.Word), asm.And.Imm(asm.R0, 3), asm.Return()),
		"write rx_queue_index": prog(asm.Mov.Imm(asm.R2, 1), asm.StoreMem(asm.R1, 16, asm.R2, asm.Word), asm.Mov.Imm(asm.R0, 2), asm.Return()),
		"read data_meta":       prog(asm.LoadMem(asm.R2, asm.R1, 8, asm.Word), asm.Mov.Imm(asm.R0, 2), asm.Return()),
		"read ingress_ifindex": prog(asm.LoadMem(asm.R0, asm.R1, 12, asm.Word), asm.And.Imm(asm.R0, 3), asm.Return()),
		// The key at fp-8 or fp-16 depending on a branch, one call.
		"key moves": withMaps(prog(
			asm.FnGetPrandomU32.Call(), asm.Mov.Reg(asm.R3, asm.R0),
			asm.Mov.Imm(asm.R4, 0), asm.StoreMem(asm.R10, -8, asm.R4, asm.DWord), asm.StoreMem(asm.R10, -16, asm.R4, asm.DWord),
			asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8),
			jeqZero(asm.R3, 1),
			asm.Add.Imm(asm.R2, -8),
			asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call(),
			asm.Mov.Imm(asm.R0, 2), asm.Return())),
		// Map 0 or map 1 depending on a branch, one call.
		"map moves": withMaps(prog(
			asm.FnGetPrandomU32.Call(), asm.Mov.Reg(asm.R3, asm.R0),
			asm.Mov.Imm(asm.R4, 0), asm.StoreMem(asm.R10, -8, asm.R4, asm.DWord), asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8),
			asm.LoadMapPtr(asm.R1, 0), jeqZero(asm.R3, 2),
			asm.LoadMapPtr(asm.R1, 1),
			asm.FnMapLookupElem.Call(),
			asm.Mov.Imm(asm.R0, 2), asm.Return())),
		"update over a counter": withMaps(prog(updateOverCounter(1)...)),
		"update zeroes counter": withMaps(prog(updateOverCounter(0)...)),
	}
}

// edgeWant is what TestAgreementEdges's programs are refused for.
var edgeWant = map[string]string{
	"read rx_queue_index":   "[nfp] unsupported read of xdp_md (nfp) at off=16",
	"write rx_queue_index":  "[nfp] unsupported write of xdp_md (nfp) at off=16",
	"read data_meta":        "[nfp] unsupported read of xdp_md (nfp) at off=8",
	"read ingress_ifindex":  "[nfp] unsupported read of xdp_md (nfp) at off=12",
	"key moves":             "the key is at a different stack address on another path",
	"map moves":             "the map differs between paths",
	"update over a counter": "bpf_map_update_elem may write a non-zero value to a word of map a's value that atomic_add64 (eBPF slot 11) uses atomically",
}

// updateOverCounter counts in word 0 of a map value with an atomic add,
// then updates the entry with a value whose word 0 is val.
func updateOverCounter(val int32) []asm.Instruction {
	return []asm.Instruction{
		asm.Mov.Imm(asm.R4, 0), asm.StoreMem(asm.R10, -8, asm.R4, asm.DWord),
		asm.Mov.Imm(asm.R6, val), asm.StoreMem(asm.R10, -16, asm.R6, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8),
		asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call(),
		jeqZero(asm.R0, 2),
		asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8),
		asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -16),
		asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call(),
		asm.Mov.Imm(asm.R0, 2), asm.Return(),
	}
}

// jeqZero is "if r == 0 goto +off" in the loader's resolved form.
func jeqZero(r asm.Register, off int16) asm.Instruction {
	j := asm.JEq.Imm(r, 0, "")
	j.Offset = off
	return j
}

// withMaps gives obj two 8-byte-key hash maps.
func withMaps(obj *loader.Object) *loader.Object {
	for _, n := range []string{"a", "b"} {
		obj.Maps = append(obj.Maps, &loader.Map{Name: n, Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 16})
	}
	return obj
}

// notStale checks one program for TestTableNotStale, counting the rule
// that refused it in checked.
func notStale(t *testing.T, name string, obj *loader.Object, relaxed *verifier.Target, checked map[string]int) {
	t.Helper()
	_, verr := verifier.Verify(obj.Programs[0], obj.Maps, &verifier.Options{Target: verifier.EmulatorTarget})
	var e *verifier.Error
	if !errors.As(verr, &e) || !strings.HasPrefix(e.Reason, "[nfp] ") {
		return
	}
	if _, err := verifier.Verify(obj.Programs[0], obj.Maps, &verifier.Options{Target: relaxed}); err != nil {
		return // not a backend-form rule
	}
	checked[reasonClass(e.Reason)]++
	_, _, err := Compile(obj, Options{Target: relaxed})
	if err == nil {
		t.Errorf("%s: the table refuses what the backend compiles: %s", name, e.Reason)
		return
	}
	// The same words as the backend's (the table's hint aside; the two
	// may report different instances of the rule, and the table names
	// maps where the backend numbers them).
	words, _, _ := strings.Cut(strings.TrimPrefix(e.Reason, "[nfp] "), " (")
	norm := func(s string) string { return digitsRe.ReplaceAllString(mapNameRe.ReplaceAllString(s, "$1 M:"), "N") }
	norm2 := func(s string) string { return mapOwnerRe.ReplaceAllString(norm(s), "map M's") }
	backend := err.Error()
	for table, b := range reworded {
		if strings.Contains(words, table) && strings.Contains(backend, b) {
			return
		}
	}
	if !strings.Contains(norm2(backend), norm2(words)) {
		t.Errorf("%s: the table says %q, the backend %q", name, words, err)
	}
}

// reworded are the table's rules whose words differ from the backend's
// on purpose: the backend states what its code cannot do, the table what
// the program must do instead.
var reworded = map[string]string{
	"is at a different stack address on another path": "must be a constant stack address",
	"the map differs between paths":                   "is used other than as a helper's map argument",
}

var mapOwnerRe = regexp.MustCompile(`map [^ ]+'s`)

// TestTableNotStale: a rule of the table that mirrors a backend limitation
// must still be needed. Every generated program the emulator's table
// refuses for such a rule is compiled again with those rules off
// (Target.SkipBackendForms): the backend must refuse it too. When the
// backend learns a form, this test names the rule to drop.
func TestTableNotStale(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 50
	}
	relaxed := *verifier.EmulatorTarget
	relaxed.SkipBackendForms = true
	checked := map[string]int{}
	cfg := gen.DefaultConfig()
	cfg.NFPRefusedProb, cfg.CPUv4Prob = 1, 0.7
	for seed := uint64(0); seed < uint64(n); seed++ {
		notStale(t, fmt.Sprintf("seed %d", seed), gen.Generate(seed, cfg).Object(), &relaxed, checked)
	}
	for name, obj := range edgePrograms() {
		notStale(t, name, obj, &relaxed, checked)
	}
	logReasons(t, checked)
}
