package image

import (
	"bytes"
	"fmt"
	"io"
)

// Read decodes an image and validates it (Validate). Errors name the
// section and record at fault.
func Read(r io.Reader) (*Image, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	return Unmarshal(b)
}

// Unmarshal is Read from a byte slice.
func Unmarshal(b []byte) (*Image, error) {
	img, err := Parse(b)
	if err != nil {
		return nil, err
	}
	if err := img.Validate(); err != nil {
		return nil, fmt.Errorf("image: invalid:\n%w", err)
	}
	return img, nil
}

// Parse decodes the structure of an image without validating its contents,
// so that tools can still show a damaged image (bad ECC, a relocation past
// the end). It never panics on any input.
func Parse(b []byte) (*Image, error) {
	p := &parser{b: b}
	img, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	return img, nil
}

type parser struct {
	b     []byte
	hdrs  []sectHeader
	names []string
	sec   map[string]int // section index by name
	str   []byte         // .strtab
}

func (p *parser) parse() (*Image, error) {
	b := p.b
	if len(b) < elfHeaderSize {
		return nil, fmt.Errorf("%d bytes, too short for an ELF header", len(b))
	}
	if !bytes.Equal(b[:4], []byte{0x7f, 'E', 'L', 'F'}) {
		return nil, fmt.Errorf("not an ELF file (magic % x)", b[:4])
	}
	if b[4] != 2 || b[5] != 1 {
		return nil, fmt.Errorf("ELF class %d, data %d: want ELF64 (2) little-endian (1)", b[4], b[5])
	}
	if m := le.Uint16(b[18:]); m != EMNFP {
		return nil, fmt.Errorf("ELF machine %d, want EM_NFP (%d)", m, EMNFP)
	}
	if f := le.Uint32(b[48:]); f>>8&0xffff != MachNFP6000 {
		return nil, fmt.Errorf("ELF flags %#x: chip family %#x, want NFP-6xxx (%#x)", f, f>>8&0xffff, MachNFP6000)
	}
	shoff := le.Uint64(b[40:])
	shentsize := le.Uint16(b[58:])
	shnum := uint64(le.Uint16(b[60:]))
	shstrndx := uint64(le.Uint16(b[62:]))
	if shentsize != sectHeaderSize {
		return nil, fmt.Errorf("section header size %d, want %d", shentsize, sectHeaderSize)
	}
	if shnum == 0 || shoff > uint64(len(b)) || shnum*sectHeaderSize > uint64(len(b))-shoff {
		return nil, fmt.Errorf("section header table (%d entries at %#x) outside the file (%d bytes)", shnum, shoff, len(b))
	}
	for i := uint64(0); i < shnum; i++ {
		e := b[shoff+i*sectHeaderSize:]
		h := sectHeader{
			name: le.Uint32(e[0:]), typ: le.Uint32(e[4:]), flags: le.Uint64(e[8:]),
			offset: le.Uint64(e[24:]), size: le.Uint64(e[32:]),
			link: le.Uint32(e[40:]), info: le.Uint32(e[44:]),
			align: le.Uint64(e[48:]), entsize: le.Uint64(e[56:]),
		}
		if h.offset > uint64(len(b)) || h.size > uint64(len(b))-h.offset {
			return nil, fmt.Errorf("section %d: contents (%d bytes at %#x) outside the file", i, h.size, h.offset)
		}
		p.hdrs = append(p.hdrs, h)
	}
	if shstrndx >= shnum || p.hdrs[shstrndx].typ != shtStrtab {
		return nil, fmt.Errorf("section name table index %d is not a string table", shstrndx)
	}
	shstr := p.data(int(shstrndx))
	p.sec = map[string]int{}
	for i, h := range p.hdrs {
		n, err := cstring(shstr, h.name)
		if err != nil {
			return nil, fmt.Errorf("section %d: name: %v", i, err)
		}
		if _, dup := p.sec[n]; dup && i > 0 {
			return nil, fmt.Errorf("section %d: second section named %q", i, n)
		}
		p.sec[n] = i
		p.names = append(p.names, n)
	}

	// Required sections, with the type and record size each must have.
	for _, want := range []struct {
		id      int
		typ     uint32
		entsize uint64
	}{
		{secText, shtProgbits, 8}, {secRelo, shtProgbits, relocSize}, {secProg, shtProgbits, progSize},
		{secMaps, shtProgbits, mapSize}, {secMapInit, shtProgbits, 0}, {secLines, shtProgbits, lineSize},
		{secSymtab, shtSymtab, symSize}, {secStrtab, shtStrtab, 0},
	} {
		name := sectionNames[want.id]
		i, ok := p.sec[name]
		if !ok {
			return nil, fmt.Errorf("no section %s", name)
		}
		h := p.hdrs[i]
		if h.typ != want.typ {
			return nil, fmt.Errorf("section %s: type %#x, want %#x", name, h.typ, want.typ)
		}
		if want.entsize != 0 && h.size%want.entsize != 0 {
			return nil, fmt.Errorf("section %s: size %d is not a multiple of its %d-byte records", name, h.size, want.entsize)
		}
	}
	p.str = p.data(p.sec[sectionNames[secStrtab]])
	if len(p.str) == 0 || p.str[0] != 0 || p.str[len(p.str)-1] != 0 {
		return nil, fmt.Errorf("section .strtab: must begin and end with a NUL byte")
	}

	img := &Image{}
	if err := p.program(img); err != nil {
		return nil, err
	}
	if e := le.Uint64(b[24:]); e != uint64(img.Program.Entry)*8 {
		return nil, fmt.Errorf("ELF entry %#x disagrees with .nfp.prog entry .%d (byte address %#x)", e, img.Program.Entry, uint64(img.Program.Entry)*8)
	}
	text := p.data(p.sec[sectionNames[secText]])
	for i := 0; i+8 <= len(text); i += 8 {
		img.Code = append(img.Code, le.Uint64(text[i:]))
	}
	if err := p.relocs(img); err != nil {
		return nil, err
	}
	if err := p.maps(img); err != nil {
		return nil, err
	}
	if err := p.lines(img); err != nil {
		return nil, err
	}
	return img, nil
}

func (p *parser) data(i int) []byte {
	h := p.hdrs[i]
	return p.b[h.offset : h.offset+h.size]
}

func (p *parser) named(id int) []byte { return p.data(p.sec[sectionNames[id]]) }

// cstring reads the NUL-terminated string at off in a string table.
func cstring(tab []byte, off uint32) (string, error) {
	if uint64(off) >= uint64(len(tab)) {
		return "", fmt.Errorf("string offset %d outside the string table (%d bytes)", off, len(tab))
	}
	end := bytes.IndexByte(tab[off:], 0)
	if end < 0 {
		return "", fmt.Errorf("string at offset %d has no terminating NUL", off)
	}
	return string(tab[off : int(off)+end]), nil
}

func (p *parser) program(img *Image) error {
	d := p.named(secProg)
	if len(d) != progSize {
		return fmt.Errorf("section .nfp.prog: %d bytes, want one %d-byte record", len(d), progSize)
	}
	if v := le.Uint32(d[0:]); v != progVersion {
		return fmt.Errorf("section .nfp.prog: format version %d, this nfpcc reads version %d", v, progVersion)
	}
	name, err := cstring(p.str, le.Uint32(d[4:]))
	if err != nil {
		return fmt.Errorf("section .nfp.prog: program name: %v", err)
	}
	if r := MCPU(le.Uint32(d[20:])); r != MCPUCoreNIC && r != MCPUEmulator {
		return fmt.Errorf("section .nfp.prog: target (mcpu) is %d, want 0 (corenic) or 1 (emulator)", uint32(r))
	}
	img.Program = Program{
		Name: name, Type: ProgType(le.Uint32(d[8:])), Entry: le.Uint32(d[12:]),
		StackSize: le.Uint32(d[16:]), Caps: Caps(le.Uint64(d[24:])), MCPU: MCPU(le.Uint32(d[20:])),
	}
	return nil
}

func (p *parser) relocs(img *Image) error {
	d := p.named(secRelo)
	for i := 0; i+relocSize <= len(d); i += relocSize {
		e := d[i:]
		if e[5] != 0 || e[6] != 0 || e[7] != 0 {
			return fmt.Errorf("section .nfp.relo: entry %d: padding bytes % x are not zero", i/relocSize, e[5:8])
		}
		img.Relocs = append(img.Relocs, Reloc{Index: le.Uint32(e[0:]), Kind: RelocKind(e[4]), Value: le.Uint32(e[8:])})
	}
	return nil
}

func (p *parser) maps(img *Image) error {
	d := p.named(secMaps)
	init := p.named(secMapInit)
	for i := 0; i+mapSize <= len(d); i += mapSize {
		at := fmt.Sprintf("section .nfp.maps: map %d", i/mapSize)
		e := d[i:]
		name, err := cstring(p.str, le.Uint32(e[0:]))
		if err != nil {
			return fmt.Errorf("%s: name: %v", at, err)
		}
		m := Map{Name: name, Type: le.Uint32(e[4:]), KeySize: le.Uint32(e[8:]), ValueSize: le.Uint32(e[12:]),
			MaxEntries: le.Uint32(e[16:]), Flags: le.Uint32(e[20:])}
		off, n := uint64(le.Uint32(e[24:])), uint64(le.Uint32(e[28:]))
		if n > 0 {
			if off > uint64(len(init)) || n > uint64(len(init))-off {
				return fmt.Errorf("%s: initial contents (%d bytes at %d) outside .nfp.mapinit (%d bytes)", at, n, off, len(init))
			}
			m.Contents = append([]byte(nil), init[off:off+n]...)
		} else if off != 0 {
			return fmt.Errorf("%s: contents offset %d with no contents", at, off)
		}
		img.Maps = append(img.Maps, m)
	}
	return nil
}

func (p *parser) lines(img *Image) error {
	d := p.named(secLines)
	for i := 0; i+lineSize <= len(d); i += lineSize {
		e := d[i:]
		file, err := cstring(p.str, le.Uint32(e[8:]))
		if err != nil {
			return fmt.Errorf("section .nfp.lines: entry %d: file: %v", i/lineSize, err)
		}
		img.Lines = append(img.Lines, Line{Addr: le.Uint32(e[0:]), PC: le.Uint32(e[4:]), File: file, Line: le.Uint32(e[12:])})
	}
	return nil
}
