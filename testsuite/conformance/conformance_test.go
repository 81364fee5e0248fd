package conformance_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
)

func dataFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := conformance.DataFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestBPFConformance runs every bpf_conformance test on the interpreter:
// all must pass.
func TestBPFConformance(t *testing.T) {
	dir := filepath.Join(testsuite.Corpus(t, "bpf_conformance"), "tests")
	files := dataFiles(t, dir)
	if len(files) != 313 {
		t.Errorf("found %d test files, expected 313", len(files))
	}
	passed := 0
	for _, f := range files {
		o := conformance.RunFile(conformance.Interp{}, f)
		if !o.Passed() {
			t.Errorf("%s", o.Line())
			continue
		}
		passed++
	}
	t.Logf("%d passed, %d failed", passed, len(files)-passed)
}

// TestBPFConformanceNegative checks that every file of negative/ fails,
// and fails the way it is meant to. The expected errors in those files are
// bpf_conformance's or the kernel's words; ours are compared by kind (and,
// where our assembler mirrors bpf_conformance's message, by text).
func TestBPFConformanceNegative(t *testing.T) {
	dir := filepath.Join(testsuite.Corpus(t, "bpf_conformance"), "negative")
	type want struct {
		kind conformance.Kind
		text string
	}
	unusedField := want{conformance.KindLoad, "reserved field"}
	expect := map[string]want{
		// "Test file has no BPF instructions"
		"empty.data":                     {conformance.KindNoProgram, "no BPF instructions"},
		"empty_instructions.data":        {conformance.KindNoProgram, "no BPF instructions"},
		"invalid_unknown_directive.data": {conformance.KindNoProgram, "no BPF instructions"},
		// The kernel's "Failed to load program": r0 is read before it is set.
		"error.data": {conformance.KindLoad, "r0 is read before it is written"},
		// "incorrect return value ... 9905498421827150353"
		"incorrect_return_value_high_bits.data": {conformance.KindWrongValue, "expected 0x8977665544332211, got 0x8877665544332211"},
		// bpf_conformance's assembler messages, which ours repeats.
		"invalid_imm32_dec_range.data": {conformance.KindAssemble, "Immediate out of 32-bit range: 2147483648"},
		"invalid_imm32_hex_range.data": {conformance.KindAssemble, "Immediate out of 32-bit range: 0x100000000"},
		"invalid_label.data":           {conformance.KindAssemble, "Invalid label: NOT_A_LABEL"},
		"invalid_lock.data":            {conformance.KindAssemble, "Invalid number of operands for lock"},
		"invalid_lock2.data":           {conformance.KindAssemble, "Invalid number of operands for lock"},
		"invalid_mnemonic.data":        {conformance.KindAssemble, "Invalid mnemonic: ldxq"},
		"invalid_offset.data":          {conformance.KindAssemble, "Failed to decode register and offset: %r1"},
		"invalid_offset_range.data":    {conformance.KindAssemble, "Offset out of 16-bit range: +0x10000"},
		"invalid_operand_count.data":   {conformance.KindAssemble, "Invalid number of operands for mnemonic: lddw"},
		"invalid_register.data":        {conformance.KindAssemble, "Invalid register: %r50"},
	}
	files := dataFiles(t, dir)
	if len(files) != 60 {
		t.Errorf("found %d negative files, expected 60", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		w, ok := expect[name]
		if !ok && strings.HasPrefix(name, "unused-") {
			// Non-zero unused fields: the loader must reject the program.
			w, ok = unusedField, true
		}
		if !ok {
			t.Errorf("%s: no expectation for this negative test", name)
			continue
		}
		o := conformance.RunFile(conformance.Interp{}, f)
		msg := o.Detail
		if o.GotError != nil {
			msg = o.GotError.Error()
		}
		switch {
		case strings.HasPrefix(name, "unused-") || name == "error.data":
			// These carry "-- error": the runner counts the rejection as
			// the expected outcome; check what was raised.
			if o.GotError == nil {
				t.Errorf("%s: ran without error (%s); the program must be rejected", name, o.Line())
				continue
			}
			if !strings.Contains(o.Detail, string(w.kind)) {
				t.Errorf("%s: failure kind: %s, want %s", name, o.Detail, w.kind)
			}
		default:
			if o.Passed() {
				t.Errorf("%s: passed; a negative test must fail", name)
				continue
			}
			if o.Kind != w.kind {
				t.Errorf("%s: kind %q, want %q (%s)", name, o.Kind, w.kind, o.Line())
			}
		}
		if !strings.Contains(msg, w.text) {
			t.Errorf("%s: message %q does not contain %q", name, msg, w.text)
		}
	}
}

// TestUBPFCorpus runs uBPF's tests. Those that cannot pass here are listed
// with the reason; everything else must pass.
func TestUBPFCorpus(t *testing.T) {
	dir := filepath.Join(testsuite.Corpus(t, "ubpf"), "tests")
	notApplicable := map[string]string{
		"errors/err-unknown-opcode.data": "0x06 is JA32 (gotol), valid since RFC 9669; uBPF's older loader rejects it",
		"reload.data":                    "tests uBPF's VM API (loading code twice into one VM)",
	}
	passed, skipped := 0, 0
	files := dataFiles(t, dir)
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		tf, err := conformance.ParseFile(f)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if strings.HasPrefix(rel, "elf/") {
			skipped++ // -- pyelf: ELF loader tests of uBPF, built by a Python script
			continue
		}
		o := conformance.RunTest(conformance.Interp{}, tf)
		if reason, na := notApplicable[rel]; na {
			if o.Passed() {
				t.Errorf("%s passes now; remove it from the not-applicable list (%s)", rel, reason)
			}
			skipped++
			continue
		}
		if !o.Passed() {
			t.Errorf("%s", o.Line())
			continue
		}
		passed++
	}
	t.Logf("uBPF corpus: %d passed, %d not applicable, of %d", passed, skipped, len(files))
}

// TestBPFConformanceAsXDP runs the same tests as XDP programs, the memory
// as the packet behind bpf_conformance's XDP prolog: the way an engine
// that only runs XDP programs (the NFP) takes them.
func TestBPFConformanceAsXDP(t *testing.T) {
	files := dataFiles(t, filepath.Join(testsuite.Corpus(t, "bpf_conformance"), "tests"))
	e := conformance.Engines["interp-xdp"]()
	for _, f := range files {
		if o := conformance.RunFile(e, f); !o.Passed() {
			t.Errorf("%s", o.Line())
		}
	}
}
