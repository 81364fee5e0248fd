package image

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/testsuite"
)

// TestGNUObjdump checks that GNU objdump finds and decodes the code of an
// image as the kernel's JIT code is read: in 4-context mode (gprB_22 is a
// 4-context register number) without -M ctx4, under the program's symbol,
// every word as isa's disassembler prints it.
func TestGNUObjdump(t *testing.T) {
	objdump := testsuite.GNUObjdump(t)
	img := xdpPassImage(t)
	b, err := img.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "xdp_pass.nfp")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(objdump, "-d", file)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("objdump -d: %v\n%s", err, errb.String())
	}
	text := out.String()
	for _, want := range []string{"file format elf64-nfp", "Disassembly of section .text.i32.me0:", "<xdp_pass>:"} {
		if !strings.Contains(text, want) {
			t.Errorf("objdump output lacks %q", want)
		}
	}
	if strings.Contains(text, "ERROR") || errb.Len() > 0 {
		t.Errorf("objdump reports errors:\n%s%s", text, errb.String())
	}
	for i, w := range img.Code {
		line := isa.ObjdumpLine(i, len(img.Code), isa.Word(w), isa.Options{Mode: isa.Ctx4})
		if !strings.Contains(text, line+"\n") {
			t.Errorf("objdump output lacks %q", line)
		}
	}
	if t.Failed() {
		t.Logf("objdump -d:\n%s", text)
	}
}

func BenchmarkMarshal(b *testing.B) {
	img := richImage(b)
	for b.Loop() {
		if _, err := img.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	data, err := richImage(b).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}
