package conformance_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
)

// TestDisassembleRoundTrip assembles every corpus program, prints it and
// assembles the text again: the bytes must be the same.
func TestDisassembleRoundTrip(t *testing.T) {
	n := 0
	for _, corpus := range []string{"bpf_conformance", "ubpf"} {
		for _, f := range dataFiles(t, testsuite.Corpus(t, corpus)) {
			tf, err := conformance.ParseFile(f)
			if err != nil || !tf.HasAsm {
				continue
			}
			code, err := conformance.Assemble(tf.Asm, tf.AsmLine)
			if err != nil || len(code) == 0 {
				continue
			}
			text, err := conformance.Disassemble(code)
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				continue
			}
			again, err := conformance.Assemble(text, 1)
			if err != nil {
				t.Errorf("%s: printed text does not assemble: %v\n%s", filepath.Base(f), err, text)
				continue
			}
			if !bytes.Equal(code, again) {
				t.Errorf("%s: round trip changed the code\n%s", filepath.Base(f), text)
			}
			n++
		}
	}
	if n < 300 {
		t.Errorf("only %d programs round-tripped", n)
	}
	t.Logf("%d programs round-tripped", n)
}
