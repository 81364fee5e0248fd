package isa_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/testsuite"
)

func readSections(t testing.TB, path string) []isa.CodeSection {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	secs, err := isa.ReadCodeSections(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return secs
}

// TestTest1MatchesGNU: every word of binutils' test1 disassembles to GNU
// objdump 2.40's exact text and re-encodes to the same word.
func TestTest1MatchesGNU(t *testing.T) {
	dir := testsuite.Corpus(t, "binutils-nfp")
	secs := readSections(t, filepath.Join(dir, "test1_nfp6000.nffw"))
	want, err := os.ReadFile(filepath.Join(dir, "test1.objdump-2.40.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := isa.WriteObjdump(&got, "test1_nfp6000.nffw", secs, isa.ObjdumpOptions{}); err != nil {
		t.Fatal(err)
	}
	gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	bad := 0
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			bad++
			if bad <= 20 {
				t.Errorf("line %d:\n got %q\nwant %q", i+1, g, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d lines differ", bad, len(wl))
	}
	words := 0
	for _, s := range secs {
		for _, w := range s.Words {
			words++
			if err := isa.CheckECC(w); err != nil {
				t.Errorf("%s: %v", s.Name, err)
			}
			if got, err := isa.Encode(isa.Decode(w)); err != nil || got != w {
				t.Errorf("%s: re-encode of 0x%016x = 0x%016x, %v", s.Name, uint64(w), uint64(got), err)
			}
		}
	}
	if words != 986 {
		t.Errorf("test1 has %d words, want 986", words)
	}
}

// TestTest2 checks the same words in 8- and 4-context mode against the
// testsuite's regular-expression lines (test2_ctx8.d, test2_no-pc_ctx4.d).
func TestTest2(t *testing.T) {
	dir := testsuite.Corpus(t, "binutils-nfp")
	secs := readSections(t, filepath.Join(dir, "test2_nfp6000.nffw"))
	for _, tc := range []struct {
		file string
		mode isa.Mode
		pc   bool
	}{{"test2_ctx8.d", isa.Ctx8, true}, {"test2_no-pc_ctx4.d", isa.Ctx4, false}} {
		d, err := os.ReadFile(filepath.Join(dir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var pats []string
		for _, l := range strings.Split(string(d), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "[0-9a-f]") || regexp.MustCompile(`^\s+[0-9a-f]+:`).MatchString(l) {
				pats = append(pats, l)
			}
		}
		var got []string
		for _, s := range secs {
			for i, w := range s.Words {
				opt := isa.Options{Mode: tc.mode, NoPC: !tc.pc}
				got = append(got, isa.ObjdumpLine(i, len(s.Words), w, opt))
			}
		}
		if len(pats) != len(got) {
			t.Fatalf("%s: %d expected lines, %d words", tc.file, len(pats), len(got))
		}
		for i := range pats {
			re, err := regexp.Compile("^" + pats[i] + "$")
			if err != nil {
				t.Fatalf("%s line %d: %v", tc.file, i, err)
			}
			if !re.MatchString(got[i]) {
				t.Errorf("%s: %q does not match %q", tc.file, got[i], pats[i])
			}
		}
	}
}

// TestFirmwareRoundTrip: every word of the CoreNIC firmware (22 ME text
// sections and 22 init sections) has a valid ECC and re-encodes to itself;
// exactly one word is undecodable as a command (GNU prints "# ERROR").
func TestFirmwareRoundTrip(t *testing.T) {
	dir := testsuite.Corpus(t, "binutils-nfp")
	secs := readSections(t, filepath.Join(dir, "nic_AMDA0097-0001_2x40-wpi1.nffw"))
	words, text, errs := 0, 0, 0
	for _, s := range secs {
		if strings.HasPrefix(s.Name, ".text.") {
			text++
		}
		for i, w := range s.Words {
			words++
			if err := isa.CheckECC(w); err != nil {
				t.Errorf("%s word %d: %v", s.Name, i, err)
			}
			if got, err := isa.Encode(isa.Decode(w)); err != nil || got != w {
				t.Errorf("%s word %d: re-encode of 0x%016x = 0x%016x, %v", s.Name, i, uint64(w), uint64(got), err)
			}
			if strings.HasSuffix(isa.Disasm(w, s.Opts), "# ERROR") {
				errs++
			}
		}
	}
	t.Logf("%d words in %d sections (%d .text)", words, len(secs), text)
	if text != 22 || len(secs) != 44 {
		t.Errorf("%d sections, %d .text; want 44 and 22", len(secs), text)
	}
	if words < 70000 || errs != 1 {
		t.Errorf("%d words, %d undecodable; want about 71k and 1", words, errs)
	}
}
