package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/testsuite"
)

// TestObjdumpTest1 runs the command as a user would on binutils' test1 and
// compares with GNU objdump 2.40's output.
func TestObjdumpTest1(t *testing.T) {
	dir := testsuite.Corpus(t, "binutils-nfp")
	t.Chdir(dir) // objdump's header names the file as given
	var out, errb bytes.Buffer
	if rc := Main([]string{"objdump", "test1_nfp6000.nffw"}, &out, &errb); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errb.String())
	}
	want, err := os.ReadFile(filepath.Join(dir, "test1.objdump-2.40.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("output differs from GNU objdump 2.40")
	}
}

func TestObjdumpRaw(t *testing.T) {
	dir := t.TempDir()
	hex := filepath.Join(dir, "w.hex")
	os.WriteFile(hex, []byte("# two words\n0x0002c0f0012cd280\n000000f0000c0300\n"), 0o644)
	bin := filepath.Join(dir, "w.bin")
	os.WriteFile(bin, []byte{0x80, 0xd2, 0x2c, 0x01, 0xf0, 0xc0, 0x02, 0x00, 0, 0x03, 0x0c, 0, 0xf0, 0, 0, 0}, 0o644)
	for _, f := range []string{hex, bin} {
		var out, errb bytes.Buffer
		if rc := Main([]string{"objdump", "--raw", "-M", "ctx4", f}, &out, &errb); rc != 0 {
			t.Fatalf("%s: exit %d: %s", f, rc, errb.String())
		}
		for _, want := range []string{"   0:\t0002c0f0012cd280 \t.0  immed[n$reg_0, 0x1234]\n", "   8:\t000000f0000c0300 \t.1  nop\n"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: output lacks %q:\n%s", f, want, out.String())
			}
		}
	}
}

func TestObjdumpErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hex")
	os.WriteFile(bad, []byte("12\nzz\n"), 0o644)
	for _, args := range [][]string{
		{"objdump"},
		{"objdump", "-M", "ctx5", bad},
		{"objdump", "--raw", bad},
		{"objdump", bad},
		{"objdump", filepath.Join(dir, "missing")},
	} {
		var out, errb bytes.Buffer
		if rc := Main(args, &out, &errb); rc != 2 {
			t.Errorf("%v: exit %d, want 2", args, rc)
		}
		if len(args) > 2 && !strings.Contains(errb.String(), "nfpcc objdump") {
			t.Errorf("%v: error %q does not name the command", args, errb.String())
		}
	}
}
