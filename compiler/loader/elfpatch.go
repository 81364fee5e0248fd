package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// elfInfo is what the loader learns from the raw ELF before handing it to
// cilium/ebpf, plus the repaired copy it hands over.
//
// cilium/ebpf reads each function and each legacy map definition with the
// size of its ELF symbol. Objects built by clang before version 8 (most of
// the Linux kernel's samples/bpf and the prototype-kernel XDP samples) leave
// every st_size at 0, so cilium/ebpf sees empty functions ("no instructions
// found") and empty map definitions ("missing type"). The kernel's own
// loaders of that era (samples/bpf/bpf_load.c, iproute2) never looked at
// st_size: they cut sections at the next symbol and divided the `maps`
// section evenly. repair does the same on a private copy of the file:
// every zero st_size of a function or map symbol becomes the distance to
// the next such symbol (or to the end of the section). It also rewrites an
// e_machine of EM_NONE, which old LLVM emitted, to EM_BPF.
type elfInfo struct {
	image    []byte            // the repaired copy
	order    binary.ByteOrder  // the object's byte order
	secIndex map[string]int    // section name → ELF section index (first wins)
	symValue map[string]uint64 // function symbol → offset in its section
	symSec   map[string]string // function symbol → its section
	mapSec   map[string]string // map symbol → section holding its definition
	mapOff   map[string]uint64 // map symbol → offset of its definition in that section
	// legacyMaps lists the legacy map symbols of all `maps*` sections in
	// section order, then by offset: a legacy map-in-map definition names
	// its inner map by that position (bpf_load.c and PREVAIL number maps
	// this way, whether they share one `maps` section or have one
	// `maps/name` section each).
	legacyMaps []string
	// textFuncs lists the functions of `.text`; textName is the file offset
	// of the string ".text" in the section-name table (-1 if unknown).
	textFuncs []string
	textName  int64
	// btfTextName is the file offset of the string ".text" in the BTF
	// string table (-1 if none): BTF.ext line and function info name their
	// section through it, so it is renamed along with the section.
	btfTextName int64
}

const (
	symEntSize   = 24 // sizeof(Elf64_Sym)
	symSizeField = 16 // offset of st_size in Elf64_Sym
	eMachineOff  = 18 // offset of e_machine in the ELF header
)

// isProgSection mirrors cilium/ebpf's notion of a program section.
func isProgSection(s *elf.Section) bool {
	return s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_EXECINSTR != 0 && s.Size > 0
}

// isLegacyMapSection is the pre-BTF `maps` section (and `maps/…`).
func isLegacyMapSection(s *elf.Section) bool { return isLegacyMapName(s.Name) }

func isLegacyMapName(name string) bool { return strings.HasPrefix(name, "maps") }

// keepSymbol says whether cilium/ebpf will use sym as a function (in a
// program section) or a map (in a map section), the symbols whose sizes
// matter. Local NOTYPE symbols in code are jump labels (LBB0_3) and do not
// end a function.
func keepSymbol(sym elf.Symbol, sec *elf.Section) bool {
	if sym.Name == "" {
		return false
	}
	typ, bind := elf.ST_TYPE(sym.Info), elf.ST_BIND(sym.Info)
	switch {
	case isProgSection(sec):
		return typ == elf.STT_FUNC || (typ == elf.STT_NOTYPE && bind != elf.STB_LOCAL)
	case isLegacyMapSection(sec) || sec.Name == ".maps":
		return typ == elf.STT_OBJECT || typ == elf.STT_NOTYPE
	}
	return false
}

// openELF runs debug/elf on b. debug/elf has panicked on hostile input in
// the past; such a panic becomes an error here, because no input may crash
// the loader. The recover covers debug/elf only, so that a bug of the
// loader itself still surfaces as a panic in tests and fuzzing.
func openELF(b []byte) (f *elf.File, syms []elf.Symbol, symErr error, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, syms, symErr, err = nil, nil, nil, fmt.Errorf("malformed ELF (debug/elf panicked: %v)", r)
		}
	}()
	f, err = elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, nil, nil, err
	}
	syms, symErr = f.Symbols()
	return f, syms, symErr, nil
}

// inspect parses the ELF headers and symbols of b and returns the repaired
// copy with what the later stages need to know.
func inspect(b []byte) (*elfInfo, error) {
	f, syms, symErr, err := openELF(b)
	if err != nil {
		return nil, fmt.Errorf("not a valid ELF file: %w", err)
	}
	if f.Class != elf.ELFCLASS64 {
		return nil, fmt.Errorf("ELF class %v: eBPF objects are 64-bit", f.Class)
	}
	if f.Machine != elf.EM_BPF && f.Machine != elf.EM_NONE {
		return nil, fmt.Errorf("e_machine %v: not an eBPF object", f.Machine)
	}
	info := &elfInfo{
		image:       append([]byte(nil), b...),
		order:       f.ByteOrder,
		secIndex:    map[string]int{},
		symValue:    map[string]uint64{},
		symSec:      map[string]string{},
		mapSec:      map[string]string{},
		mapOff:      map[string]uint64{},
		textName:    -1,
		btfTextName: -1,
	}
	if f.Machine == elf.EM_NONE && len(info.image) >= eMachineOff+2 {
		f.ByteOrder.PutUint16(info.image[eMachineOff:], uint16(elf.EM_BPF))
	}
	for i, s := range f.Sections {
		if err := checkBounds(s, uint64(len(b))); err != nil {
			return nil, fmt.Errorf("section %q: %w", s.Name, err)
		}
		// cilium/ebpf reads SHT_REL only and would silently drop the
		// relocations of an SHT_RELA section, leaving map loads and calls
		// unresolved: rewrite it as REL (rela.go).
		if s.Type == elf.SHT_RELA && int(s.Info) < len(f.Sections) && isProgSection(f.Sections[s.Info]) {
			if err := info.convertRELA(f, i, s, f.Sections[s.Info]); err != nil {
				return nil, err
			}
		}
		if _, dup := info.secIndex[s.Name]; !dup {
			info.secIndex[s.Name] = i
		}
	}
	info.findTextName(f, b)
	info.findBTFTextName(f, b)

	symtab := f.SectionByType(elf.SHT_SYMTAB)
	if symErr != nil || symtab == nil {
		// Leave the diagnosis to cilium/ebpf, which names the problem.
		return info, nil
	}
	type entry struct {
		raw int // index in the symbol table (f.Symbols skips entry 0)
		sym elf.Symbol
	}
	bySec := map[elf.SectionIndex][]entry{}
	for i, sym := range syms {
		if int(sym.Section) >= len(f.Sections) || sym.Section == elf.SHN_UNDEF {
			continue
		}
		sec := f.Sections[sym.Section]
		if !keepSymbol(sym, sec) {
			continue
		}
		bySec[sym.Section] = append(bySec[sym.Section], entry{i + 1, sym})
	}
	secs := make([]elf.SectionIndex, 0, len(bySec))
	for idx := range bySec {
		secs = append(secs, idx)
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	for _, idx := range secs {
		list, sec := bySec[idx], f.Sections[idx]
		sort.SliceStable(list, func(i, j int) bool { return list[i].sym.Value < list[j].sym.Value })
		for k, e := range list {
			if isProgSection(sec) {
				info.symValue[e.sym.Name] = e.sym.Value
				info.symSec[e.sym.Name] = sec.Name
				if sec.Name == ".text" {
					info.textFuncs = append(info.textFuncs, e.sym.Name)
				}
			} else {
				info.mapSec[e.sym.Name] = sec.Name
				info.mapOff[e.sym.Name] = e.sym.Value
				if isLegacyMapSection(sec) {
					info.legacyMaps = append(info.legacyMaps, e.sym.Name)
				}
			}
			if e.sym.Size != 0 || e.sym.Value >= sec.Size {
				continue
			}
			end := sec.Size
			for _, n := range list[k+1:] {
				if n.sym.Value > e.sym.Value {
					end = n.sym.Value
					break
				}
			}
			pos := symtab.Offset + uint64(e.raw)*symEntSize + symSizeField
			if symtab.Entsize == symEntSize && pos+8 <= uint64(len(info.image)) && pos+8 <= symtab.Offset+symtab.Size {
				f.ByteOrder.PutUint64(info.image[pos:], end-e.sym.Value)
			}
		}
	}
	return info, nil
}

// maxNobits bounds sections that take no room in the file (.bss): their
// size is only a header field, and the parser allocates it. The kernel
// caps a map value at KMALLOC_MAX_SIZE (a few MiB) anyway.
const maxNobits = 64 << 20

// checkBounds rejects a section whose contents lie outside the file.
// debug/elf does not check this, and the sizes of everything read later
// (functions, map definitions, data) derive from section sizes: a forged
// sh_size would otherwise make the parser allocate gigabytes.
func checkBounds(s *elf.Section, fileSize uint64) error {
	switch s.Type {
	case elf.SHT_NULL:
		return nil
	case elf.SHT_NOBITS:
		if s.Size > maxNobits {
			return fmt.Errorf("size %d exceeds the %d-byte limit for zero-filled sections", s.Size, maxNobits)
		}
		return nil
	}
	if s.Offset > fileSize || s.Size > fileSize-s.Offset {
		return fmt.Errorf("contents at %d+%d lie beyond the end of the file (%d bytes)", s.Offset, s.Size, fileSize)
	}
	return nil
}

// findTextName locates ".text\x00" in the section-name table, so that a
// second parse can present .text functions to cilium/ebpf as programs.
func (info *elfInfo) findTextName(f *elf.File, b []byte) {
	// debug/elf keeps neither e_shstrndx nor sh_name, so read them from
	// the raw headers: the section header of idx is at e_shoff +
	// idx*e_shentsize and starts with sh_name.
	idx, ok := info.secIndex[".text"]
	if !ok || len(b) < 64 {
		return
	}
	shstrndx := int(f.ByteOrder.Uint16(b[62:]))
	if shstrndx >= len(f.Sections) {
		return
	}
	strtab := f.Sections[shstrndx]
	shoff := f.ByteOrder.Uint64(b[40:])
	shentsize := uint64(f.ByteOrder.Uint16(b[58:]))
	pos := shoff + uint64(idx)*shentsize
	if shentsize < 64 || pos+4 > uint64(len(b)) || pos < shoff {
		return
	}
	name := uint64(f.ByteOrder.Uint32(b[pos:]))
	at := strtab.Offset + name
	if name >= strtab.Size || at+6 > uint64(len(b)) || string(b[at:at+6]) != ".text\x00" {
		return
	}
	info.textName = int64(at)
}

// findBTFTextName locates the string ".text" in the string table of the
// .BTF section (header: magic, version, flags, hdr_len, type_off,
// type_len, str_off, str_len).
func (info *elfInfo) findBTFTextName(f *elf.File, b []byte) {
	sec := f.Section(".BTF")
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size < 24 || sec.Offset+sec.Size > uint64(len(b)) {
		return
	}
	data := b[sec.Offset : sec.Offset+sec.Size]
	hdrLen := uint64(f.ByteOrder.Uint32(data[4:]))
	strOff := uint64(f.ByteOrder.Uint32(data[16:]))
	strLen := uint64(f.ByteOrder.Uint32(data[20:]))
	start := hdrLen + strOff
	if start > uint64(len(data)) || strLen > uint64(len(data))-start {
		return
	}
	strs := data[start : start+strLen]
	if i := bytes.Index(strs, []byte("\x00.text\x00")); i >= 0 {
		info.btfTextName = int64(sec.Offset + start + uint64(i) + 1)
	}
}

// textAsPrograms returns a copy of the repaired image in which the section
// ".text" is called "_text", in the section names and in the BTF strings
// that BTF.ext line info refers to: cilium/ebpf hides .text functions as
// library code, but PREVAIL's tests and old objects use them as programs
// of their own. The name has the same length, so nothing else moves.
func (info *elfInfo) textAsPrograms() []byte {
	img := append([]byte(nil), info.image...)
	img[info.textName] = '_'
	if info.btfTextName >= 0 {
		img[info.btfTextName] = '_'
	}
	return img
}

const renamedText = "_text"
