package isa_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/testsuite"
)

// gnuObjdump finds GNU objdump built for nfp-elf (scripts/gnu-objdump.sh):
// $NFPCC_GNU_OBJDUMP, else the script's cache. It skips the test otherwise.
func gnuObjdump(t *testing.T) string {
	t.Helper()
	p := os.Getenv("NFPCC_GNU_OBJDUMP")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "nfpcc", "gnu-objdump", "bin", "objdump")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("GNU objdump for nfp-elf not found at %s (build it with scripts/gnu-objdump.sh or set NFPCC_GNU_OBJDUMP)", p)
	}
	return p
}

func runGNU(t *testing.T, objdump string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(objdump, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", objdump, args, err, errb.String())
	}
	return out.String()
}

var insnLine = regexp.MustCompile(`^\s*[0-9a-f]+:\t|^\t\.\.\.$`)

func insnLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if insnLine.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// compareLines reports differing lines (at most 20) and returns their count.
func compareLines(t *testing.T, what string, got, want []string) int {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d lines, GNU has %d", what, len(got), len(want))
	}
	bad := 0
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			bad++
			if bad <= 20 {
				t.Errorf("%s line %d:\n ours %q\n  GNU %q", what, i+1, got[i], want[i])
			}
		}
	}
	return bad
}

// TestGNUFirmware disassembles every word of the CoreNIC firmware with GNU
// objdump and with nfpcc and compares the whole output.
func TestGNUFirmware(t *testing.T) {
	objdump := gnuObjdump(t)
	dir := testsuite.Corpus(t, "binutils-nfp")
	path := filepath.Join(dir, "nic_AMDA0097-0001_2x40-wpi1.nffw")
	secs := readSections(t, path)
	want := runGNU(t, objdump, "-d", path)
	var got bytes.Buffer
	if err := isa.WriteObjdump(&got, path, secs, isa.ObjdumpOptions{}); err != nil {
		t.Fatal(err)
	}
	if got.String() == want {
		n := len(insnLines(want))
		t.Logf("firmware: all %d instruction lines (%d sections) identical to GNU objdump", n, len(secs))
		return
	}
	bad := compareLines(t, "firmware", strings.Split(got.String(), "\n"), strings.Split(want, "\n"))
	t.Errorf("firmware: %d lines differ", bad)
}

// minimalELF wraps words in the smallest NFP-6xxx ELF GNU objdump accepts:
// one executable section for island 32 ME 0.
func minimalELF(words []isa.Word) []byte {
	shstr := []byte("\x00.shstrtab\x00.text.i32.me0\x00")
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 64)
	copy(hdr, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(hdr[16:], 2)   // ET_EXEC
	le.PutUint16(hdr[18:], 250) // EM_NFP
	le.PutUint32(hdr[20:], 1)
	le.PutUint32(hdr[48:], 0x6000<<8) // EF_NFP_SET_MACH(NFP-6xxx)
	le.PutUint16(hdr[52:], 64)
	le.PutUint16(hdr[58:], 64)
	le.PutUint16(hdr[60:], 3) // shnum
	le.PutUint16(hdr[62:], 1) // shstrndx
	textOff := 64
	strOff := textOff + 8*len(words)
	shOff := strOff + len(shstr)
	shOff = (shOff + 7) &^ 7
	le.PutUint64(hdr[40:], uint64(shOff))
	b.Write(hdr)
	for _, w := range words {
		binary.Write(&b, le, uint64(w))
	}
	b.Write(shstr)
	for b.Len() < shOff {
		b.WriteByte(0)
	}
	sh := func(name, typ uint32, flags, off, size uint64, info uint32) {
		s := make([]byte, 64)
		le.PutUint32(s[0:], name)
		le.PutUint32(s[4:], typ)
		le.PutUint64(s[8:], flags)
		le.PutUint64(s[24:], off)
		le.PutUint64(s[32:], size)
		le.PutUint32(s[44:], info)
		le.PutUint64(s[48:], 8)
		b.Write(s)
	}
	sh(0, 0, 0, 0, 0, 0)
	sh(1, 3, 0, uint64(strOff), uint64(len(shstr)), 0)
	sh(11, 1, 0x6, uint64(textOff), uint64(8*len(words)), 0x2000<<16|1)
	return b.Bytes()
}

// crossCheck disassembles words with GNU objdump in both context modes and
// compares every line with ours.
func crossCheck(t *testing.T, objdump, what string, words []isa.Word) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.nffw")
	if err := os.WriteFile(path, minimalELF(words), 0o644); err != nil {
		t.Fatal(err)
	}
	secs := readSections(t, path)
	if len(secs) != 1 || len(secs[0].Words) != len(words) {
		t.Fatalf("minimal ELF reads back as %d sections", len(secs))
	}
	for _, m := range []isa.Mode{isa.Ctx4, isa.Ctx8} {
		want := insnLines(runGNU(t, objdump, "-d", fmt.Sprintf("-Mctx%d", m), path))
		var got bytes.Buffer
		isa.WriteObjdump(&got, "w.nffw", secs, isa.ObjdumpOptions{Force: m})
		if bad := compareLines(t, fmt.Sprintf("%s ctx%d", what, m), insnLines(got.String()), want); bad > 0 {
			t.Errorf("%s ctx%d: %d of %d lines differ", what, m, bad, len(want))
		} else {
			t.Logf("%s ctx%d: %d lines identical to GNU objdump", what, m, len(want))
		}
	}
}

// TestGNUEncoderForms: every word the constructors produce prints as GNU
// prints it, so the encoder agrees with GNU's decoder.
func TestGNUEncoderForms(t *testing.T) {
	objdump := gnuObjdump(t)
	forms, _ := allForms()
	seen := map[isa.Word]bool{}
	var words []isa.Word
	for _, in := range forms {
		w := isa.MustEncode(in)
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	sort.Slice(words, func(i, j int) bool { return words[i] < words[j] })
	crossCheck(t, objdump, "encoder forms", words)
}

// TestGNURandomWords: random 45-bit patterns with correct ECC, zero words
// between them, print as GNU prints them (every class, odd bit patterns,
// invalid words).
func TestGNURandomWords(t *testing.T) {
	objdump := gnuObjdump(t)
	r := rand.New(rand.NewSource(1))
	var words []isa.Word
	for i := 0; i < 60000; i++ {
		x := r.Uint64() & isa.InstrMask
		if i%4 == 1 { // bias towards non-command classes (bit 39 set)
			x |= 1 << 39
		}
		words = append(words, isa.WithECC(x))
		if i%9000 == 0 {
			words = append(words, 0, 0, 0)
		}
	}
	crossCheck(t, objdump, "random words", words)
}
