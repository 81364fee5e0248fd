package lift

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
)

// FuzzLift: any instruction stream lifts to IR that passes Check, or gives
// an error; never a panic.
func FuzzLift(f *testing.F) {
	files, _ := filepath.Glob("testdata/asm/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if code, err := conformance.Assemble(sectionOf(ar, "asm"), 1); err == nil {
			f.Add(code)
		}
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		code = code[:len(code)/8*8]
		insns, err := asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
		if err != nil || len(insns) == 0 {
			return
		}
		m, err := Program(programFromInsns("fuzz", insns), nil)
		if err != nil {
			return
		}
		if err := ir.CheckModule(m); err != nil {
			t.Fatalf("invalid IR: %v", err)
		}
	})
}
