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
	objdump := testsuite.GNUObjdump(t)
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
func minimalELF(words []isa.Word) []byte { return symELF(words, nil) }

// testSym is a symbol of the code section of symELF.
type testSym struct {
	name       string
	word       int
	typ, local uint8 // ELF STT_*; local binding if local != 0
}

// symELF is minimalELF with a symbol table (locals first, as ELF wants).
func symELF(words []isa.Word, syms []testSym) []byte {
	le := binary.LittleEndian
	shstr := []byte("\x00.shstrtab\x00.text.i32.me0\x00.symtab\x00.strtab\x00")
	strtab := []byte{0}
	var symtab []byte
	symtab = append(symtab, make([]byte, 24)...)
	nLocal := 1
	sorted := append([]testSym(nil), syms...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].local > sorted[j].local })
	for _, s := range sorted {
		e := make([]byte, 24)
		le.PutUint32(e[0:], uint32(len(strtab)))
		strtab = append(append(strtab, s.name...), 0)
		bind := uint8(1)
		if s.local != 0 {
			bind = 0
			nLocal++
		}
		e[4] = bind<<4 | s.typ
		le.PutUint16(e[6:], 2) // the code section
		le.PutUint64(e[8:], uint64(8*s.word))
		symtab = append(symtab, e...)
	}
	var b bytes.Buffer
	hdr := make([]byte, 64)
	copy(hdr, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(hdr[16:], 2)   // ET_EXEC
	le.PutUint16(hdr[18:], 250) // EM_NFP
	le.PutUint32(hdr[20:], 1)
	le.PutUint32(hdr[48:], 0x6000<<8) // EF_NFP_SET_MACH(NFP-6xxx)
	le.PutUint16(hdr[52:], 64)
	le.PutUint16(hdr[58:], 64)
	le.PutUint16(hdr[62:], 1) // shstrndx
	b.Write(hdr)
	textOff := b.Len()
	for _, w := range words {
		binary.Write(&b, le, uint64(w))
	}
	strOff := b.Len()
	b.Write(shstr)
	for b.Len()%8 != 0 {
		b.WriteByte(0)
	}
	symOff := b.Len()
	b.Write(symtab)
	symStrOff := b.Len()
	b.Write(strtab)
	for b.Len()%8 != 0 {
		b.WriteByte(0)
	}
	shOff := b.Len()
	sh := func(name, typ uint32, flags, off, size uint64, link, info uint32, entsize uint64) {
		s := make([]byte, 64)
		le.PutUint32(s[0:], name)
		le.PutUint32(s[4:], typ)
		le.PutUint64(s[8:], flags)
		le.PutUint64(s[24:], off)
		le.PutUint64(s[32:], size)
		le.PutUint32(s[40:], link)
		le.PutUint32(s[44:], info)
		le.PutUint64(s[48:], 8)
		le.PutUint64(s[56:], entsize)
		b.Write(s)
	}
	sh(0, 0, 0, 0, 0, 0, 0, 0)
	sh(1, 3, 0, uint64(strOff), uint64(len(shstr)), 0, 0, 0)
	n := 3
	if syms != nil {
		n = 5
	}
	// The code section is section 2; .symtab and .strtab follow it.
	sh(11, 1, 0x6, uint64(textOff), uint64(8*len(words)), 0, 0x2000<<16|1, 0)
	if syms != nil {
		sh(25, 2, 0, uint64(symOff), uint64(len(symtab)), 4, uint32(nLocal), 24)
		sh(33, 3, 0, uint64(symStrOff), uint64(len(strtab)), 0, 0, 0)
	}
	out := b.Bytes()
	le.PutUint64(out[40:], uint64(shOff))
	le.PutUint16(out[60:], uint16(n))
	return out
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
	objdump := testsuite.GNUObjdump(t)
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
	objdump := testsuite.GNUObjdump(t)
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

// TestGNUSymbols: symbol lines as objdump prints them: the preferred of
// several symbols at one address, labels inside a section, zero runs cut
// at labels, no symbol at address 0.
func TestGNUSymbols(t *testing.T) {
	objdump := testsuite.GNUObjdump(t)
	nop := isa.MustEncode(isa.Nop())
	words := []isa.Word{nop, nop, 0, 0, nop, 0, 0, 0, nop, nop, nop, nop}
	const notype, object, fn = 0, 1, 2
	cases := map[string][]testSym{
		"none":     {},
		"one":      {{"prog", 0, fn, 0}},
		"late":     {{"later", 4, notype, 1}},
		"several":  {{"zlocal", 0, notype, 1}, {"aglobal", 0, notype, 0}, {"obj", 0, object, 0}, {"f", 0, fn, 1}},
		"names":    {{".dot", 2, notype, 0}, {"plain", 2, notype, 0}, {"b", 6, notype, 0}, {"a", 6, notype, 0}},
		"inside":   {{"start", 0, fn, 0}, {"mid", 3, notype, 1}, {"tail", 11, fn, 0}},
		"zero-cut": {{"z1", 5, notype, 0}, {"z2", 7, notype, 0}},
	}
	for name, syms := range cases {
		path := filepath.Join(t.TempDir(), name+".nffw")
		if err := os.WriteFile(path, symELF(words, syms), 0o644); err != nil {
			t.Fatal(err)
		}
		want := runGNU(t, objdump, "-d", path)
		var got bytes.Buffer
		isa.WriteObjdump(&got, path, readSections(t, path), isa.ObjdumpOptions{})
		if bad := compareLines(t, name, strings.Split(got.String(), "\n"), strings.Split(want, "\n")); bad > 0 {
			t.Errorf("%s: %d lines differ:\n%s", name, bad, want)
		}
	}
}

// configELF wraps words as the code of island 32 ME me, with an ME-CSR
// init-register section setting CtxEnables and MiscControl for it.
func configELF(words []isa.Word, me int, ctxEnables, miscControl uint32) []byte {
	le := binary.LittleEndian
	shstr := []byte("\x00.shstrtab\x00.text.i32.me0\x00.regt.mecsr.i32\x00")
	var regs []byte
	for _, e := range [][2]uint32{{0x18, ctxEnables}, {0x160, miscControl}} {
		r := make([]byte, 16)
		le.PutUint32(r[0:], 1<<25) // VTP const
		le.PutUint32(r[4:], uint32(me+4)<<10|e[0])
		le.PutUint32(r[8:], e[1])
		le.PutUint32(r[12:], 0xffffffff)
		regs = append(regs, r...)
	}
	var b bytes.Buffer
	hdr := make([]byte, 64)
	copy(hdr, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(hdr[16:], 2)
	le.PutUint16(hdr[18:], 250)
	le.PutUint32(hdr[20:], 1)
	le.PutUint32(hdr[48:], 0x6000<<8)
	le.PutUint16(hdr[52:], 64)
	le.PutUint16(hdr[58:], 64)
	le.PutUint16(hdr[60:], 4)
	le.PutUint16(hdr[62:], 1)
	b.Write(hdr)
	textOff := b.Len()
	for _, w := range words {
		binary.Write(&b, le, uint64(w))
	}
	regOff := b.Len()
	b.Write(regs)
	strOff := b.Len()
	b.Write(shstr)
	for b.Len()%8 != 0 {
		b.WriteByte(0)
	}
	shOff := b.Len()
	sh := func(name, typ uint32, flags, off, size uint64, info uint32, entsize uint64) {
		s := make([]byte, 64)
		le.PutUint32(s[0:], name)
		le.PutUint32(s[4:], typ)
		le.PutUint64(s[8:], flags)
		le.PutUint64(s[24:], off)
		le.PutUint64(s[32:], size)
		le.PutUint32(s[44:], info)
		le.PutUint64(s[48:], 8)
		le.PutUint64(s[56:], entsize)
		b.Write(s)
	}
	sh(0, 0, 0, 0, 0, 0, 0)
	sh(1, 3, 0, uint64(strOff), uint64(len(shstr)), 0, 0)
	sh(11, 1, 0x6, uint64(textOff), uint64(8*len(words)), uint32(0x2000|me)<<16|1, 0)
	info := uint32(32)<<26 | 14<<22 | 2<<17 | 1<<15 | 3<<10 | 1<<8 | 1
	sh(25, 0x70000002, 0, uint64(regOff), uint64(len(regs)), info, 16)
	out := b.Bytes()
	le.PutUint64(out[40:], uint64(shOff))
	return out
}

// TestGNUMEConfig: the context mode, shared-code-store numbering and
// 32-bit third-party addressing read from an ME-CSR init section print as
// GNU prints them.
func TestGNUMEConfig(t *testing.T) {
	objdump := testsuite.GNUObjdump(t)
	var words []isa.Word
	r := rand.New(rand.NewSource(7))
	for len(words) < 3000 {
		x := r.Uint64() & isa.InstrMask
		if isa.ClassOf(isa.Word(x)) == isa.ClassCmd && x>>42&7 == 2 || len(words)%3 == 0 {
			words = append(words, isa.WithECC(x))
		}
	}
	for _, tc := range []struct {
		me         int
		ctx, misc  uint32
		wantMode   isa.Mode
		scs, third bool
	}{
		{0, 0, 0, isa.Ctx8, false, false},
		{0, 1 << 31, 0, isa.Ctx4, false, false},
		{3, 1 << 31, 1 << 2, isa.Ctx4, true, false},
		{2, 0, 1<<2 | 1<<4, isa.Ctx8, true, true},
	} {
		path := filepath.Join(t.TempDir(), "cfg.nffw")
		if err := os.WriteFile(path, configELF(words, tc.me, tc.ctx, tc.misc), 0o644); err != nil {
			t.Fatal(err)
		}
		secs := readSections(t, path)
		if len(secs) != 1 || secs[0].Opts.Mode != tc.wantMode || secs[0].SCS != tc.scs || secs[0].Opts.ThirdParty32 != tc.third {
			t.Fatalf("me %d: read %+v", tc.me, secs[0].Opts)
		}
		want := runGNU(t, objdump, "-d", path)
		var got bytes.Buffer
		isa.WriteObjdump(&got, path, secs, isa.ObjdumpOptions{})
		if bad := compareLines(t, fmt.Sprintf("me%d ctx 0x%x misc 0x%x", tc.me, tc.ctx, tc.misc), strings.Split(got.String(), "\n"), strings.Split(want, "\n")); bad > 0 {
			t.Errorf("%d lines differ", bad)
		}
	}
}
