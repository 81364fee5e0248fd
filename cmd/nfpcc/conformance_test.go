package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/testsuite"
)

func TestConformanceCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.data", "-- asm\nmov %r0, 3\nexit\n-- result\n0x3\n")
	bad := write("bad.data", "-- asm\nmov %r0, 3\nexit\n-- result\n0x4\n")
	code, out, _ := nfpcc("conformance", good, bad)
	want := bad + ": wrong result: expected 0x4, got 0x3\n1 passed, 1 failed\n"
	if code != 1 || out != want {
		t.Errorf("exit %d, output:\n%s\nwant exit 1 and:\n%s", code, out, want)
	}
	code, out, _ = nfpcc("conformance", "--engine=interp", good)
	if code != 0 || out != "1 passed, 0 failed\n" {
		t.Errorf("exit %d, output %q", code, out)
	}
	code, _, errOut := nfpcc("conformance", "--engine=nfp9000", good)
	if code != 2 || !strings.Contains(errOut, `unknown engine "nfp9000" (known: interp, interp-xdp, nfp, nfp-O0)`) {
		t.Errorf("unknown engine: exit %d, %q", code, errOut)
	}
	if code, _, _ := nfpcc("conformance"); code != 2 {
		t.Errorf("no files: exit %d", code)
	}
	code, out, _ = nfpcc("conformance", filepath.Join(dir, "missing.data"))
	if code != 1 || !strings.HasSuffix(out, "0 passed, 1 failed\n") || !strings.Contains(out, "test file error") {
		t.Errorf("missing file: exit %d, %q", code, out)
	}
}

// TestConformanceNFP runs tests compiled for the NFP on its emulator: a
// program the compiler refuses is listed with the reason and counted
// apart, never as a failure; a wrong r0 (all 64 bits, read back from the
// packet) fails.
func TestConformanceNFP(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.data", "-- asm\nlddw %r0, 0x123456789abcdef0\nexit\n-- result\n0x123456789abcdef0\n")
	mem := write("mem.data", "-- asm\nldxdw %r0, [%r1+2]\nstb [%r1+9], 1\nexit\n-- mem\n00 00 01 02 03 04 05 06 07 08\n-- result\n0x0807060504030201\n")
	high := write("high.data", "-- asm\nlddw %r0, 0x123456789abcdef0\nexit\n-- result\n0x1234567a9abcdef0\n")
	shift := write("shift.data", "-- asm\nmov %r0, 1\nlsh %r0, 68\nexit\n-- result\n0x10\n")
	code, out, _ := nfpcc("conformance", "--engine=nfp", "-v", good, mem, high, shift)
	want := good + ": pass\n" + mem + ": pass\n" +
		high + ": wrong result: expected 0x1234567a9abcdef0, got 0x123456789abcdef0\n" +
		shift + ": not compiled: rejected by the verifier: 1: (r0 <<= 68) invalid shift 68\n" +
		"2 passed, 1 failed, 1 not compiled\n"
	if code != 1 || out != want {
		t.Errorf("exit %d, output:\n%s\nwant exit 1 and:\n%s", code, out, want)
	}
	code, out, _ = nfpcc("conformance", "--engine=nfp", good, shift)
	if want := shift + ": not compiled: rejected by the verifier: 1: (r0 <<= 68) invalid shift 68\n1 passed, 0 failed, 1 not compiled\n"; code != 0 || out != want {
		t.Errorf("a refusal is no failure: exit %d, output:\n%s\nwant exit 0 and:\n%s", code, out, want)
	}
}

// TestConformanceCorpus is the acceptance run: every bpf_conformance test
// passes on the interpreter.
func TestConformanceCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testsuite.Corpus(t, "bpf_conformance"), "tests", "*.data"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := nfpcc(append([]string{"conformance"}, files...)...)
	if code != 0 || out != "313 passed, 0 failed\n" {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}
