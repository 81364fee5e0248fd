//lint:file-ignore ST1005 the assembler's messages are uBPF's, compared verbatim by bpf_conformance's negative tests ("-- error" sections)

package conformance

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The uBPF assembler syntax, as a grammar: one statement per line, a
// statement is an optional label and an optional instruction, an
// instruction is a mnemonic and operands (registers %rN, memory [%rN+off],
// numbers, words such as labels, `local`, `fetch`), separated by commas or
// spaces. `#` starts a comment. What the operands must be for each
// mnemonic is checked by the encoder (mnemonics table below), so errors
// can say "Invalid register: %r50" rather than "unexpected token".
// asmLexer and asmParser are built on first use (package initialisation
// is paid by every nfpcc command).
var asmLexer = sync.OnceValue(func() *lexer.StatefulDefinition {
	return lexer.MustSimple([]lexer.SimpleRule{
		{Name: "Comment", Pattern: `#[^\n]*`},
		{Name: "Reg", Pattern: `%[a-zA-Z]+[0-9]*`},
		{Name: "Number", Pattern: `[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)`},
		{Name: "Ident", Pattern: `[a-zA-Z_][a-zA-Z0-9_.]*`},
		{Name: "Punct", Pattern: `[\[\]:,]`},
		{Name: "Whitespace", Pattern: `[ \t\r]+`},
	})
})

type asmLine struct {
	Label *string   `parser:"( @Ident ':' )?"`
	Instr *asmInstr `parser:"@@?"`
}

type asmInstr struct {
	Pos      lexer.Position
	Mnemonic string        `parser:"@Ident"`
	Operands []*asmOperand `parser:"( @@ ','? )*"`
}

type asmOperand struct {
	Reg  *string `parser:"  @Reg"`
	Mem  *asmMem `parser:"| @@"`
	Num  *string `parser:"| @Number"`
	Word *string `parser:"| @Ident"`
}

type asmMem struct {
	Base string  `parser:"'[' @Reg"`
	Off  *string `parser:"@Number? ']'"`
}

func (o *asmOperand) String() string {
	switch {
	case o.Reg != nil:
		return *o.Reg
	case o.Mem != nil:
		off := ""
		if o.Mem.Off != nil {
			off = *o.Mem.Off
		}
		return "[" + o.Mem.Base + off + "]"
	case o.Num != nil:
		return *o.Num
	case o.Word != nil:
		return *o.Word
	}
	return ""
}

var asmParser = sync.OnceValue(func() *participle.Parser[asmLine] {
	return participle.MustBuild[asmLine](
		participle.Lexer(asmLexer()),
		participle.Elide("Comment", "Whitespace"),
		participle.UseLookahead(2),
	)
})

// AsmError is an assembler error at a line of the source.
type AsmError struct {
	Line int
	Msg  string
}

func (e *AsmError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Raw opcode bits (RFC 9669 section 3).
const (
	clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsJMP32, clsALU64 = 0, 1, 2, 3, 4, 5, 6, 7

	srcK, srcX = 0x00, 0x08

	sizeW, sizeH, sizeB, sizeDW = 0x00, 0x08, 0x10, 0x18

	modeIMM, modeABS, modeIND, modeMEM, modeMEMSX, modeATOMIC = 0x00, 0x20, 0x40, 0x60, 0x80, 0xc0
)

var aluCodes = map[string]uint8{
	"add": 0x00, "sub": 0x10, "mul": 0x20, "div": 0x30, "sdiv": 0x30, "or": 0x40, "and": 0x50,
	"lsh": 0x60, "rsh": 0x70, "neg": 0x80, "mod": 0x90, "smod": 0x90, "xor": 0xa0, "mov": 0xb0,
	"arsh": 0xc0,
}

var jmpCodes = map[string]uint8{
	"jeq": 0x10, "jgt": 0x20, "jge": 0x30, "jset": 0x40, "jne": 0x50, "jsgt": 0x60, "jsge": 0x70,
	"jlt": 0xa0, "jle": 0xb0, "jslt": 0xc0, "jsle": 0xd0,
}

var sizeCodes = map[string]uint8{"b": sizeB, "h": sizeH, "w": sizeW, "dw": sizeDW}

var atomicCodes = map[string]uint32{
	"add": 0x00, "or": 0x40, "and": 0x50, "xor": 0xa0, "xchg": 0xe1, "cmpxchg": 0xf1,
}

// word is one encoded 8-byte instruction.
type word struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
}

func (w word) bytes() []byte {
	b := []byte{w.op, w.dst&0xf | w.src<<4, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(b[2:], uint16(w.off))
	binary.LittleEndian.PutUint32(b[4:], uint32(w.imm))
	return b
}

// assembler holds the state of one Assemble call.
type assembler struct {
	out    []word
	labels map[string]int
	fixups []fixup
	line   int
}

type fixup struct {
	slot, line int
	label      string
	inImm      bool // call local and ja32 put the displacement in imm
}

// Assemble turns uBPF assembler text into encoded instructions
// (little-endian, 8 bytes a slot). firstLine numbers the lines in errors.
func Assemble(src string, firstLine int) ([]byte, error) {
	a := &assembler{labels: map[string]int{}}
	exitSeen := false
	for i, text := range strings.Split(src, "\n") {
		a.line = firstLine + i
		l, err := asmParser().ParseString("", text)
		if err != nil {
			return nil, &AsmError{Line: a.line, Msg: strings.TrimPrefix(err.Error(), "1:")}
		}
		if l.Label != nil {
			if prev, dup := a.labels[*l.Label]; dup && *l.Label != "exit" {
				return nil, &AsmError{Line: a.line, Msg: fmt.Sprintf("Duplicate label %s (first at slot %d)", *l.Label, prev)}
			}
			a.labels[*l.Label] = len(a.out)
		}
		if l.Instr == nil {
			continue
		}
		// The first exit is also the label "exit", unless one is declared.
		if l.Instr.Mnemonic == "exit" && !exitSeen {
			exitSeen = true
			if _, ok := a.labels["exit"]; !ok {
				a.labels["exit"] = len(a.out)
			}
		}
		if err := a.instr(l.Instr); err != nil {
			return nil, &AsmError{Line: a.line, Msg: err.Error()}
		}
	}
	for _, f := range a.fixups {
		target, ok := a.labels[f.label]
		if !ok {
			return nil, &AsmError{Line: f.line, Msg: "Invalid label: " + f.label}
		}
		d := target - f.slot - 1
		if f.inImm {
			a.out[f.slot].imm = int32(d)
		} else {
			if d < -1<<15 || d >= 1<<15 {
				return nil, &AsmError{Line: f.line, Msg: fmt.Sprintf("jump to %s is %d slots away, beyond a 16-bit offset", f.label, d)}
			}
			a.out[f.slot].off = int16(d)
		}
	}
	var b []byte
	for _, w := range a.out {
		b = append(b, w.bytes()...)
	}
	return b, nil
}

func (a *assembler) emit(w word) { a.out = append(a.out, w) }

func (a *assembler) instr(in *asmInstr) error {
	mn := in.Mnemonic
	ops := in.Operands
	want := func(n int) error {
		if len(ops) != n {
			return fmt.Errorf("Invalid number of operands for mnemonic: %s", mn)
		}
		return nil
	}
	switch {
	case mn == "lock":
		return a.lock(ops)
	case mn == "exit":
		if err := want(0); err != nil {
			return err
		}
		a.emit(word{op: clsJMP | 0x90})
		return nil
	case mn == "ja" || mn == "ja32":
		if err := want(1); err != nil {
			return err
		}
		if mn == "ja32" {
			return a.target(word{op: clsJMP32}, ops[0], true)
		}
		return a.target(word{op: clsJMP}, ops[0], false)
	case mn == "call":
		return a.call(ops)
	case mn == "lddw":
		if len(ops) == 3 && ops[1].Word != nil && *ops[1].Word == "map" {
			// "lddw %r1, map N": the address of the object's map N, in the
			// loader's kernel form (src BPF_PSEUDO_MAP_FD, imm the index).
			dst, err := reg(ops[0])
			if err != nil {
				return err
			}
			n, err := imm32(ops[2])
			if err != nil {
				return err
			}
			a.emit(word{op: clsLD | modeIMM | sizeDW, dst: dst, src: 1, imm: n})
			a.emit(word{})
			return nil
		}
		if err := want(2); err != nil {
			return err
		}
		dst, err := reg(ops[0])
		if err != nil {
			return err
		}
		v, err := imm64(ops[1])
		if err != nil {
			return err
		}
		a.emit(word{op: clsLD | modeIMM | sizeDW, dst: dst, imm: int32(uint32(v))})
		a.emit(word{imm: int32(uint32(v >> 32))})
		return nil
	}
	if w, ok := endian(mn); ok {
		if err := want(1); err != nil {
			return err
		}
		dst, err := reg(ops[0])
		if err != nil {
			return err
		}
		w.dst = dst
		a.emit(w)
		return nil
	}
	if strings.HasPrefix(mn, "ldx") {
		return a.load(mn, ops)
	}
	if strings.HasPrefix(mn, "ldabs") || strings.HasPrefix(mn, "ldind") {
		return a.legacyLoad(mn, ops)
	}
	if strings.HasPrefix(mn, "stx") {
		return a.store(mn, ops, true)
	}
	if strings.HasPrefix(mn, "st") && !strings.HasPrefix(mn, "sub") {
		if _, ok := sizeCodes[mn[2:]]; ok {
			return a.store(mn, ops, false)
		}
	}
	name, cls := mn, uint8(clsALU64)
	if strings.HasSuffix(mn, "32") {
		name, cls = strings.TrimSuffix(mn, "32"), clsALU
	} else if strings.HasSuffix(mn, "64") {
		name = strings.TrimSuffix(mn, "64")
	}
	if code, ok := jmpCodes[name]; ok {
		if cls == clsALU {
			cls = clsJMP32
		} else {
			cls = clsJMP
		}
		if err := want(3); err != nil {
			return err
		}
		return a.condJump(word{op: cls | code}, ops)
	}
	if strings.HasPrefix(mn, "movsx") {
		return a.movsx(mn, ops)
	}
	code, ok := aluCodes[name]
	if !ok {
		return fmt.Errorf("Invalid mnemonic: %s", mn)
	}
	w := word{op: cls | code}
	if name == "sdiv" || name == "smod" {
		w.off = 1
	}
	if name == "neg" {
		if err := want(1); err != nil {
			return err
		}
		dst, err := reg(ops[0])
		if err != nil {
			return err
		}
		w.dst = dst
		a.emit(w)
		return nil
	}
	if err := want(2); err != nil {
		return err
	}
	dst, err := reg(ops[0])
	if err != nil {
		return err
	}
	w.dst = dst
	if ops[1].Reg != nil {
		if w.src, err = reg(ops[1]); err != nil {
			return err
		}
		w.op |= srcX
	} else if w.imm, err = imm32(ops[1]); err != nil {
		return err
	}
	a.emit(w)
	return nil
}

// endian encodes be16/le32/swap64/bswap16…: ALU|END with the width in imm.
func endian(mn string) (word, bool) {
	for _, p := range []struct {
		prefix string
		op     uint8
	}{{"bswap", clsALU64 | 0xd0}, {"swap", clsALU64 | 0xd0}, {"be", clsALU | 0xd0 | srcX}, {"le", clsALU | 0xd0}} {
		if rest, ok := strings.CutPrefix(mn, p.prefix); ok {
			switch rest {
			case "16", "32", "64":
				n, _ := strconv.Atoi(rest)
				return word{op: p.op, imm: int32(n)}, true
			}
		}
	}
	return word{}, false
}

func (a *assembler) movsx(mn string, ops []*asmOperand) error {
	var w word
	switch mn {
	case "movsx864", "movsx1664", "movsx3264":
		w.op = clsALU64 | 0xb0 | srcX
	case "movsx832", "movsx1632":
		w.op = clsALU | 0xb0 | srcX
	default:
		return fmt.Errorf("Invalid mnemonic: %s", mn)
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(mn, "movsx")[:len(mn)-7])
	w.off = int16(n)
	if len(ops) != 2 {
		return fmt.Errorf("Invalid number of operands for mnemonic: %s", mn)
	}
	var err error
	if w.dst, err = reg(ops[0]); err != nil {
		return err
	}
	if w.src, err = reg(ops[1]); err != nil {
		return err
	}
	a.emit(w)
	return nil
}

func (a *assembler) condJump(w word, ops []*asmOperand) error {
	var err error
	if w.dst, err = reg(ops[0]); err != nil {
		return err
	}
	if ops[1].Reg != nil {
		if w.src, err = reg(ops[1]); err != nil {
			return err
		}
		w.op |= srcX
	} else if w.imm, err = imm32(ops[1]); err != nil {
		return err
	}
	return a.target(w, ops[2], false)
}

// target sets a jump's displacement: a signed number, or a label resolved
// at the end.
func (a *assembler) target(w word, op *asmOperand, inImm bool) error {
	switch {
	case op.Num != nil && (strings.HasPrefix(*op.Num, "+") || strings.HasPrefix(*op.Num, "-")):
		d, err := offset16(*op.Num)
		if err != nil {
			return err
		}
		if inImm {
			w.imm = int32(d)
		} else {
			w.off = d
		}
	case op.Word != nil:
		a.fixups = append(a.fixups, fixup{slot: len(a.out), line: a.line, label: *op.Word, inImm: inImm})
	default:
		return fmt.Errorf("Invalid jump target: %s", op)
	}
	a.emit(w)
	return nil
}

func (a *assembler) call(ops []*asmOperand) error {
	mode := "helper"
	switch len(ops) {
	case 1:
	case 2:
		if ops[0].Word == nil {
			return fmt.Errorf("Invalid call mode: %s", ops[0])
		}
		mode = *ops[0].Word
		ops = ops[1:]
	default:
		return fmt.Errorf("Invalid number of operands for mnemonic: call")
	}
	w := word{op: clsJMP | 0x80}
	switch mode {
	case "helper":
		if ops[0].Reg != nil {
			r, err := reg(ops[0])
			if err != nil {
				return err
			}
			w.op |= srcX
			w.dst = r
		} else {
			v, err := imm32(ops[0])
			if err != nil {
				return err
			}
			w.imm = v
		}
	case "local":
		w.src = 1
		return a.target(w, ops[0], true)
	case "runtime":
		w.src = 2
		v, err := imm32(ops[0])
		if err != nil {
			return err
		}
		w.imm = v
	default:
		return fmt.Errorf("Invalid call mode: %s", mode)
	}
	a.emit(w)
	return nil
}

func (a *assembler) load(mn string, ops []*asmOperand) error {
	mode, size := uint8(modeMEM), mn[3:]
	if strings.HasPrefix(size, "s") && size != "" {
		mode, size = modeMEMSX, size[1:]
	}
	sz, ok := sizeCodes[size]
	if !ok || (mode == modeMEMSX && sz == sizeDW) {
		return fmt.Errorf("Invalid mnemonic: %s", mn)
	}
	if len(ops) != 2 {
		return fmt.Errorf("Invalid number of operands for mnemonic: %s", mn)
	}
	w := word{op: clsLDX | mode | sz}
	var err error
	if w.dst, err = reg(ops[0]); err != nil {
		return err
	}
	if w.src, w.off, err = memOperand(ops[1]); err != nil {
		return err
	}
	a.emit(w)
	return nil
}

func (a *assembler) legacyLoad(mn string, ops []*asmOperand) error {
	mode, size := uint8(modeABS), mn[5:]
	if strings.HasPrefix(mn, "ldind") {
		mode = modeIND
	}
	sz, ok := sizeCodes[size]
	if !ok || sz == sizeDW {
		return fmt.Errorf("Invalid mnemonic: %s", mn)
	}
	w := word{op: clsLD | mode | sz}
	var err error
	if mode == modeIND {
		if len(ops) != 2 {
			return fmt.Errorf("Invalid number of operands for mnemonic: %s", mn)
		}
		if w.src, err = reg(ops[0]); err != nil {
			return err
		}
		ops = ops[1:]
	} else if len(ops) != 1 {
		return fmt.Errorf("Invalid number of operands for mnemonic: %s", mn)
	}
	if w.imm, err = imm32(ops[0]); err != nil {
		return err
	}
	a.emit(w)
	return nil
}

func (a *assembler) store(mn string, ops []*asmOperand, fromReg bool) error {
	size := mn[2:]
	cls := uint8(clsST)
	if fromReg {
		size, cls = mn[3:], clsSTX
	}
	sz, ok := sizeCodes[size]
	if !ok {
		return fmt.Errorf("Invalid mnemonic: %s", mn)
	}
	if len(ops) != 2 {
		return fmt.Errorf("Invalid number of operands for mnemonic: %s", mn)
	}
	w := word{op: cls | modeMEM | sz}
	var err error
	if w.dst, w.off, err = memOperand(ops[0]); err != nil {
		return err
	}
	if fromReg {
		w.src, err = reg(ops[1])
	} else {
		w.imm, err = imm32(ops[1])
	}
	if err != nil {
		return err
	}
	a.emit(w)
	return nil
}

// lock encodes `lock [fetch] op [dst+off], src` (STX|ATOMIC).
func (a *assembler) lock(ops []*asmOperand) error {
	fetch := false
	if len(ops) > 0 && ops[0].Word != nil && *ops[0].Word == "fetch" {
		fetch, ops = true, ops[1:]
	}
	if len(ops) != 3 || ops[0].Word == nil {
		return fmt.Errorf("Invalid number of operands for lock")
	}
	name, sz := *ops[0].Word, uint8(sizeDW)
	if strings.HasSuffix(name, "32") {
		name, sz = strings.TrimSuffix(name, "32"), sizeW
	}
	code, ok := atomicCodes[name]
	if !ok {
		return fmt.Errorf("Invalid mnemonic: lock %s", *ops[0].Word)
	}
	if fetch {
		code |= 0x01
	}
	w := word{op: clsSTX | modeATOMIC | sz, imm: int32(code)}
	var err error
	if w.dst, w.off, err = memOperand(ops[1]); err != nil {
		return err
	}
	if w.src, err = reg(ops[2]); err != nil {
		return err
	}
	a.emit(w)
	return nil
}

// reg decodes %r0…%r15. %r11–%r15 are not eBPF registers, but they fit
// the 4-bit field, so (as bpf_conformance's assembler does) they are
// encoded and left for the loader to reject: tests of that rejection need
// them.
func reg(op *asmOperand) (uint8, error) {
	if op.Reg == nil {
		return 0, fmt.Errorf("Invalid register: %s", op)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(*op.Reg, "%r"))
	if err != nil || !strings.HasPrefix(*op.Reg, "%r") || n > 15 {
		return 0, fmt.Errorf("Invalid register: %s", *op.Reg)
	}
	return uint8(n), nil
}

func memOperand(op *asmOperand) (uint8, int16, error) {
	if op.Mem == nil {
		return 0, 0, fmt.Errorf("Failed to decode register and offset: %s", op)
	}
	r, err := reg(&asmOperand{Reg: &op.Mem.Base})
	if err != nil {
		return 0, 0, err
	}
	var off int16
	if op.Mem.Off != nil {
		if off, err = offset16(*op.Mem.Off); err != nil {
			return 0, 0, err
		}
	}
	return r, off, nil
}

// offset16 parses a signed offset: decimal in int16 range, or hex up to
// 0xffff (reinterpreted as int16, with the sign applied).
func offset16(s string) (int16, error) {
	v, err := signedField(s, 16, "Offset")
	return int16(v), err
}

// imm32 parses an immediate: hex up to 0xffffffff (bit pattern), decimal in
// int32 range.
func imm32(op *asmOperand) (int32, error) {
	if op.Num == nil {
		return 0, fmt.Errorf("Invalid immediate: %s", op)
	}
	v, err := signedField(*op.Num, 32, "Immediate")
	return int32(v), err
}

// signedField parses a number for a signed field of the given width, as
// the uBPF assembler does: hex is a bit pattern of at most that width,
// reinterpreted as signed, then negated for a leading '-'; decimal must
// fit the signed range. what names the field in bpf_conformance's error
// text ("Offset out of 16-bit range: …").
func signedField(s string, bits uint, what string) (int64, error) {
	bad := fmt.Errorf("%s out of %d-bit range: %s", what, bits, s)
	neg := strings.HasPrefix(s, "-")
	mag := strings.TrimLeft(s, "+-")
	if strings.HasPrefix(mag, "0x") || strings.HasPrefix(mag, "0X") {
		v, err := strconv.ParseUint(mag[2:], 16, 64)
		if err != nil || v >= 1<<bits {
			return 0, bad
		}
		i := int64(v<<(64-bits)) >> (64 - bits) // sign-extend from the field's width
		if neg {
			i = -i
		}
		return i, nil
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
	if err != nil || v < -1<<(bits-1) || v >= 1<<(bits-1) {
		return 0, bad
	}
	return v, nil
}

// imm64 parses lddw's immediate: hex as an unsigned 64-bit pattern,
// decimal signed or unsigned.
func imm64(op *asmOperand) (uint64, error) {
	if op.Num == nil {
		return 0, fmt.Errorf("Invalid immediate: %s", op)
	}
	s := *op.Num
	neg := strings.HasPrefix(s, "-")
	mag := strings.TrimLeft(s, "+-")
	var v uint64
	var err error
	if strings.HasPrefix(mag, "0x") || strings.HasPrefix(mag, "0X") {
		v, err = strconv.ParseUint(mag[2:], 16, 64)
	} else {
		v, err = strconv.ParseUint(mag, 10, 64)
		if err == nil && neg && v > 1<<63 {
			err = strconv.ErrRange
		}
	}
	if err != nil {
		return 0, fmt.Errorf("Immediate out of 64-bit range: %s", s)
	}
	if neg {
		v = -v
	}
	return v, nil
}
