package verifier_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestCallbackGoldensKernel loads the callback goldens into the running
// kernel (with the BTF func_info it requires for callbacks) and checks
// that it gives the goldens' verdicts, with the same message on a
// rejection. It skips where BPF programs cannot be loaded (not root, no
// BPF).
func TestCallbackGoldensKernel(t *testing.T) {
	files, _ := filepath.Glob("testdata/verify/callback_*.txtar")
	if len(files) == 0 {
		t.Fatal("no callback goldens")
	}
	for _, f := range files {
		a := golden.Open(t, f)
		insns := goldenInsns(t, a)
		typ := ebpf.XDP
		if strings.Contains(a.Section("type"), "tc") {
			typ = ebpf.SchedCLS
		}
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16})
		if err != nil {
			t.Skipf("cannot create BPF maps here: %v", err)
		}
		// Functions: the entry and the callback (the target of the
		// LD_IMM64 of a function), each with a BTF prototype.
		slot := 0
		cbSlot := -1
		for i := range insns {
			if insns[i].OpCode.IsDWordLoad() && insns[i].Src == asm.PseudoFunc {
				cbSlot = slot + 1 + int(insns[i].Constant)
			}
			slot += int(insns[i].Size() / 8)
		}
		proto := func(n int) *btf.FuncProto {
			var ps []btf.FuncParam
			for i := 0; i < n; i++ {
				ps = append(ps, btf.FuncParam{Name: fmt.Sprintf("a%d", i), Type: &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}})
			}
			return &btf.FuncProto{Return: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Params: ps}
		}
		slot = 0
		for i := range insns {
			if insns[i].OpCode.IsDWordLoad() && insns[i].Src == asm.PseudoMapFD {
				insns[i].Constant = int64(m.FD())
			}
			if slot == 0 {
				insns[i] = btf.WithFuncMetadata(insns[i], &btf.Func{Name: "main", Type: proto(1), Linkage: btf.GlobalFunc})
				insns[i] = insns[i].WithSymbol("main")
			}
			if slot == cbSlot {
				insns[i] = btf.WithFuncMetadata(insns[i], &btf.Func{Name: "cb", Type: proto(4), Linkage: btf.StaticFunc})
				insns[i] = insns[i].WithSymbol("cb")
			}
			if insns[i].OpCode.IsDWordLoad() && insns[i].Src == asm.PseudoFunc {
				insns[i] = insns[i].WithReference("cb")
			}
			slot += int(insns[i].Size() / 8)
		}
		var log []string
		p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: typ, Instructions: insns, License: "GPL"}, ebpf.ProgramOptions{LogLevel: 1})
		if err == nil {
			p.Close()
		} else {
			var ve *ebpf.VerifierError
			if !errors.As(err, &ve) {
				t.Errorf("%s: the kernel gives no verdict: %v", f, err)
				continue
			}
			log = ve.Log
		}
		want := strings.SplitN(a.Section("want"), "\n", 2)[0]
		reason, rejected := strings.CutPrefix(want, "rejected: ")
		if rejected {
			if _, r, ok := strings.Cut(reason, ") "); ok {
				reason = r
			}
		}
		switch {
		case err == nil && rejected:
			t.Errorf("%s: the kernel accepts, nfpcc rejects: %s", filepath.Base(f), want)
		case err != nil && !rejected:
			t.Errorf("%s: the kernel rejects, nfpcc accepts: %s", filepath.Base(f), strings.Join(log, " | "))
		case err != nil && !slices.Contains(log, reason):
			t.Errorf("%s: the kernel rejects with %q, nfpcc with %q", filepath.Base(f), strings.Join(log, " | "), reason)
		default:
			t.Logf("%s: %s (the kernel agrees)", filepath.Base(f), want)
		}
		m.Close()
	}
}
