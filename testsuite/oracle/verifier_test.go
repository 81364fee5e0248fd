package oracle

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
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

// staleExceptions fails the test for an exception that no longer matches a
// disagreement, so exception lists stay exact. An exception whose program
// did not run is stale only where it should have run: programs of the
// corpora are absent when the corpora are.
func staleExceptions(t *testing.T, exceptions map[string]string, matched, present map[string]bool) {
	t.Helper()
	for name := range exceptions {
		switch {
		case matched[name]:
		case present[name]:
			t.Errorf("exception %s no longer matches a disagreement: remove it", name)
		case testsuite.CorporaDir() != "" || strings.HasPrefix(name, "progs/"):
			t.Errorf("exception %s names no program this test ran: remove or rename it", name)
		}
	}
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
	var limits limitTally
	matched, present := map[string]bool{}, map[string]bool{}
	for _, c := range cases {
		present[c.name] = true
		kv, err := kernelVerdict(c, ncpu)
		if err != nil {
			// Not a verdict of the kernel's verifier (a map it cannot
			// create, a malformed program): the oracle has no answer.
			t.Errorf("%s: kernel: %v", c.name, err)
			continue
		}
		_, nerr := verifier.Verify(c.prog, c.obj.Maps, &verifier.Options{Type: c.typ})
		if kv.err != nil && hitKernelLimit(kv.log) {
			limits.add(c.name, kv.log, nerr)
			continue
		}
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
	staleExceptions(t, verifierExceptions, matched, present)

	t.Logf("kernel oracle for the verifier: %d XDP/tc programs (kernel accepts/rejects × nfpcc accepts/rejects)", len(cases))
	t.Logf("%-16s %8s %8s %8s %8s", "", "k+ n+", "k+ n-", "k- n+", "k- n-")
	for g, name := range []string{"ebpf-samples", "testdata/progs", "total"} {
		c := counts[g]
		t.Logf("%-16s %8d %8d %8d %8d", name, c[1][1], c[1][0], c[0][1], c[0][0])
	}
	limits.report(t)
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
	k, err := loaderMaps(c.obj, ncpu)
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

// loaderMaps creates obj's maps in the kernel as libbpf leaves them before
// it loads a program: with their initial contents and the read-only ones
// (.rodata, BPF_F_RDONLY_PROG) frozen, so that the kernel, like nfpcc,
// reads constants out of them.
func loaderMaps(obj *loader.Object, ncpu int) (*kernelMaps, error) {
	k, err := newKernelMaps(obj, nil, ncpu)
	if err != nil {
		return nil, err
	}
	for i, m := range obj.Maps {
		if m.ReadOnly {
			if err := k.maps[i].Freeze(); err != nil {
				k.Close()
				return nil, fmt.Errorf("map %s: freeze: %w", m.Name, err)
			}
		}
	}
	return k, nil
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

// Mutants: the sections above are nearly all safe, so they test precision
// far more than soundness. Each program (and each conformance program
// nfpcc accepts) is therefore also changed one instruction at a time (an
// instruction replaced by a no-op, a memory offset moved or an access
// widened, a comparison loosened or tightened or its target moved, an
// immediate off by one, an ALU operation swapped, another register or
// another map used), and both verifiers
// judge every distinct mutant. A mutant the kernel rejects and nfpcc
// accepts is a soundness bug unless a class below explains it; one the
// kernel accepts and nfpcc rejects is imprecision, with the same rule.

// mutantClass explains one kind of disagreement on mutants.
type mutantClass struct {
	kernelAccepts bool           // the direction: kernel accepts and nfpcc rejects, or the reverse
	reason        *regexp.Regexp // matches nfpcc's error (kernel accepts) or the kernel's reason (kernel rejects)
	only          []string       // if set, the mutant's name must start with one of these
	// check, if set, must hold too: it sees the mutant, nfpcc's result
	// (when nfpcc accepts) and the kernel's log (when the kernel rejects).
	check func(m mutant, res *verifier.Result, log []string) bool
	why   string
}

var mutantClasses = []mutantClass{
	{
		kernelAccepts: true,
		reason: regexp.MustCompile(`leaks addr|pointer comparison prohibited|pointer arithmetic with byte swap prohibited|` +
			`type=(pkt|pkt_end|pkt_meta|map_value|map_ptr|ctx|fp) expected=scalar|invalid mem access 'map_ptr'|` +
			`32-bit pointer arithmetic prohibited|partial copy of pointer|sign-extension of pointer|` +
			`pointer arithmetic with +operator prohibited|variable ctx access prohibited`),
		why: "the kernel runs as root, with allow_ptr_leaks (CAP_PERFMON): pointers may be returned, stored into " +
			"packet, map, context and atomic memory, passed as a helper's number argument or key bytes, compared " +
			"with numbers, byte-swapped, negated, copied or subtracted in 32 bits, sign-extended (the results are " +
			"unknown numbers), and a map pointer may be read as struct bpf_map (BTF); a variable added to a " +
			"context pointer is refused by the kernel only when the pointer is dereferenced, so such a pointer " +
			"can only leak; nfpcc refuses it at once. nfpcc keeps the no-leak " +
			"rules (docs/verifier.md, Rules), which the kernel applies without CAP_PERFMON",
	},
	{
		kernelAccepts: true,
		reason:        regexp.MustCompile(`invalid (indirect )?read from stack`),
		why: "the kernel runs as root, with allow_uninit_stack (CAP_PERFMON): stack bytes never written read as " +
			"unknown numbers; nfpcc rejects reads of uninitialised stack, as the kernel does without CAP_PERFMON",
	},
	{
		reason: regexp.MustCompile(`offset is outside of the packet`),
		only:   []string{"build/correlated_branch.o:"},
		why:    "the exception of TestVerifierKernelOracle: nfpcc turns a bound on data_end − data into a packet range",
	},
	{
		reason: regexp.MustCompile(`invalid mem access '(scalar|map_value_or_null)'|R[0-9] !read_ok`),
		only: []string{
			"prototype-kernel/xdp_bench01_mem_access_cost_kern.o:xdp_bench01:xdp_prog #53 ",
			"prototype-kernel/xdp_bench02_drop_pattern_kern.o:xdp_bench02:xdp_prog #62 ",
			"prototype-kernel/xdp_bench02_drop_pattern_kern.o:xdp_bench02:xdp_prog #68 ",
			"prototype-kernel/xdp_bench02_drop_pattern_kern.o:xdp_bench02:xdp_prog #70 src+9 ",
			"prototype-kernel/xdp_bench02_drop_pattern_kern.o:xdp_bench02:xdp_prog #98 ",
		},
		why: "the null check after an array lookup with key 0 is inverted, removed or retargeted (or a load on " +
			"the non-null path removed); nfpcc knows the lookup cannot fail (the " +
			"kernel's nullness elision), the kernel does not here: the key, a 32-bit zero at fp-8, lost its value in " +
			"the kernel when the program later wrote another part of the same 8-byte slot (fp-2 in xdp_bench01, " +
			"fp-4 in xdp_bench02; the kernel forgets a partial spill on any write to its slot), while nfpcc tracks " +
			"stack bytes one by one and still knows they are zero",
	},
	{
		check: kernelArith(func(m mutant, res *verifier.Result, log []string) bool {
			return deadInNfpcc(res, log) || decided(m, res)
		}),
		why: "nfpcc computes what this kernel does not: quotients and remainders (Linux 6.18 makes every DIV/MOD " +
			"result unknown) and shifts of constants by a count beyond the width (masked, RFC 9669; the kernel " +
			"makes them unknown); so nfpcc proves the instruction the kernel rejects at unreachable, or decides the " +
			"changed comparison, where the kernel explores a path that cannot run",
	},
	{
		only: []string{
			"bpf_conformance/tests/alu-arith.data #23 target-1 ",
			"bpf_conformance/tests/prime.data #7 nop ",
			"bpf_conformance/tests/prime.data #12 dst+9 ",
		},
		check: kernelArith(logHas(regexp.MustCompile(`infinite loop detected`))),
		why: "the same: the loop's exit condition depends on a quotient or remainder the kernel does not know " +
			"(alu-arith: 'if r0 != 42 goto self' after r0 = 336 / 2 / 4, an infinite loop for the kernel; prime: " +
			"a modulo loop whose unknown state repeats); nfpcc computes the values, and its path, all constants, " +
			"ends (where the kernel instead runs out of its million instructions, the verdict is a kernel-limit one)",
	},
}

// kernelInsn is the instruction the kernel's log rejects at: the last
// "N: (..)" line, or "infinite loop detected at insn N".
var kernelInsn = regexp.MustCompile(`^(\d+): \(|infinite loop detected at insn (\d+)`)

// deadInNfpcc: nfpcc accepted and its facts say the instruction the
// kernel rejected at is unreachable.
func deadInNfpcc(res *verifier.Result, log []string) bool {
	if res == nil {
		return false
	}
	for i := len(log) - 1; i >= 0; i-- {
		if m := kernelInsn.FindStringSubmatch(strings.TrimSpace(log[i])); m != nil {
			pc, _ := strconv.Atoi(m[1] + m[2])
			return pc < len(res.Facts) && !res.Facts[pc].Reachable
		}
	}
	return false
}

// decided: the changed instruction is a conditional jump whose operands
// nfpcc knows as constants, so only one of its edges can run.
func decided(m mutant, res *verifier.Result) bool {
	if res == nil || m.slot >= len(res.Facts) || !res.Facts[m.slot].Reachable {
		return false
	}
	ins := m.prog.Insns[slotIndex(m.prog, m.slot)]
	if !ins.OpCode.Class().IsJump() {
		return false
	}
	if _, ok := swapJump[ins.OpCode.JumpOp()]; !ok {
		return false
	}
	f := res.Facts[m.slot]
	return f.Regs[ins.Dst].IsConst() && (ins.OpCode.Source() == asm.ImmSource || f.Regs[ins.Src].IsConst())
}

// slotIndex is the index in Insns of the instruction at slot.
func slotIndex(p *loader.Program, slot int) int {
	s := 0
	for i, ins := range p.Insns {
		if s == slot {
			return i
		}
		s += int(ins.Size() / asm.InstructionSize)
	}
	return len(p.Insns) - 1
}

// logHas: the kernel's log has a line matching re.
func logHas(re *regexp.Regexp) func(mutant, *verifier.Result, []string) bool {
	return func(_ mutant, _ *verifier.Result, log []string) bool {
		for _, l := range log {
			if re.MatchString(l) {
				return true
			}
		}
		return false
	}
}

// kernelArith wraps a check with "the program divides, or shifts by a
// register", the arithmetic this kernel leaves unknown and nfpcc computes.
func kernelArith(then func(mutant, *verifier.Result, []string) bool) func(mutant, *verifier.Result, []string) bool {
	return func(m mutant, res *verifier.Result, log []string) bool {
		for _, ins := range m.prog.Insns {
			op := ins.OpCode.ALUOp()
			if !ins.OpCode.Class().IsALU() {
				continue
			}
			if op == asm.Div || op == asm.Mod || op == asm.SDiv || op == asm.SMod ||
				(op == asm.LSh || op == asm.RSh || op == asm.ArSh) && ins.OpCode.Source() == asm.RegSource {
				return then == nil || then(m, res, log)
			}
		}
		return false
	}
}

// swapJump loosens or tightens a conditional jump.
var swapJump = map[asm.JumpOp]asm.JumpOp{
	asm.JEq: asm.JNE, asm.JNE: asm.JEq, asm.JGT: asm.JGE, asm.JGE: asm.JGT,
	asm.JLT: asm.JLE, asm.JLE: asm.JLT, asm.JSGT: asm.JSGE, asm.JSGE: asm.JSGT,
	asm.JSLT: asm.JSLE, asm.JSLE: asm.JSLT, asm.JSet: asm.JNE,
}

// swapALU replaces an operation by a related one.
var swapALU = map[asm.ALUOp]asm.ALUOp{
	asm.Add: asm.Sub, asm.Sub: asm.Add, asm.And: asm.Or, asm.Or: asm.And, asm.LSh: asm.RSh, asm.RSh: asm.ArSh,
	asm.ArSh: asm.LSh, asm.Mov: asm.Add, asm.Mul: asm.Div, asm.Div: asm.Mul, asm.Xor: asm.And,
}

// mutant is a program with one instruction changed.
type mutant struct {
	name string // case name, "#" instruction index (LD_IMM64 counts one), the change
	prog *loader.Program
	slot int // the changed instruction's slot (LD_IMM64 counts two)
}

// mutants lists p's single-instruction mutants, in instruction order;
// nmaps is how many maps its object has.
func mutants(name string, p *loader.Program, nmaps int) []mutant {
	var out []mutant
	slot := 0
	add := func(i int, what string, f func(ins *asm.Instruction)) {
		q := *p
		q.Insns = append(asm.Instructions(nil), p.Insns...)
		f(&q.Insns[i])
		out = append(out, mutant{fmt.Sprintf("%s #%d %s (%v)", name, i, what, p.Insns[i]), &q, slot})
	}
	for i, ins := range p.Insns {
		if i > 0 {
			slot += int(p.Insns[i-1].Size() / asm.InstructionSize)
		}
		op := ins.OpCode
		if !op.IsDWordLoad() && op.JumpOp() != asm.Exit {
			add(i, "nop", func(ins *asm.Instruction) {
				*ins = asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)}
			})
		}
		if op.IsDWordLoad() && ins.Src == asm.PseudoMapFD {
			// Another map of the object: helpers meet map types they
			// do not take, keys and values of the wrong size.
			for j := 0; j < nmaps; j++ {
				if int64(j) != ins.Constant {
					add(i, fmt.Sprintf("map %d", j), func(ins *asm.Instruction) { ins.Constant = int64(j) })
				}
			}
		}
		if !op.IsDWordLoad() && !op.Class().IsJump() {
			// Another register as destination or source (r1 and r9
			// further on, r10 included): pointer kinds meet the wrong
			// operations.
			src := !op.Class().IsALU() || op.Source() == asm.RegSource
			for _, d := range []asm.Register{1, 9} {
				add(i, fmt.Sprintf("dst+%d", d), func(ins *asm.Instruction) { ins.Dst = (ins.Dst + d) % 11 })
				if src && op.Class() != asm.StClass && op.Class() != asm.LdClass {
					add(i, fmt.Sprintf("src+%d", d), func(ins *asm.Instruction) { ins.Src = (ins.Src + d) % 11 })
				}
			}
		}
		switch op.Class() {
		case asm.LdXClass, asm.StXClass, asm.StClass:
			if op.Mode() != asm.MemMode {
				continue
			}
			for _, d := range []int16{1, 4, 8, -4} {
				add(i, fmt.Sprintf("off%+d", d), func(ins *asm.Instruction) { ins.Offset += d })
			}
			if sz := op.Size(); sz != asm.DWord {
				wider := map[asm.Size]asm.Size{asm.Byte: asm.Half, asm.Half: asm.Word, asm.Word: asm.DWord}[sz]
				add(i, "size "+wider.String(), func(ins *asm.Instruction) { ins.OpCode = ins.OpCode.SetSize(wider) })
			}
		case asm.JumpClass, asm.Jump32Class:
			sw, ok := swapJump[op.JumpOp()]
			if !ok {
				continue
			}
			add(i, "op "+sw.String(), func(ins *asm.Instruction) { ins.OpCode = ins.OpCode.SetJumpOp(sw) })
			for _, d := range []int16{1, -1} {
				add(i, fmt.Sprintf("target%+d", d), func(ins *asm.Instruction) { ins.Offset += d })
			}
			if op.Source() == asm.ImmSource {
				for _, d := range []int64{1, -1} {
					add(i, fmt.Sprintf("imm%+d", d), func(ins *asm.Instruction) { ins.Constant += d })
				}
			}
		case asm.ALUClass, asm.ALU64Class:
			if ao := op.ALUOp(); op.Source() != asm.ImmSource || ao == asm.Swap || ao == asm.Neg {
				continue
			}
			for _, d := range []int64{1, -1} {
				add(i, fmt.Sprintf("imm%+d", d), func(ins *asm.Instruction) { ins.Constant += d })
			}
			if sw, ok := swapALU[op.ALUOp()]; ok {
				add(i, "op "+sw.String(), func(ins *asm.Instruction) { ins.OpCode = ins.OpCode.SetALUOp(sw) })
			}
		}
	}
	return out
}

// defaultMutants is how many distinct mutants TestVerifierKernelMutants
// judges unless NFPCC_MUTANTS says otherwise: a fixed sample, drawn with
// defaultMutantSeed, that the kernel judges in well under a minute on a
// 2-core machine (the whole sweep, about 41,000 mutants, takes minutes
// and is run by hand).
const (
	defaultMutants    = 5000
	defaultMutantSeed = 1
)

// mutantPlan reads the sample size and seed: NFPCC_MUTANTS=all for every
// mutant, NFPCC_MUTANTS=N for a sample of N, NFPCC_MUTANT_SEED=S to draw
// another sample.
func mutantPlan() (n int, seed uint64, err error) {
	n, seed = defaultMutants, defaultMutantSeed
	switch v := os.Getenv("NFPCC_MUTANTS"); v {
	case "":
	case "all":
		n = -1
	default:
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			return 0, 0, fmt.Errorf("NFPCC_MUTANTS=%q: want \"all\" or a positive count", v)
		}
	}
	if v := os.Getenv("NFPCC_MUTANT_SEED"); v != "" {
		if seed, err = strconv.ParseUint(v, 0, 64); err != nil {
			return 0, 0, fmt.Errorf("NFPCC_MUTANT_SEED=%q: want a number", v)
		}
	}
	return n, seed, nil
}

// caseMutant is one distinct mutant of cases[c].
type caseMutant struct {
	c int
	m mutant
}

// distinctMutants lists every case's mutants once (the same instructions
// as the same program type are judged once), then keeps a seeded sample of
// n of them (all when n < 0), in case order.
func distinctMutants(t *testing.T, cases []verifierCase, n int, seed uint64) (sample []caseMutant, total int) {
	seen := map[string]bool{}
	var all []caseMutant
	for ci, c := range cases {
		for _, m := range mutants(c.name, c.prog, len(c.obj.Maps)) {
			raw, err := marshal(m.prog.Insns)
			if err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			if key := c.typ.String() + string(raw); !seen[key] {
				seen[key] = true
				all = append(all, caseMutant{ci, m})
			}
		}
	}
	if n < 0 || n >= len(all) {
		return all, len(all)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d7574616e7473))
	pick := rng.Perm(len(all))[:n]
	sort.Ints(pick)
	for _, i := range pick {
		sample = append(sample, all[i])
	}
	return sample, len(all)
}

// TestVerifierKernelMutants runs the mutants of every program of
// TestVerifierKernelOracle and of every conformance program nfpcc accepts
// through both verifiers: by default a fixed sample (see mutantPlan;
// skipped with -short).
//
// Reproduce: go test ./testsuite/oracle -run TestVerifierKernelMutants -v
// The whole sweep: NFPCC_MUTANTS=all go test ./testsuite/oracle -run TestVerifierKernelMutants -v -timeout 2h
func TestVerifierKernelMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: thousands of kernel loads")
	}
	if err := probeKernel(); err != nil {
		t.Skipf("kernel oracle unavailable: %v", err)
	}
	want, seed, err := mutantPlan()
	if err != nil {
		t.Fatal(err)
	}
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := verifierCases(t)
	nsamples := len(cases)
	if testsuite.CorporaDir() != "" {
		conf, _ := conformancePrograms(t)
		for _, c := range conf {
			// Mutants of the programs nfpcc accepts: mutants of rejected ones
			// are mostly rejected by both for the original reason.
			if _, err := verifier.Verify(c.prog, nil, nil); err == nil {
				cases = append(cases, c)
			}
		}
	}
	sample, total := distinctMutants(t, cases, want, seed)
	var counts [2][2]int
	var limits limitTally
	explained := make([]int, len(mutantClasses))
	var unexplained, noVerdict []string
	modesLimit := 0 // verdict-only accepts where the facts mode hit its limit
	var k *kernelMaps
	kc := -1
	defer func() {
		if k != nil {
			k.Close()
		}
	}()
	for _, cm := range sample {
		c, m := cases[cm.c], cm.m
		if cm.c != kc {
			if k != nil {
				k.Close()
			}
			if k, err = loaderMaps(c.obj, ncpu); err != nil {
				t.Fatalf("%s: kernel: %v", c.name, err)
			}
			kc = cm.c
		}
		prog, log, kerr := loadProgramAs(m.prog, c.typ, k)
		if kerr == nil {
			prog.Close()
		}
		res, nerr := verifier.Verify(m.prog, c.obj.Maps, &verifier.Options{Type: c.typ})
		// nfpcc verify prunes as the kernel does (VerdictOnly): its verdict
		// must be the facts mode's, except where only the facts mode ran
		// into the processed-instruction limit.
		if _, verr := verifier.Verify(m.prog, c.obj.Maps, &verifier.Options{Type: c.typ, VerdictOnly: true}); (verr == nil) != (nerr == nil) {
			if verr == nil && strings.Contains(nerr.Error(), "BPF program is too large") {
				modesLimit++
			} else {
				t.Errorf("%s: the verdict-only mode says %v, the facts mode %v", m.name, errOrAccepted(verr), errOrAccepted(nerr))
			}
		}
		if kerr != nil && log == nil {
			// Not a verdict: the kernel failed without a verifier log.
			// On Linux 6.18 these are EFAULTs of its own consistency
			// check (dmesg: "verifier bug: REG INVARIANTS VIOLATION").
			noVerdict = append(noVerdict, fmt.Sprintf("%s: kernel: %v; nfpcc: %v", m.name, kerr, errOrAccepted(nerr)))
			continue
		}
		if kerr != nil && hitKernelLimit(log) {
			limits.add(m.name, log, nerr)
			continue
		}
		kOK, nOK := kerr == nil, nerr == nil
		counts[b2i(kOK)][b2i(nOK)]++
		if kOK == nOK {
			continue
		}
		reason := kernelReason(log)
		if kOK {
			reason = nerr.Error()
		}
		if i := classify(m, kOK, reason, res, log); i >= 0 {
			explained[i]++
			continue
		}
		if kOK {
			unexplained = append(unexplained, fmt.Sprintf("%s: kernel accepts, nfpcc rejects: %v", m.name, nerr))
		} else {
			unexplained = append(unexplained, fmt.Sprintf("%s: kernel rejects, nfpcc accepts\n    kernel: %s", m.name, reason))
		}
	}
	for _, u := range unexplained {
		t.Error(u)
	}
	scope := fmt.Sprintf("a sample of %d (seed %d; NFPCC_MUTANTS=all for every one)", len(sample), seed)
	if len(sample) == total {
		scope = "all of them"
	}
	t.Logf("kernel oracle for the verifier, single-instruction mutants of %d programs (%d XDP/tc, %d conformance): %d distinct, %s",
		len(cases), nsamples, len(cases)-nsamples, total, scope)
	t.Logf("%-16s %8s %8s %8s %8s", "", "k+ n+", "k+ n-", "k- n+", "k- n-")
	t.Logf("%-16s %8d %8d %8d %8d", "mutants", counts[1][1], counts[1][0], counts[0][1], counts[0][0])
	limits.report(t)
	t.Logf("verdict-only mode (nfpcc verify's pruning) equal to the facts mode on every mutant but %d the facts mode gave up on (processed-instruction limit)", modesLimit)
	t.Logf("%d disagreements unexplained; explained:", len(unexplained))
	for i, c := range mutantClasses {
		dir := "kernel rejects, nfpcc accepts"
		if c.kernelAccepts {
			dir = "kernel accepts, nfpcc rejects"
		}
		match := "(any reason)"
		if c.reason != nil {
			match = "/" + c.reason.String() + "/"
		}
		t.Logf("  %4d × %s %s: %s", explained[i], dir, match, c.why)
	}
	t.Logf("%d mutants without a kernel verdict (the kernel failed without a verifier log, not counted above):", len(noVerdict))
	for _, n := range noVerdict {
		t.Logf("  %s", n)
	}
}

// classify returns the index of the class explaining a disagreement on m,
// or -1.
func classify(m mutant, kernelAccepts bool, reason string, res *verifier.Result, log []string) int {
	for i, c := range mutantClasses {
		if c.kernelAccepts != kernelAccepts || c.reason != nil && !c.reason.MatchString(reason) {
			continue
		}
		if c.check != nil && !c.check(m, res, log) {
			continue
		}
		if len(c.only) == 0 {
			return i
		}
		for _, o := range c.only {
			if strings.HasPrefix(m.name, o) {
				return i
			}
		}
	}
	return -1
}

// conformancePrograms assembles the bpf_conformance (tests/, negative/) and
// ubpf test programs as XDP programs: behind XDPProlog (r1 = the packet,
// of the test's memory size) when the test has memory, alone otherwise.
// skipped lists the files without a program.
func conformancePrograms(t *testing.T) (progs []verifierCase, skipped []string) {
	dir := testsuite.Corpus(t, "bpf_conformance")
	var files []string
	for _, sub := range []string{"bpf_conformance/tests", "bpf_conformance/negative", "ubpf/tests"} {
		f, _ := filepath.Glob(filepath.Join(dir, "..", sub, "*.data"))
		files = append(files, f...)
	}
	sort.Strings(files)
	for _, f := range files {
		name, _ := filepath.Rel(filepath.Dir(dir), f)
		if testing.Short() && name == "ubpf/tests/mul-loop-memory-iterations.data" {
			// A loop bounded by a packet byte: the kernel spends about 9 s
			// on its million-instruction budget before rejecting it.
			skipped = append(skipped, name+": -short")
			continue
		}
		tf, err := conformance.ParseFile(f)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		insns, _, err := conformance.Program(tf)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if len(tf.Mem) > 0 {
			insns = append(conformance.XDPProlog(len(tf.Mem)), insns...)
		}
		p := &loader.Program{Name: name, Type: ebpf.XDP, License: "GPL", Insns: insns}
		progs = append(progs, verifierCase{name: name, obj: &loader.Object{}, prog: p, typ: ebpf.XDP})
	}
	return progs, skipped
}

// conformanceExceptions lists bpf_conformance tests on which the verifiers
// disagree, with the reason.
var conformanceExceptions = map[string]string{
	// cilium/ebpf, which encodes the program for BPF_PROG_LOAD, writes the
	// offset of a plain ALU instruction as 0, so the kernel never sees the
	// reserved field these tests set; nfpcc sees it and rejects as the
	// kernel's check_alu_op would ("BPF_MOV uses reserved fields").
	"bpf_conformance/negative/unused-mov64_imm-offset.data": "the kernel is given the instruction without its offset",
	"bpf_conformance/negative/unused-mov_imm-offset.data":   "the kernel is given the instruction without its offset",
}

// TestVerifierKernelConformance judges every bpf_conformance program
// (tests/ and negative/, the ones that assemble) with both verifiers, as
// an XDP program: behind XDPProlog (r1 = the packet, of the test's memory
// size) when the test has memory, alone otherwise. These programs cover
// every instruction of the ISA, cpu v4 included, and the reserved-field
// rules, which the XDP samples hardly exercise.
//
// Reproduce: go test ./testsuite/oracle -run TestVerifierKernelConformance -v
func TestVerifierKernelConformance(t *testing.T) {
	if err := probeKernel(); err != nil {
		t.Skipf("kernel oracle unavailable: %v", err)
	}
	progs, skipped := conformancePrograms(t)
	noMaps := &kernelMaps{}
	var counts [2][2]int
	var limits limitTally
	matched, present := map[string]bool{}, map[string]bool{}
	for _, c := range progs {
		name, p := c.name, c.prog
		present[name] = true
		prog, log, kerr := loadProgramAs(p, ebpf.XDP, noMaps)
		if kerr == nil {
			prog.Close()
		} else if log == nil {
			skipped = append(skipped, fmt.Sprintf("%s: kernel: %v", name, kerr))
			continue
		}
		_, nerr := verifier.Verify(p, nil, nil)
		if kerr != nil && hitKernelLimit(log) {
			limits.add(name, log, nerr)
			continue
		}
		kOK, nOK := kerr == nil, nerr == nil
		counts[b2i(kOK)][b2i(nOK)]++
		if kOK == nOK {
			continue
		}
		msg := fmt.Sprintf("%s: kernel accepts, nfpcc rejects: %v", name, nerr)
		if !kOK {
			msg = fmt.Sprintf("%s: kernel rejects, nfpcc accepts\n    kernel: %s", name, kernelReason(log))
		}
		if why, ok := conformanceExceptions[name]; ok {
			matched[name] = true
			t.Logf("%s\n    (exception: %s)", msg, why)
		} else {
			t.Error(msg)
		}
	}
	staleExceptions(t, conformanceExceptions, matched, present)
	t.Logf("kernel oracle for the verifier, bpf_conformance as XDP: %d programs", counts[0][0]+counts[0][1]+counts[1][0]+counts[1][1])
	t.Logf("%-16s %8s %8s %8s %8s", "", "k+ n+", "k+ n-", "k- n+", "k- n-")
	t.Logf("%-16s %8d %8d %8d %8d", "conformance", counts[1][1], counts[1][0], counts[0][1], counts[0][0])
	limits.report(t)
	t.Logf("%d files not judged (no program, or no kernel verdict):", len(skipped))
	for _, s := range skipped {
		t.Logf("  %s", s)
	}
}
