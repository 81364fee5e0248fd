package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// The listing `nfpcc PROG.o -S` writes: the code as GNU objdump prints it
// (each word in hex beside its text, so that `nfpcc as` takes the words
// verbatim), each line annotated for the reader with its eBPF slot, C line
// and relocation, then a block of `;@` directives holding everything else
// the image has: the program (name, type, entry, stack, capabilities,
// target), the maps, the relocations and the line table. `nfpcc as
// LISTING` rebuilds the identical image from it (TestListingRoundTrip).
// To the assembler the directives are comments.

const listingMagic = "; nfpcc listing"

// writeListing is img's listing.
func writeListing(img *image.Image) string {
	var b strings.Builder
	p := img.Program
	fmt.Fprintf(&b, "%s of %s (%v, mcpu %v): `nfpcc as` assembles it back to the same image\n", listingMagic, p.Name, p.Type, p.MCPU)
	rel := map[uint32]image.Reloc{}
	for _, r := range img.Relocs {
		rel[r.Index] = r
	}
	line := map[uint32]image.Line{}
	for _, l := range img.Lines {
		line[l.Addr] = l
	}
	words := make([]isa.Word, len(img.Code))
	for i, w := range img.Code {
		words[i] = isa.Word(w)
	}
	cs := isa.CodeSection{Name: p.Name, Words: words, Opts: isa.Options{Mode: isa.Ctx4}, Labels: []isa.Label{{Name: p.Name, Word: 0}}}
	for _, l := range isa.SectionLines(cs) {
		m := objdumpWord.FindStringSubmatch(l)
		if m == nil {
			b.WriteString(l + "\n")
			continue
		}
		addr, _ := strconv.ParseUint(m[2], 16, 32)
		w := uint32(addr / 8)
		var notes []string
		if e, ok := line[w]; ok && e.PC != image.NoPC {
			notes = append(notes, fmt.Sprintf("@%d", e.PC))
			if e.Line > 0 {
				notes = append(notes, fmt.Sprintf("%s:%d", filepath.Base(e.File), e.Line))
			}
		}
		if r, ok := rel[w]; ok {
			notes = append(notes, relocNote(r))
		}
		if len(notes) > 0 {
			l = fmt.Sprintf("%-64s ; %s", l, strings.Join(notes, " "))
		}
		b.WriteString(l + "\n")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, ";@program name=%q type=%d entry=%d stack=%d caps=%#x mcpu=%d\n", p.Name, p.Type, p.Entry, p.StackSize, uint64(p.Caps), p.MCPU)
	for _, m := range img.Maps {
		fmt.Fprintf(&b, ";@map name=%q type=%d key=%d value=%d entries=%d flags=%#x contents=%q\n",
			m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags, hex.EncodeToString(m.Contents))
	}
	for _, r := range img.Relocs {
		fmt.Fprintf(&b, ";@reloc word=%d kind=%d value=%d\n", r.Index, r.Kind, r.Value)
	}
	for _, l := range img.Lines {
		fmt.Fprintf(&b, ";@line word=%d pc=%d line=%d file=%q\n", l.Addr, int64(int32(l.PC)), l.Line, l.File)
	}
	return b.String()
}

func relocNote(r image.Reloc) string {
	switch r.Kind {
	case image.RelocBrRel, image.RelocImmedRel, image.RelocBrNextPkt:
		return r.Kind.String()
	case image.RelocBrHelper:
		return fmt.Sprintf("%s %s", r.Kind, image.HelperName(r.Value))
	}
	return fmt.Sprintf("%s .%d", r.Kind, r.Value)
}

// isListing says whether an assembly text is a listing writeListing wrote.
func isListing(text []byte) bool {
	return strings.HasPrefix(string(text), listingMagic)
}

// directive matches one `;@kind key=value …` line.
var directive = regexp.MustCompile(`^;@(\w+) (.*)$`)

// directiveField matches key=value, the value a number or a quoted string.
var directiveField = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)

// readListing applies the directives of a listing to img (whose code the
// assembler made from the same text): program, maps, relocations, lines.
func readListing(name string, text []byte, img *image.Image) error {
	img.Relocs, img.Lines, img.Maps = nil, nil, nil
	sc := bufio.NewScanner(strings.NewReader(string(text)))
	sc.Buffer(make([]byte, 1<<20), maxTextInput)
	n := 0
	for sc.Scan() {
		n++
		m := directive.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		f := map[string]string{}
		for _, kv := range directiveField.FindAllStringSubmatch(m[2], -1) {
			f[kv[1]] = kv[2]
		}
		bad := func(err error) error { return fmt.Errorf("%s:%d: ;@%s: %v", name, n, m[1], err) }
		var d fieldReader
		d.f = f
		switch m[1] {
		case "program":
			p := &img.Program
			p.Name = d.str("name")
			p.Type = image.ProgType(d.num("type", 32))
			p.Entry = uint32(d.num("entry", 32))
			p.StackSize = uint32(d.num("stack", 32))
			p.Caps = image.Caps(d.num("caps", 64))
			p.MCPU = image.MCPU(d.num("mcpu", 32))
		case "map":
			mp := image.Map{Name: d.str("name"), Type: uint32(d.num("type", 32)), KeySize: uint32(d.num("key", 32)),
				ValueSize: uint32(d.num("value", 32)), MaxEntries: uint32(d.num("entries", 32)), Flags: uint32(d.num("flags", 32))}
			if c := d.str("contents"); c != "" {
				b, err := hex.DecodeString(c)
				if err != nil {
					return bad(err)
				}
				mp.Contents = b
			}
			img.Maps = append(img.Maps, mp)
		case "reloc":
			img.Relocs = append(img.Relocs, image.Reloc{Index: uint32(d.num("word", 32)), Kind: image.RelocKind(d.num("kind", 8)), Value: uint32(d.num("value", 32))})
		case "line":
			pc := d.signed("pc")
			img.Lines = append(img.Lines, image.Line{Addr: uint32(d.num("word", 32)), PC: uint32(int32(pc)), Line: uint32(d.num("line", 32)), File: d.str("file")})
		default:
			return bad(fmt.Errorf("unknown directive"))
		}
		if d.err != nil {
			return bad(d.err)
		}
	}
	return sc.Err()
}

// fieldReader reads a directive's fields, keeping the first error.
type fieldReader struct {
	f   map[string]string
	err error
}

func (d *fieldReader) get(k string) (string, bool) {
	v, ok := d.f[k]
	if !ok && d.err == nil {
		d.err = fmt.Errorf("no %s=", k)
	}
	return v, ok
}

func (d *fieldReader) num(k string, bits int) uint64 {
	v, ok := d.get(k)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(v, 0, bits)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("%s=%s: %v", k, v, err)
	}
	return n
}

func (d *fieldReader) signed(k string) int64 {
	v, ok := d.get(k)
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 0, 33)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("%s=%s: %v", k, v, err)
	}
	return n
}

func (d *fieldReader) str(k string) string {
	v, ok := d.get(k)
	if !ok {
		return ""
	}
	s, err := strconv.Unquote(v)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("%s=%s: not a quoted string", k, v)
	}
	return s
}
