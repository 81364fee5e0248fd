// Package asm is the NFP assembler: it reads the text GNU objdump prints
// for NFP-6xxx microengine code (binutils opcodes/nfp-dis.c, the syntax
// nfp-isa.md uses throughout) and produces the code words.
//
// The input is one instruction a line, in any of three forms:
//
//	immed[gprA_0, 0x1234]                                      plain source
//	   8:	  .1  immed[gprA_0, 0x1234]                        Linux JIT dump (bpftool)
//	   8:	000540f0012cd000 	  .1  immed[gprA_0, 0x1234]     objdump -d
//
// with labels (`loop:`), comments (`;`, `//`, and objdump's `# ERROR`),
// raw words (`.word 0x000540f0012cd000`, ECC included), and
// branch targets written as `.N` (an absolute word address, as objdump
// prints them) or as a label. Objdump's header lines ("file format",
// "Disassembly of section", "<symbol>:") are skipped, so a whole dump of
// one code section assembles.
//
// The assembler is the inverse of isa's disassembler: operand tables are
// built by inverting isa's printer, every word is decoded and printed back
// and compared with the source line, and an instruction whose text the
// disassembler would print differently is an error rather than a silently
// different word. Fields the text does not show (objdump omits, e.g., the
// A operand of `alu[…, --, B, …]`) get the values the Linux JIT writes
// (StyleKernel) or those Netronome's tools write (StyleNetronome), and an
// objdump line's word column, when it prints as the line, is taken as is:
// Assemble(Disassemble(w)) == w for every word of real firmware.
//
// Branch targets beyond the end of the code (the JIT's pre-relocation
// `br[.15000]` exits) are plain values: the word encodes them as written.
// Program.Relocs lists the words a loader patches: every branch whose
// target lies inside the code (RELO_BR_REL, moved with the code), and the
// load-time targets written as the kernel's relocation kinds, `br[@out(l)]`,
// `br[@next_pkt]`, `br[@helper(1)]`, `immed[gprA_0, @rel(l)]` … (see
// relocTargets), whose words hold the JIT's placeholders.
package asm

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/alecthomas/participle/v2"

	"github.com/nfpcc/nfpcc/isa"
)

// Style chooses the values of the fields objdump does not print, which
// the text cannot give: the Linux JIT's (isa's constructors) or those of
// Netronome's assembler (its firmware).
type Style uint8

const (
	// StyleKernel fills unprinted fields as the Linux nfp JIT does, so
	// that assembling its code gives the words the kernel writes.
	StyleKernel Style = iota
	// StyleNetronome fills them as Netronome's assembler mostly does, so
	// that assembling objdump's text of firmware gives back its words.
	StyleNetronome
)

// Options select how operands are read.
type Options struct {
	// Style fills the fields the text does not show (default StyleKernel).
	Style Style
	// Mode is the context mode register numbers are written for: Ctx4
	// (the default, the mode eBPF offload runs in) or Ctx8.
	Mode isa.Mode
	// ThirdParty32 reads third-party command addresses without "<<8", as
	// objdump prints them for MEs with MiscControl bit 4 set.
	ThirdParty32 bool
	// CheckWords makes the word column of objdump lines a check: a line
	// whose word does not print as its instruction is an error. Without
	// it such a word column is ignored. (A word column that does print as
	// the instruction is always used: it carries the fields objdump does
	// not show.)
	CheckWords bool
}

// Program is the result of assembling a source file.
type Program struct {
	Words  []isa.Word     // with ECC
	Lines  []int          // source line of each word
	Labels map[string]int // label → word address
	Relocs []Reloc        // by word: what a loader patches
}

// Error is one problem, at a place in the source.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ErrorList is every problem found, in source order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// maxErrors stops an assembly that has gone wrong from listing every line.
const maxErrors = 20

// skipLine matches objdump's header lines (and the program line `nfpcc
// objdump` adds for an image); symbolLine its symbol lines, whose address
// ends a run of zero words ("...").
var (
	skipLine   = regexp.MustCompile(`^(\S.*:\s+file format .*|Disassembly of section .*|program \S+: type \S+, mcpu \S+)\s*$`)
	symbolLine = regexp.MustCompile(`^([0-9a-f]+) <[^>]*>:\s*$`)
)

type pending struct {
	line     int
	in       *instr
	word     *string   // objdump's word column
	text     string    // the source line
	verbatim *isa.Word // an objdump line taken as its word
}

// objdumpLine splits an objdump line into its word and instruction text.
var objdumpLine = regexp.MustCompile(`^\s*[0-9a-f]+:\t([0-9a-f]{16}) \t\s*\.[0-9]+\s+(.*?)\s*$`)

// verbatimWord returns the word of an objdump line when the word prints
// exactly as the line's text.
func verbatimWord(line string, dopt isa.Options) (isa.Word, bool) {
	m := objdumpLine.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseUint(m[1], 16, 64)
	if err != nil || isa.CheckECC(isa.Word(v)) != nil {
		return 0, false
	}
	return isa.Word(v), strings.TrimSpace(isa.Disasm(isa.Word(v), dopt)) == m[2]
}

// Assemble assembles src; file names the source in error messages.
func Assemble(file string, src []byte, opt Options) (*Program, error) {
	if opt.Mode == 0 {
		opt.Mode = isa.Ctx4
	}
	var errs ErrorList
	add := func(line, col int, format string, args ...any) {
		if len(errs) < maxErrors {
			errs = append(errs, &Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
		}
	}
	p := &Program{Labels: map[string]int{}}
	dopt := isa.Options{Mode: opt.Mode, ThirdParty32: opt.ThirdParty32}
	var todo []pending
	// zeros is the line of objdump's "\t..." (a run of zero words) whose
	// length the next address tells.
	zeros := 0
	fillZeros := func(n, addr int) {
		if zeros == 0 {
			return
		}
		if addr%8 != 0 || addr/8 < len(todo) || addr/8 > maxAddr+1 {
			add(n, 0, "address %#x does not follow the zero words of line %d", addr, zeros)
		}
		for len(todo) < addr/8 && len(todo) <= maxAddr {
			zw := isa.Word(0)
			todo = append(todo, pending{line: zeros, verbatim: &zw})
		}
		zeros = 0
	}
	for i, text := range strings.Split(string(src), "\n") {
		n := i + 1
		if strings.TrimSpace(text) == "..." {
			zeros = n
			continue
		}
		if m := symbolLine.FindStringSubmatch(text); m != nil {
			addr, _ := strconv.ParseUint(m[1], 16, 32)
			fillZeros(n, int(addr))
			continue
		}
		if skipLine.MatchString(text) {
			continue
		}
		l, err := lineParser().ParseString(file, text)
		if err != nil {
			// An objdump line whose word prints exactly as its text is
			// that word, even where the text is not assembly (objdump's
			// "<invalid cmd action …>[]" for words no command decodes).
			if w, ok := verbatimWord(text, dopt); ok {
				todo = append(todo, pending{line: n, verbatim: &w})
				continue
			}
			col := 0
			var pe participle.Error
			if errors.As(err, &pe) {
				col = pe.Position().Column
				err = errors.New(pe.Message())
			}
			add(n, col, "syntax: %v", err)
			todo = append(todo, pending{line: n}) // keeps the numbering
			continue
		}
		for _, lb := range l.Labels {
			if _, dup := p.Labels[lb.Name]; dup {
				add(n, lb.Pos.Column, "label %q defined twice", lb.Name)
			}
			p.Labels[lb.Name] = len(todo)
		}
		if l.Instr == nil {
			if l.PC != nil || l.Word != nil {
				add(n, 0, "address column without an instruction")
			}
			continue
		}
		switch {
		case l.Addr != nil:
			addr, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(*l.Addr), ":")), 16, 32)
			fillZeros(n, int(addr))
			if int(addr) != 8*len(todo) {
				add(n, 0, "line is at address %#x but is word .%d (address %#x) of this code", addr, len(todo), 8*len(todo))
			}
		case l.PC != nil:
			if pc, err := strconv.Atoi((*l.PC)[1:]); err != nil || pc != len(todo) {
				add(n, 0, "line is marked %s but is word .%d of this code", *l.PC, len(todo))
			}
		}
		todo = append(todo, pending{line: n, in: l.Instr, word: l.Word, text: text})
	}
	if zeros != 0 {
		add(zeros, 0, "\"...\" (zero words) at the end: objdump does not say how many; write them as .word 0x0")
	}
	if len(todo) > maxAddr+1 {
		add(0, 0, "%d instructions: more than a branch can address", len(todo))
	}
	for _, t := range todo {
		var w isa.Word
		var rel *Reloc
		var err error
		switch {
		case t.verbatim != nil:
			w = *t.verbatim
		case t.in == nil: // a syntax error, reported
		default:
			w, rel, err = encodeLine(t.in, opt, p.Labels, len(todo))
		}
		if err != nil {
			if vw, ok := verbatimWord(t.text, dopt); ok {
				w, err = vw, nil
			}
		}
		if err != nil {
			col := 0
			var pe *posError
			if errors.As(err, &pe) {
				col = pe.col
			}
			add(t.line, col, "%s", err.Error())
			w = 0
		} else if t.word != nil {
			// The word column keeps what the text cannot show (objdump
			// omits some fields): when the word prints as this line's
			// instruction, it is the word, exactly.
			col, _ := strconv.ParseUint(*t.word, 16, 64)
			cw := isa.Word(col)
			if cw != w {
				if isa.CheckECC(cw) == nil && canonText(isa.Disasm(cw, dopt)) == canonInstr(t.in, labelResolver(p.Labels)) {
					w = cw
				} else if opt.CheckWords {
					add(t.line, 0, "assembles to %016x, but the word column says %s", uint64(w), *t.word)
				}
			}
		}
		if rel != nil && err == nil {
			rel.Word = len(p.Words)
			p.Relocs = append(p.Relocs, *rel)
		}
		p.Words = append(p.Words, w)
		p.Lines = append(p.Lines, t.line)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			if errs[i].Line != errs[j].Line {
				return errs[i].Line < errs[j].Line
			}
			return errs[i].Col < errs[j].Col
		})
		return nil, errs
	}
	return p, nil
}

// maxAddr is the highest address a 14-bit branch target reaches.
const maxAddr = 1<<14 - 1

// encodeLine assembles one instruction and checks that the word prints
// back as the source does. It returns the word's relocation, if any: a
// load-time target (@out(…), @helper(…), @rel(…)), or RELO_BR_REL for a
// branch whose target lies inside the code.
func encodeLine(in *instr, opt Options, labels map[string]int, n int) (w isa.Word, rel *Reloc, err error) {
	if in.Invalid != "" {
		s := strings.TrimSpace(in.Invalid[strings.IndexByte(in.Invalid, ':')+1:])
		v, perr := strconv.ParseUint(s, 0, 64)
		w = isa.Word(v)
		if perr != nil || isa.CheckECC(w) != nil || isa.ClassOf(w) != isa.ClassInvalid {
			return 0, nil, &posError{col: in.Pos.Column, msg: fmt.Sprintf("%s is not an undecodable word with its ECC", s)}
		}
		return w, nil, nil
	}
	if in.Raw != "" {
		v, perr := strconv.ParseUint(in.Raw, 0, 64)
		w = isa.Word(v)
		if perr != nil {
			return 0, nil, &posError{col: in.Pos.Column, msg: fmt.Sprintf(".word %s: not a 64-bit number", in.Raw)}
		}
		if err := isa.CheckECC(w); err != nil {
			return 0, nil, &posError{col: in.Pos.Column, msg: ".word: " + err.Error()}
		}
		return w, nil, nil
	}
	inCode := false
	e := &encoder{mode: opt.Mode, style: opt.Style, in: in, labels: labels, subst: map[string]string{}}
	e.target = func(a *arg) (int, error) {
		if strings.HasPrefix(a.Text, "@") {
			if !e.relocOK {
				return 0, e.errAt(a, "%s: only br, its conditional forms, br_bset/br_bclr and br=byte/br!=byte take load-time targets", a.Text)
			}
			t, r, err := e.relocTarget(a, labels)
			if err == nil {
				e.reloc = r
				e.subst[a.Text] = fmt.Sprintf(".%d", t)
			}
			return t, err
		}
		if t, ok := labels[a.Text]; ok {
			inCode = true
			return t, nil
		}
		if strings.HasPrefix(a.Text, ".") {
			if t, err := strconv.Atoi(a.Text[1:]); err == nil && t >= 0 && t <= maxAddr {
				inCode = t < n
				return t, nil
			}
			return 0, e.errAt(a, "branch target %s: want .0 ….%d", a.Text, maxAddr)
		}
		return 0, e.errAt(a, "branch target %q: not a label or .N address", a.Text)
	}
	enc, ok := encoders[in.Mnem]
	if !ok {
		if isCmdTarget(in.Mnem) {
			enc = func(e *encoder) (isa.Instr, error) { return e.cmd(opt.ThirdParty32) }
		} else {
			return 0, nil, e.errf("unknown instruction %q", in.Mnem)
		}
	}
	if !in.Bracket && in.Mnem != "nop" && in.Mnem != "cam_clear" {
		return 0, nil, e.errf("%s needs its operands in [ ]", in.Mnem)
	}
	ins, err := enc(e)
	if err != nil {
		return 0, nil, err
	}
	w, err = isa.Encode(ins)
	if err != nil {
		return 0, nil, e.errf("%v", strings.TrimPrefix(err.Error(), "isa: "))
	}
	// Read the word back: the disassembler must print what was written.
	dopt := isa.Options{Mode: opt.Mode, ThirdParty32: opt.ThirdParty32}
	back, ok := isa.Text(isa.Decode(w), dopt)
	if got, want := canonText(back), canonInstr(in, e.resolver()); !ok || got != want {
		return 0, nil, e.errf("cannot be encoded as written: the nearest word reads %q", back)
	}
	if e.reloc != nil {
		return w, e.reloc, nil
	}
	switch isa.ClassOf(w) {
	case isa.ClassBranch, isa.ClassBrBit, isa.ClassBrByte:
		if inCode {
			return w, &Reloc{Kind: RelocBrRel}, nil
		}
	}
	return w, nil, nil
}

// resolver maps the source's labels and load-time targets to the text
// the disassembler prints for them.
func (e *encoder) resolver() func(string) (string, bool) {
	return func(s string) (string, bool) {
		if r, ok := e.subst[s]; ok {
			return r, true
		}
		if t, ok := e.labels[s]; ok {
			return fmt.Sprintf(".%d", t), true
		}
		return "", false
	}
}

// canonInstr renders a parsed instruction in a normal form: labels and
// load-time targets resolved (by resolve, which may be nil), numbers in
// hex, single spaces.
func canonInstr(in *instr, resolve func(string) (string, bool)) string {
	var b strings.Builder
	b.WriteString(in.Mnem)
	list := func(args []*arg) {
		b.WriteString("[")
		for i, a := range args {
			if i > 0 {
				b.WriteString(", ")
			}
			if r, ok := resolveArg(resolve, a.Text); ok {
				b.WriteString(r)
			} else {
				b.WriteString(canonOperand(a.Text))
			}
		}
		b.WriteString("]")
	}
	if in.Bracket {
		list(in.Args)
	}
	for _, m := range in.Mods {
		b.WriteString(", ")
		b.WriteString(m.Name)
		if m.Bracket {
			list(m.Args)
		}
	}
	return b.String()
}

func resolveArg(resolve func(string) (string, bool), s string) (string, bool) {
	if resolve == nil {
		return "", false
	}
	return resolve(s)
}

// labelResolver resolves labels only.
func labelResolver(labels map[string]int) func(string) (string, bool) {
	return func(s string) (string, bool) {
		if t, ok := labels[s]; ok {
			return fmt.Sprintf(".%d", t), true
		}
		return "", false
	}
}

// canonCache memoizes canonText: real code repeats instructions a lot.
var canonCache sync.Map

// canonText parses printed text and renders it like canonInstr.
func canonText(s string) string {
	if c, ok := canonCache.Load(s); ok {
		return c.(string)
	}
	c := "\x00unparsable: " + s
	if l, err := lineParser().ParseString("", s); err == nil && l.Instr != nil {
		c = canonInstr(l.Instr, nil)
	}
	if canonCached.Add(1) <= maxCanonCache {
		canonCache.Store(s, c)
	}
	return c
}

// maxCanonCache bounds the memo: real code has a few thousand distinct
// instructions, a fuzzer has no end of them.
const maxCanonCache = 1 << 16

var canonCached atomic.Int64

type encodeFunc func(e *encoder) (isa.Instr, error)

// encoders maps each mnemonic to its encoder.
var encoders = func() map[string]encodeFunc {
	m := map[string]encodeFunc{
		"alu":            (*encoder).alu,
		"crc_le":         func(e *encoder) (isa.Instr, error) { return e.crc(true) },
		"crc_be":         func(e *encoder) (isa.Instr, error) { return e.crc(false) },
		"alu_shf":        (*encoder).shf,
		"dbl_shf":        (*encoder).shf,
		"asr":            (*encoder).shf,
		"byte_align_be":  (*encoder).shf,
		"byte_align_le":  (*encoder).shf,
		"nop":            (*encoder).immed,
		"immed":          (*encoder).immed,
		"immed_w0":       (*encoder).immed,
		"immed_w1":       (*encoder).immed,
		"ld_field":       (*encoder).ldField,
		"ld_field_w_clr": (*encoder).ldField,
		"ctx_arb":        (*encoder).ctxArb,
		"local_csr_rd":   (*encoder).csr,
		"local_csr_wr":   (*encoder).csr,
		"br=byte":        (*encoder).brByte,
		"br!=byte":       (*encoder).brByte,
		"br_bset":        (*encoder).brBit,
		"br_bclr":        (*encoder).brBit,
		"rtn":            (*encoder).jump,
		"jump":           (*encoder).jump,
		"mul_step":       (*encoder).mul,
	}
	for b := '0'; b <= '3'; b++ {
		m["immed_b"+string(b)] = (*encoder).immed
	}
	for op := range special {
		op := op
		m[op.String()] = func(e *encoder) (isa.Instr, error) { return e.aluSpecial(op) }
	}
	for c := isa.Cond(0); c < 32; c++ {
		if s := c.String(); !strings.HasPrefix(s, "Cond(") {
			c := c
			m[s] = func(e *encoder) (isa.Instr, error) { return e.branch(c) }
		}
	}
	return m
}()
