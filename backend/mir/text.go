package mir

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/asm"
	"github.com/nfpcc/nfpcc/isa/image"
)

var textOpt = isa.Options{Mode: isa.Ctx4}

// loadTargets names the load-time branch kinds as the assembler writes them.
var loadTargets = map[image.RelocKind]string{
	image.RelocBrGoOut: "out", image.RelocBrGoAbort: "abort", image.RelocBrNextPkt: "next_pkt",
	image.RelocBrHelper: "helper",
}

// Print writes f as assembler source (see the package comment).
func (f *Func) Print() string {
	at := map[int][]Label{}
	for l, i := range f.Labels {
		if i >= 0 {
			at[i] = append(at[i], Label(l))
		}
	}
	var b strings.Builder
	labels := func(i int) {
		ls := at[i]
		sort.Slice(ls, func(x, y int) bool { return ls[x] < ls[y] })
		for _, l := range ls {
			fmt.Fprintf(&b, "L%d:\n", l)
		}
	}
	for i := range f.Instrs {
		labels(i)
		it := &f.Instrs[i]
		line := "    " + it.text()
		var notes []string
		if it.PC >= 0 {
			notes = append(notes, fmt.Sprintf("@%d", it.PC))
		}
		if it.Kind == Plain && it.Reloc != 0 {
			notes = append(notes, fmt.Sprintf("reloc=%d:%d", it.Reloc, it.Value))
		}
		if len(notes) > 0 {
			line = fmt.Sprintf("%-60s ; %s", line, strings.Join(notes, " "))
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	labels(len(f.Instrs))
	return b.String()
}

// text is the assembler text of one instruction.
func (it *Instr) text() string {
	switch it.Kind {
	case Branch:
		var t string
		switch it.Reloc {
		case 0:
			t = fmt.Sprintf("L%d", it.Target)
		case image.RelocBrGoOut, image.RelocBrGoAbort:
			t = fmt.Sprintf("@%s(L%d)", loadTargets[it.Reloc], it.RelLbl)
		case image.RelocBrHelper:
			t = fmt.Sprintf("@helper(%d)", it.Value)
		default:
			name, ok := loadTargets[it.Reloc]
			if !ok {
				return fmt.Sprintf("<branch with relocation %s>", it.Reloc)
			}
			t = "@" + name
		}
		s := fmt.Sprintf("%s[%s]", it.Cond, t)
		if it.Defer > 0 {
			s += fmt.Sprintf(", defer[%d]", it.Defer)
		}
		return s
	case ImmedRel:
		return fmt.Sprintf("immed[%s, @rel(L%d)]", it.Dst, it.Target)
	}
	if it.In == nil {
		return "<nil>"
	}
	s, _ := isa.Text(it.In, textOpt)
	return s
}

var (
	labelRef = regexp.MustCompile(`\bL(\d+)\b`)
	pcNote   = regexp.MustCompile(`;.*@(\d+)`)
	relNote  = regexp.MustCompile(`;.*\breloc=(\d+):(\d+)`)
)

// Parse reads Print's text back (any assembler source using L<n> labels).
func Parse(file, src string) (*Func, error) {
	p, err := asm.Assemble(file, []byte(src), asm.Options{})
	if err != nil {
		return nil, err
	}
	lines := strings.Split(src, "\n")
	f := &Func{}
	for name, addr := range p.Labels {
		n, err := labelNum(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		for len(f.Labels) <= int(n) {
			f.Labels = append(f.Labels, -1)
		}
		f.Labels[n] = addr
	}
	rel := map[int]asm.Reloc{}
	for _, r := range p.Relocs {
		rel[r.Word] = r
	}
	for i, w := range p.Words {
		text := lines[p.Lines[i]-1]
		it := Instr{Kind: Plain, In: isa.Decode(w), PC: -1}
		if m := pcNote.FindStringSubmatch(text); m != nil {
			it.PC, _ = strconv.Atoi(m[1])
		}
		code := text
		if k := strings.IndexByte(code, ';'); k >= 0 {
			code = code[:k]
		}
		ref := Label(-1)
		if m := labelRef.FindStringSubmatch(code); m != nil {
			n, _ := strconv.Atoi(m[1])
			ref = Label(n)
		}
		if err := it.fromWord(rel[i], ref, text); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, p.Lines[i], err)
		}
		f.Instrs = append(f.Instrs, it)
	}
	return f, nil
}

// fromWord turns an assembled word with its relocation into a branch or an
// immed of an address where it is one.
func (it *Instr) fromWord(r asm.Reloc, ref Label, text string) error {
	if m := relNote.FindStringSubmatch(text); m != nil {
		k, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseUint(m[2], 10, 32)
		it.Reloc, it.Value = image.RelocKind(k), uint32(v)
	}
	switch in := it.In.(type) {
	case isa.BranchInstr:
		it.Kind, it.Cond, it.Defer = Branch, in.Cond, int(in.Defer)
		it.In = nil
		switch image.RelocKind(r.Kind) {
		case image.RelocBrRel:
			if ref < 0 {
				return fmt.Errorf("branch without a label target")
			}
			it.Target = ref
		case image.RelocBrGoOut, image.RelocBrGoAbort:
			it.Reloc, it.RelLbl = image.RelocKind(r.Kind), ref
		case image.RelocBrHelper:
			it.Reloc, it.Value = image.RelocBrHelper, uint32(r.Value)
		case image.RelocBrNextPkt:
			it.Reloc = image.RelocBrNextPkt
		default:
			return fmt.Errorf("branch with a fixed target: MIR branches go to labels or load-time targets")
		}
	case isa.ImmedInstr:
		if image.RelocKind(r.Kind) == image.RelocImmedRel {
			it.Kind, it.Dst, it.Target, it.In = ImmedRel, in.Dest(isa.Ctx4), ref, nil
		}
	}
	return nil
}

func labelNum(name string) (Label, error) {
	if len(name) < 2 || name[0] != 'L' {
		return 0, fmt.Errorf("label %q: MIR labels are L<n>", name)
	}
	n, err := strconv.Atoi(name[1:])
	if err != nil || n < 0 || n > 1<<20 {
		return 0, fmt.Errorf("label %q: MIR labels are L<n>", name)
	}
	return Label(n), nil
}
