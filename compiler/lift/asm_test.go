package lift

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// programFromInsns makes a loader.Program of raw instructions; the targets
// of `call local` become subprograms named fn<slot>.
func programFromInsns(name string, insns asm.Instructions) *loader.Program {
	p := &loader.Program{Name: name, Insns: insns, Funcs: []loader.Func{{Name: name, Slot: 0}}}
	slot := 0
	seen := map[int]bool{0: true}
	var starts []int
	for _, in := range insns {
		if in.OpCode.JumpOp() == asm.Call && in.Src == asm.PseudoCall {
			t := slot + 1 + int(in.Constant)
			if !seen[t] {
				seen[t] = true
				starts = append(starts, t)
			}
		}
		slot += int(in.Size() / asm.InstructionSize)
	}
	for _, s := range sortedInts(starts) {
		p.Funcs = append(p.Funcs, loader.Func{Name: fmt.Sprintf("fn%d", s), Slot: s})
	}
	return p
}

func sortedInts(xs []int) []int {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
	return xs
}

// caseName is the archive's name without directory and .txtar: the
// program's name in the IR.
func caseName(a *golden.Archive) string {
	return strings.TrimSuffix(filepath.Base(a.Name()), ".txtar")
}

func assemble(t *testing.T, src string) asm.Instructions {
	code, err := conformance.Assemble(src, 1)
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return insns
}

// TestAsm lifts the uBPF-syntax programs of testdata/asm/*.txtar (section
// `asm`) without verifier facts and compares the IR with section `ir`: the
// cases pin SSA construction (block parameters, trivial ones removed,
// undef), stack-slot promotion and its refusals, 32-bit ops, calls.
func TestAsm(t *testing.T) {
	golden.Run(t, "testdata/asm/*.txtar", func(t *testing.T, a *golden.Archive) {
		m, err := Program(programFromInsns(caseName(a), assemble(t, a.Section("asm"))), nil)
		var got string
		if err != nil {
			got = "error: " + err.Error() + "\n"
		} else {
			got = ir.Print(m)
		}
		a.Check(t, "ir", got)
	})
}

// TestAsmVerified is TestAsm for XDP programs run through the verifier
// first (testdata/asm_verified/*.txtar): the IR shows what the facts do —
// branches the verifier proved one-way become jumps and their dead blocks
// disappear, context pointer fields become ctxptr, accesses get regions.
func TestAsmVerified(t *testing.T) {
	golden.Run(t, "testdata/asm_verified/*.txtar", func(t *testing.T, a *golden.Archive) {
		p := programFromInsns(caseName(a), assemble(t, a.Section("asm")))
		p.Type = ebpf.XDP
		var got string
		res, err := verifier.Verify(p, nil, nil)
		if err != nil {
			got = "verifier: " + err.Error() + "\n"
		} else if m, err := Program(p, VerifierFacts(res)); err != nil {
			got = "error: " + err.Error() + "\n"
		} else {
			got = ir.Print(m)
		}
		a.Check(t, "ir", got)
	})
}

// TestConformanceCorpus lifts every program of bpf_conformance (313 tests,
// every instruction of RFC 9669): each must lift to valid IR that
// round-trips, or fail with a "not supported" error.
func TestConformanceCorpus(t *testing.T) {
	dir := testsuite.Corpus(t, "bpf_conformance")
	files, _ := filepath.Glob(filepath.Join(dir, "tests", "*.data"))
	var lifted, unsupported, skipped int
	for _, file := range files {
		tf, err := conformance.ParseFile(file)
		if err != nil {
			skipped++
			continue
		}
		insns, _, err := conformance.Program(tf)
		if err != nil {
			skipped++
			continue
		}
		m, err := Program(programFromInsns("test", insns), nil)
		if err != nil {
			if !strings.Contains(err.Error(), "not supported") || strings.Contains(err.Error(), "BUG") {
				t.Errorf("%s: %v", filepath.Base(file), err)
			}
			unsupported++
			continue
		}
		lifted++
		text := ir.Print(m)
		m2, err := ir.Parse(text)
		if err != nil || ir.Print(m2) != text {
			t.Errorf("%s: IR does not round-trip: %v", filepath.Base(file), err)
		}
	}
	t.Logf("%d files: %d lifted, %d not supported, %d without a program", len(files), lifted, unsupported, skipped)
}
