package asm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/testsuite"
)

// firmware reads the code sections of an NFP firmware file of the
// binutils-nfp corpus.
func firmware(t testing.TB, name string) []isa.CodeSection {
	t.Helper()
	dir := testsuite.Corpus(t, "binutils-nfp")
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	secs, err := isa.ReadCodeSections(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return secs
}

func optsOf(cs isa.CodeSection) Options {
	return Options{Mode: cs.Opts.Mode, ThirdParty32: cs.Opts.ThirdParty32, Style: StyleNetronome}
}

// roundTrip assembles a section twice, from objdump lines (with the word
// column) and from the instruction text alone, and returns how many words
// each gets wrong. Words that are not the same from the text alone differ
// only in fields objdump does not print; they are tallied in hidden.
func roundTrip(t *testing.T, cs isa.CodeSection, hidden map[string]int) (badObjdump, badText int) {
	var dump, text strings.Builder
	dopt := cs.Opts
	for i, w := range cs.Words {
		fmt.Fprintln(&dump, isa.ObjdumpLine(i, len(cs.Words), w, dopt))
		if txt, ok := isa.Text(isa.Decode(w), dopt); ok || isa.ClassOf(w) == isa.ClassInvalid {
			fmt.Fprintln(&text, isa.Disasm(w, dopt))
		} else {
			// objdump marks the word "# ERROR": its text is no assembly.
			fmt.Fprintf(&text, ".word 0x%016x ; %s\n", uint64(w), txt)
		}
	}
	p, err := Assemble(cs.Name, []byte(dump.String()), optsOf(cs))
	if err != nil {
		t.Fatalf("%s: objdump text does not assemble:\n%v", cs.Name, err)
	}
	for i, w := range cs.Words {
		if p.Words[i] != w {
			badObjdump++
			if badObjdump <= 5 {
				t.Errorf("%s .%d: %s: assembled %016x, want %016x", cs.Name, i, isa.Disasm(w, dopt), uint64(p.Words[i]), uint64(w))
			}
		}
	}
	// objdump's own listing of the section: symbol lines, and "..." for
	// runs of zero words, whose length the next address gives.
	lines := isa.SectionLines(cs)
	if lines[len(lines)-1] != "\t..." { // trailing zeros: objdump does not say how many
		l, err := Assemble(cs.Name, []byte(strings.Join(lines, "\n")), optsOf(cs))
		if err != nil {
			t.Fatalf("%s: objdump's listing does not assemble:\n%v", cs.Name, err)
		}
		if len(l.Words) != len(cs.Words) {
			t.Errorf("%s: objdump's listing gives %d words, want %d", cs.Name, len(l.Words), len(cs.Words))
		} else {
			for i := range cs.Words {
				if l.Words[i] != cs.Words[i] {
					t.Errorf("%s .%d: from objdump's listing %016x, want %016x", cs.Name, i, uint64(l.Words[i]), uint64(cs.Words[i]))
					break
				}
			}
		}
	}
	q, err := Assemble(cs.Name, []byte(text.String()), optsOf(cs))
	if err != nil {
		t.Fatalf("%s: instruction text does not assemble:\n%v", cs.Name, err)
	}
	for i, w := range cs.Words {
		if q.Words[i] != w {
			badText++
			// The text must still be the same: only unprinted bits differ.
			if a, b := isa.Disasm(q.Words[i], dopt), isa.Disasm(w, dopt); a != b {
				t.Errorf("%s .%d: %q assembled to a word that prints %q", cs.Name, i, b, a)
			}
			hidden[isa.ClassOf(w).String()]++
		}
	}
	return
}

// TestRoundTripFirmware assembles objdump's text of every word of the
// binutils test image (986 words) and of the CoreNIC firmware (22 code
// sections, ~71k words): from objdump lines every word comes back exactly;
// from the text alone the words whose unprinted fields differ from what
// the assembler writes are counted and bounded.
func TestRoundTripFirmware(t *testing.T) {
	for _, c := range []struct {
		file         string
		words        int
		maxTextWrong int // words whose unprinted fields the text cannot give
	}{
		{"test1_nfp6000.nffw", 986, 26},
		{"nic_AMDA0097-0001_2x40-wpi1.nffw", 70866, 3603},
	} {
		t.Run(c.file, func(t *testing.T) {
			if testing.Short() && c.words > 10000 {
				t.Skip("-short: the CoreNIC firmware takes seconds")
			}
			n, badObj, badText := 0, 0, 0
			hidden := map[string]int{}
			for _, cs := range firmware(t, c.file) {
				o, x := roundTrip(t, cs, hidden)
				n += len(cs.Words)
				badObj += o
				badText += x
			}
			if n != c.words {
				t.Errorf("%d words, want %d", n, c.words)
			}
			if badObj != 0 {
				t.Errorf("objdump lines: %d of %d words differ", badObj, n)
			}
			var classes []string
			for k, v := range hidden {
				classes = append(classes, fmt.Sprintf("%s %d", k, v))
			}
			sort.Strings(classes)
			t.Logf("%s: %d words; from objdump lines all exact; from text alone %d exact, %d differ in unprinted fields (%s)",
				c.file, n, n-badText, badText, strings.Join(classes, ", "))
			if badText > c.maxTextWrong {
				t.Errorf("from text alone %d words differ, more than the %d expected", badText, c.maxTextWrong)
			}
		})
	}
}

var jitLine = regexp.MustCompile(`^\s*[0-9a-f]+:\t\s*\.[0-9]+\s+(.*)$`)

// TestJITDumps assembles the 8 Linux JIT dumps and checks that every word
// disassembles to exactly the text of its line (the dumps hold no words).
func TestJITDumps(t *testing.T) {
	dir := filepath.Join(testsuite.Corpus(t, "nfp-jit"), "programs")
	files, _ := filepath.Glob(filepath.Join(dir, "*.asm"))
	if len(files) != 8 {
		t.Fatalf("%d JIT dumps, want 8", len(files))
	}
	total := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Assemble(filepath.Base(f), src, Options{Mode: isa.Ctx4})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		lines := strings.Split(strings.TrimRight(string(src), "\n"), "\n")
		if len(lines) != len(p.Words) {
			t.Fatalf("%s: %d lines, %d words", f, len(lines), len(p.Words))
		}
		beyond := 0
		for i, l := range lines {
			m := jitLine.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("%s:%d: not a JIT dump line: %q", f, i+1, l)
			}
			if got := isa.Disasm(p.Words[i], isa.Options{Mode: isa.Ctx4}); got != m[1] {
				t.Errorf("%s:%d: assembled word %016x prints %q, want %q", f, i+1, uint64(p.Words[i]), got, m[1])
			}
			if strings.Contains(m[1], "[.15000]") {
				beyond++
			}
		}
		if beyond == 0 {
			t.Errorf("%s: no pre-relocation exit branch br[.15000]", f)
		}
		total += len(p.Words)
	}
	t.Logf("8 JIT dumps, %d lines: every word prints back as its line", total)
}

func TestLabelsAndForms(t *testing.T) {
	src := `; a loop with a label and both comment styles
start:  immed[gprA_0, 0x0]          // r0 = 0
loop:   alu[gprA_0, gprA_0, +, 0x1], gpr_wrboth
        alu[--, gprA_0, -, 10]
        bne[loop], defer[1]
        nop
        br[.15000]
        br[start]
`
	p, err := Assemble("loop.s", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"immed[gprA_0, 0x0]",
		"alu[gprA_0, gprA_0, +, 0x1], gpr_wrboth",
		"alu[--, gprA_0, -, 0xa]",
		"bne[.1], defer[1]",
		"nop",
		"br[.15000]",
		"br[.0]",
	}
	for i, w := range p.Words {
		if got := isa.Disasm(w, isa.Options{Mode: isa.Ctx4}); got != want[i] {
			t.Errorf("word %d: %q, want %q", i, got, want[i])
		}
	}
	if p.Labels["loop"] != 1 || p.Labels["start"] != 0 {
		t.Errorf("labels %v", p.Labels)
	}
	// Branches inside the code are relocatable; .15000 is a plain value.
	if fmt.Sprint(p.Relocs) != "[{3 branch 0} {6 branch 0}]" {
		t.Errorf("Relocs = %v, want RELO_BR_REL at words 3 and 6", p.Relocs)
	}
	if fmt.Sprint(p.Lines) != "[2 3 4 5 6 7 8]" {
		t.Errorf("Lines = %v", p.Lines)
	}
}

// TestLoadTimeTargets writes the kernel JIT's relocation kinds as
// targets: the words hold the JIT's placeholders and print as the JIT's
// pre-relocation code does.
func TestLoadTimeTargets(t *testing.T) {
	src := `
        br[@out(outro)]
        br[@next_pkt], defer[2]
        beq[@abort(abort)]
        br[@helper(bpf_map_lookup_elem)], defer[2]
        br[@helper(3)]
        br[@push_regs(push)]
        br_bset[gprA_2, 5, @pop_regs(pop)]
        immed[gprA_4, @rel(outro)]
outro:  nop
abort:  nop
push:   nop
pop:    rtn[gprA_21]
`
	p, err := Assemble("t.s", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"br[.15000]", "br[.15000], defer[2]", "beq[.15000]", "br[.15001], defer[2]", "br[.15003]",
		"br[.15000]", "br_bset[gprA_2, 5, .15000]", "immed[gprA_4, 0x8]",
	}
	for i, w := range want {
		if got := isa.Disasm(p.Words[i], isa.Options{Mode: isa.Ctx4}); got != w {
			t.Errorf("word %d: %q, want %q", i, got, w)
		}
	}
	got := fmt.Sprint(p.Relocs)
	if wantRel := "[{0 @out 8} {1 @next_pkt 0} {2 @abort 9} {3 @helper 1} {4 @helper 3} {5 @push_regs 10} {6 @pop_regs 11} {7 @rel 0}]"; got != wantRel {
		t.Errorf("relocs\n got %s\nwant %s", got, wantRel)
	}
	for _, c := range []struct{ src, want string }{
		{"br[@out(nowhere)]", "t.s:1:4: @out(nowhere): want a label of this code"},
		{"br[@helper(77)]", "t.s:1:4: @helper(77): the firmware has no helper 77"},
		{"br[@frob]", "t.s:1:4: \"@frob\": load-time targets are"},
		{"l: jump[gprA_0, @out(l)]", "t.s:1:17: @out(l): only br"},
		{"l: immed_w1[gprA_0, @rel(l)]", "t.s:1:21: a code address @rel(label) needs a plain immed"},
	} {
		if _, err := Assemble("t.s", []byte(c.src), Options{}); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %s…", c.src, err, c.want)
		}
	}
}

// TestKernelStyle checks that the kernel style fills unprinted fields as
// isa's constructors (the Linux JIT's emitters) do.
func TestKernelStyle(t *testing.T) {
	for _, c := range []struct {
		src  string
		want isa.Instr
	}{
		{"alu[gprA_2, --, B, gprB_4], gpr_wrboth", isa.Mov(isa.GPRBoth(2), isa.GPRB(4))},
		{"alu[gprA_0, --, B, 0x0]", isa.Mov(isa.GPRA(0), isa.Imm(0))},
		{"alu[$xfer_0, --, B, gprA_2]", isa.Mov(isa.Xfer(0), isa.GPRA(2))},
		{"local_csr_rd[PseudoRndNum]", isa.CSRRead(isa.CSRPseudoRndNum)},
		{"local_csr_wr[ActLMAddr3, gprA_22]", isa.CSRWrite(isa.CSRActLMAddr3, isa.GPRA(22))},
		{"mul_step[gprA_0, --], 32x32_last, gpr_wrboth", isa.MulResult(isa.GPRBoth(0), isa.Mul32x32, false)},
		{"bcc[.10]", isa.Br(isa.BCC, 10)},
		{"br[.9000]", isa.Br(isa.BR, 9000)},
		{"immed[gprB_22, 0x3fff]", isa.Immed(isa.GPRB(22), 0x3fff)},
		{"nop", isa.Nop()},
	} {
		p, err := Assemble("k.s", []byte(c.src), Options{})
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if want := isa.MustEncode(c.want); p.Words[0] != want {
			t.Errorf("%s: %016x, isa's constructor %016x", c.src, uint64(p.Words[0]), uint64(want))
		}
	}
}

// TestZeroRuns reads objdump's "..." lines: the next address (an
// instruction or a symbol line) says how many zero words they stand for.
func TestZeroRuns(t *testing.T) {
	src := `
0000000000000000 <f>:
   0:	000000f0000c0300 	.0  nop
	...
  18:	000000f0000c0300 	.3  nop
	...

0000000000000030 <g>:
  30:	000000f0000c0300 	.6  nop
`
	p, err := Assemble("z.s", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", p.Words); got != "[f0000c0300 0 0 f0000c0300 0 0 f0000c0300]" {
		t.Errorf("words %s", got)
	}
	if _, err := Assemble("z.s", []byte("nop\n\t...\n"), Options{}); err == nil || !strings.Contains(err.Error(), "z.s:2: \"...\" (zero words) at the end") {
		t.Errorf("trailing ...: err = %v", err)
	}
}

// TestInferJITRelocs recovers the relocations of the kernel's §8.1 image
// from its dump: the exit, the two next-packet branches, and the in-code
// bcc the assembler already marks.
func TestInferJITRelocs(t *testing.T) {
	src := `   0:	  .0  immed[gprB_22, 0x3fff]
   8:	  .1  alu[gprB_22, gprB_22, AND, *l$index1]
  10:	  .2  immed[gprA_0, 0x2], gpr_wrboth
  18:	  .3  immed[gprA_1, 0x0], gpr_wrboth
  20:	  .4  br[.15000]
  28:	  .5  br[.15000], defer[2]
  30:	  .6  alu[gprA_0, --, B, 0x0]
  38:	  .7  ld_field[gprA_0, 1100, 0x82, <<16]
  40:	  .8  alu[--, 0x3, -, gprB_0]
  48:	  .9  bcc[.5]
  50:	 .10  bcc[.15000]
  58:	 .11  br[.15002], defer[2]
  60:	 .12  alu[gprA_0, --, B, gprA_2]
  68:	 .13  immed[gprB_0, 0xe]
  70:	 .14  br[.15000], defer[2]
  78:	 .15  nop
`
	p, err := Assemble("jit", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := InferJITRelocs(p); err != nil {
		t.Fatal(err)
	}
	want := "[{4 @out 8} {5 @next_pkt 0} {9 branch 0} {10 @abort 5} {11 @helper 2} {13 @rel 0} {14 @next_pkt 0}]"
	if got := fmt.Sprint(p.Relocs); got != want {
		t.Errorf("relocs\n got %s\nwant %s", got, want)
	}
	q, _ := Assemble("jit", []byte("br[.15000], defer[1]\nnop\n"), Options{})
	if err := InferJITRelocs(q); err == nil || !strings.Contains(err.Error(), "word .0: br[.15000], defer[1] is no branch form the JIT relocates") {
		t.Errorf("defer[1]: err = %v", err)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"alu[gprA_0, gprA_1, +]", "t.s:1:1: alu takes 4 operands, not 3"},
		{"  frob[gprA_0]", "t.s:1:3: unknown instruction \"frob\""},
		{"alu[gprA_0, gprA_1, +, gprA_2]", "t.s:1:13: operands gprA_1 and gprA_2 cannot be encoded together"},
		{"alu[gprA_0, gprA_1, ++, gprB_2]", "t.s:1:21: unknown ALU operator \"++\""},
		{"immed[gprA_0, 0x12345]", "t.s:1:15: immed value 0x12345: want 16 bits"},
		{"br[nowhere]", "t.s:1:4: branch target \"nowhere\": not a label or .N address"},
		{"br[.16384]", "t.s:1:4: branch target .16384: want .0 ….16383"},
		{"nop\nx: nop\nx: nop", "t.s:3:1: label \"x\" defined twice"},
		{"alu[gprA_0, --, B, gprB_1], defer[2]", "t.s:1:29: alu does not take modifier \"defer\""},
		{"beq[.1], defer[7]", "t.s:1:16: defer[7]: want a number 0..3"},
		{"alu[gprA_0, --, B, gprB_1", "t.s:1:26: syntax:"},
		{"mem[frobnicate, $xfer_0, gprA_2, 0x0, 2]", "t.s:1:5: mem has no command \"frobnicate\""},
		{"mem[read8, $xfer_0, gprA_2, 0x0, 9], ctx_swap[sig1]", "t.s:1:34: length \"9\": want 1..8"},
		{"ld_field[gprA_0, 12, gprB_1]", "t.s:1:18: byte mask \"12\": want four 0/1 digits"},
		{"   8:\t  .1  nop", "t.s:1: line is at address 0x8 but is word .0 (address 0x0) of this code"},
		{".3  nop", "t.s:1: line is marked .3 but is word .0 of this code"},
		{"local_csr_wr[NoSuchCSR, gprA_0]", "t.s:1:14: \"NoSuchCSR\" is not a local CSR"},
	} {
		_, err := Assemble("t.s", []byte(c.src), Options{})
		if err == nil {
			t.Errorf("%q: no error, want %q", c.src, c.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s…", c.src, err, c.want)
		}
	}
}

// FuzzAssemble checks that no input panics, and that whatever assembles
// prints back as text that assembles to the same words.
func FuzzAssemble(f *testing.F) {
	for _, s := range []string{
		"immed[gprA_0, 0x1234]", "alu[gprA_0, gprA_1, +, gprB_2], gpr_wrboth",
		"mem[read32_swap, $xfer_0, gprA_2, 0x0, 2], ctx_swap[sig1]", "l: br[l], defer[2]",
		"   8:\t000540f0012cd000 \t  .1  immed[gprA_0, 0x1234]", "ld_field_w_clr[gprA_2, 0011, $xfer_0], gpr_wrboth",
		"alu_shf[gprA_1, --, B, gprB_0, <<3]", "br_bset[gprA_2, 5, .7]", "local_csr_wr[ActLMAddr3, gprA_22]",
		"mul_step[gprA_0, gprB_2], 32x32_step1", "ctx_arb[sig1, sig2], any", "<invalid_instruction>: 0x681dea64c0038",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Assemble("f.s", []byte(src), Options{})
		if err != nil {
			return
		}
		var b strings.Builder
		for _, w := range p.Words {
			b.WriteString(isa.Disasm(w, isa.Options{Mode: isa.Ctx4}) + "\n")
		}
		q, err := Assemble("g.s", []byte(b.String()), Options{})
		if err != nil {
			t.Fatalf("disassembly of %q does not assemble: %v\n%s", src, err, b.String())
		}
		for i := range p.Words {
			if p.Words[i] != q.Words[i] {
				t.Fatalf("%q: word %d %016x reassembles as %016x", src, i, uint64(p.Words[i]), uint64(q.Words[i]))
			}
		}
	})
}

func BenchmarkAssembleJITDump(b *testing.B) {
	dir := filepath.Join(testsuite.Corpus(b, "nfp-jit"), "programs")
	src, err := os.ReadFile(filepath.Join(dir, "xdp-count-min.5.asm"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Assemble("x", src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
