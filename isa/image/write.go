package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

var le = binary.LittleEndian

// Write validates the image and writes it as an ELF file. The output
// depends only on the image: the same image gives the same bytes.
func (img *Image) Write(w io.Writer) error {
	b, err := img.Marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal is Write into a byte slice.
func (img *Image) Marshal() ([]byte, error) {
	if err := img.Validate(); err != nil {
		return nil, fmt.Errorf("image: not written, invalid:\n%w", err)
	}
	var strtab strTable
	strtab.add("")

	// Symbols: null, the code section, the program.
	syms := []symbol{{}, {info: stbLocal<<4 | sttSection, shndx: secText}}
	strtab.add(img.Program.Name)
	syms = append(syms, symbol{
		name: img.Program.Name, info: stbGlobal<<4 | sttFunc, shndx: secText,
		value: uint64(img.Program.Entry) * 8, size: uint64(len(img.Code)-int(img.Program.Entry)) * 8,
	})
	for i := range syms {
		syms[i].nameOff = strtab.add(syms[i].name)
	}

	var data [numSections][]byte

	data[secText] = make([]byte, 8*len(img.Code))
	for i, w := range img.Code {
		le.PutUint64(data[secText][8*i:], w)
	}

	for _, r := range img.Relocs {
		var e [relocSize]byte
		le.PutUint32(e[0:], r.Index)
		e[4] = uint8(r.Kind)
		le.PutUint32(e[8:], r.Value)
		data[secRelo] = append(data[secRelo], e[:]...)
	}

	p := &img.Program
	prog := make([]byte, progSize)
	le.PutUint32(prog[0:], progVersion)
	le.PutUint32(prog[4:], strtab.add(p.Name))
	le.PutUint32(prog[8:], uint32(p.Type))
	le.PutUint32(prog[12:], p.Entry)
	le.PutUint32(prog[16:], p.StackSize)
	le.PutUint32(prog[20:], uint32(p.MCPU))
	le.PutUint64(prog[24:], uint64(p.Caps))
	data[secProg] = prog

	for _, m := range img.Maps {
		var e [mapSize]byte
		le.PutUint32(e[0:], strtab.add(m.Name))
		le.PutUint32(e[4:], m.Type)
		le.PutUint32(e[8:], m.KeySize)
		le.PutUint32(e[12:], m.ValueSize)
		le.PutUint32(e[16:], m.MaxEntries)
		le.PutUint32(e[20:], m.Flags)
		if len(m.Contents) > 0 {
			for len(data[secMapInit])%8 != 0 {
				data[secMapInit] = append(data[secMapInit], 0)
			}
			le.PutUint32(e[24:], uint32(len(data[secMapInit])))
			le.PutUint32(e[28:], uint32(len(m.Contents)))
			data[secMapInit] = append(data[secMapInit], m.Contents...)
		}
		data[secMaps] = append(data[secMaps], e[:]...)
	}

	for _, l := range img.Lines {
		var e [lineSize]byte
		le.PutUint32(e[0:], l.Addr)
		le.PutUint32(e[4:], l.PC)
		le.PutUint32(e[8:], strtab.add(l.File))
		le.PutUint32(e[12:], l.Line)
		data[secLines] = append(data[secLines], e[:]...)
	}

	mecsr := make([]byte, initRegSize)
	le.PutUint32(mecsr[0:], mecsrW0)
	le.PutUint32(mecsr[4:], mecsrCppOffset)
	le.PutUint32(mecsr[8:], mecsrCtx4Value)
	le.PutUint32(mecsr[12:], mecsrCtx4Mask)
	data[secMECSR] = mecsr

	for _, s := range syms {
		var e [symSize]byte
		le.PutUint32(e[0:], s.nameOff)
		e[4] = s.info
		le.PutUint16(e[6:], s.shndx)
		le.PutUint64(e[8:], s.value)
		le.PutUint64(e[16:], s.size)
		data[secSymtab] = append(data[secSymtab], e[:]...)
	}
	data[secStrtab] = strtab.buf.Bytes()

	var shstrtab strTable
	shstrtab.add("")
	var nameOff [numSections]uint32
	for i, n := range sectionNames {
		nameOff[i] = shstrtab.add(n)
	}
	data[secShstrtab] = shstrtab.buf.Bytes()

	hdrs := sectionHeaders()
	var out bytes.Buffer
	out.Write(make([]byte, elfHeaderSize))
	for i := 1; i < numSections; i++ {
		align(&out, int(hdrs[i].align))
		hdrs[i].offset = uint64(out.Len())
		hdrs[i].size = uint64(len(data[i]))
		hdrs[i].name = nameOff[i]
		out.Write(data[i])
	}
	align(&out, 8)
	shoff := out.Len()
	for _, h := range hdrs {
		out.Write(h.bytes())
	}

	b := out.Bytes()
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(b[16:], etExec)
	le.PutUint16(b[18:], EMNFP)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], uint64(p.Entry)*8)
	le.PutUint64(b[40:], uint64(shoff))
	le.PutUint32(b[48:], eFlagsNFP600)
	le.PutUint16(b[52:], elfHeaderSize)
	le.PutUint16(b[58:], sectHeaderSize)
	le.PutUint16(b[60:], numSections)
	le.PutUint16(b[62:], secShstrtab)
	return b, nil
}

// sectionHeaders returns the fixed part of every section header; offsets,
// sizes and names are filled in by the writer.
func sectionHeaders() [numSections]sectHeader {
	var h [numSections]sectHeader
	h[secText] = sectHeader{typ: shtProgbits, flags: shfAlloc | shfExec, info: textInfo, align: 8, entsize: 8}
	h[secRelo] = sectHeader{typ: shtProgbits, link: secText, align: 4, entsize: relocSize}
	h[secProg] = sectHeader{typ: shtProgbits, align: 8, entsize: progSize}
	h[secMaps] = sectHeader{typ: shtProgbits, align: 8, entsize: mapSize}
	h[secMapInit] = sectHeader{typ: shtProgbits, align: 8}
	h[secLines] = sectHeader{typ: shtProgbits, align: 4, entsize: lineSize}
	h[secMECSR] = sectHeader{typ: shtNFPInitReg, info: mecsrInfo, align: 4, entsize: initRegSize}
	h[secSymtab] = sectHeader{typ: shtSymtab, link: secStrtab, info: firstGlobalSym, align: 8, entsize: symSize}
	h[secStrtab] = sectHeader{typ: shtStrtab, align: 1}
	h[secShstrtab] = sectHeader{typ: shtStrtab, align: 1}
	return h
}

type symbol struct {
	name    string
	nameOff uint32
	info    uint8
	shndx   uint16
	value   uint64
	size    uint64
}

type sectHeader struct {
	name         uint32
	typ          uint32
	flags        uint64
	offset, size uint64
	link, info   uint32
	align        uint64
	entsize      uint64
}

func (h sectHeader) bytes() []byte {
	b := make([]byte, sectHeaderSize)
	le.PutUint32(b[0:], h.name)
	le.PutUint32(b[4:], h.typ)
	le.PutUint64(b[8:], h.flags)
	le.PutUint64(b[24:], h.offset)
	le.PutUint64(b[32:], h.size)
	le.PutUint32(b[40:], h.link)
	le.PutUint32(b[44:], h.info)
	le.PutUint64(b[48:], h.align)
	le.PutUint64(b[56:], h.entsize)
	return b
}

func align(b *bytes.Buffer, n int) {
	for n > 1 && b.Len()%n != 0 {
		b.WriteByte(0)
	}
}

// strTable builds an ELF string table, each distinct string once, in order of
// first use.
type strTable struct {
	buf bytes.Buffer
	off map[string]uint32
}

func (s *strTable) add(str string) uint32 {
	if s.off == nil {
		s.off = map[string]uint32{}
	}
	if o, ok := s.off[str]; ok {
		return o
	}
	o := uint32(s.buf.Len())
	s.buf.WriteString(str)
	s.buf.WriteByte(0)
	s.off[str] = o
	return o
}
