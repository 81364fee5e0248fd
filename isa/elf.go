package isa

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"
)

// NFP ELF constants (include/elf/nfp.h).
const (
	EMNFP          = 250    // official e_machine
	EMNFPMach6000  = 0x6000 // unofficial e_machine of NFP-6xxx firmware
	EMNFPMach3200  = 0x3200 // NFP-32xx (ME 2.7): not supported
	shtNFPInitReg  = 0x70000002
	shfNFPInit     = 0x80000000
	shfNFPInit2    = 0x40000000
	csrCtxEnables  = 0x18
	csrMiscControl = 0x160
)

// CodeSection is one microengine code section of an NFP ELF file, with the
// ME configuration that changes how GNU objdump prints it.
type CodeSection struct {
	Name   string
	Island int // from sh_info
	ME     int
	Init   bool // an init-code section (SHF_NFP_INIT): uses the init ME configuration
	Words  []Word
	// Opts holds the context mode and 3rd-party addressing found in the
	// file's ME CSR init sections (8-context mode if none).
	Opts Options
	// SCS is set when MiscControl enables shared code stores: objdump then
	// numbers instructions 2*i (+1 on odd MEs).
	SCS bool
	// Labels are the symbols objdump prints as "<name>:" lines, by word
	// index, one per address (objdump's preferred symbol).
	Labels []Label
}

// Label is a symbol naming a word of a code section.
type Label struct {
	Word int
	Name string
}

type meCfg struct {
	ctx4, thirdParty32, scs bool
}

// ReadCodeSections reads every executable section of an NFP ELF image in
// section-header order, as `objdump -d` does, with the ME configuration
// recorded in its ME-CSR init-register sections.
func ReadCodeSections(r io.ReaderAt) ([]CodeSection, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("reading ELF: %w", err)
	}
	defer f.Close()
	var hdr [52]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("reading ELF header: %w", err)
	}
	mach := binary.LittleEndian.Uint32(hdr[48:]) >> 8 & 0xffff // EF_NFP_MACH(e_flags)
	switch {
	case f.Machine == EMNFPMach6000:
	case f.Machine == EMNFP && (mach == EMNFPMach6000 || mach == 0):
	case f.Machine == EMNFPMach3200 || f.Machine == EMNFP && mach == EMNFPMach3200:
		return nil, fmt.Errorf("NFP-32xx (ME 2.7) images are not supported")
	default:
		return nil, fmt.Errorf("not an NFP ELF file (e_machine %d)", f.Machine)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("NFP ELF must be 64-bit little-endian")
	}
	cfg, err := readMECfg(f)
	if err != nil {
		return nil, err
	}
	syms, _ := f.Symbols() // a file without .symtab has no labels
	var out []CodeSection
	for idx, s := range f.Sections {
		if s.Flags&elf.SHF_EXECINSTR == 0 || s.Type == elf.SHT_NOBITS {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("section %d (%s): %w", idx, s.Name, err)
		}
		if len(data)%8 != 0 {
			return nil, fmt.Errorf("section %d (%s): size %d is not a multiple of 8", idx, s.Name, len(data))
		}
		domain := s.Info >> 16
		cs := CodeSection{
			Name:   s.Name,
			Island: int(domain >> 8 & 0xff),
			ME:     int(domain & 0xff),
			Init:   uint64(s.Flags)&(shfNFPInit|shfNFPInit2) != 0,
			Words:  make([]Word, len(data)/8),
		}
		for i := range cs.Words {
			cs.Words[i] = Word(binary.LittleEndian.Uint64(data[8*i:]))
		}
		if cs.Island < 64 && cs.ME < 12 {
			c := cfg[cs.Island][cs.ME][b2i(!cs.Init)]
			cs.Opts = Options{Mode: Ctx8, ThirdParty32: c.thirdParty32}
			if c.ctx4 {
				cs.Opts.Mode = Ctx4
			}
			cs.SCS = c.scs
		} else {
			return nil, fmt.Errorf("section %d (%s): invalid island %d or ME %d", idx, s.Name, cs.Island, cs.ME)
		}
		cs.Labels = labels(syms, idx, len(data))
		out = append(out, cs)
	}
	return out, nil
}

// labels picks, per address of section idx, the symbol objdump prints:
// defined, named, not a section or file symbol; among several at one
// address functions before objects, globals before locals, names not
// starting with '.' first, then by name.
func labels(syms []elf.Symbol, idx, size int) []Label {
	var c []elf.Symbol
	for _, s := range syms {
		t := elf.ST_TYPE(s.Info)
		if int(s.Section) != idx || s.Name == "" || t == elf.STT_SECTION || t == elf.STT_FILE ||
			s.Value%8 != 0 || s.Value >= uint64(size) {
			continue
		}
		c = append(c, s)
	}
	// rank orders symbols at one address as objdump's compare_symbols:
	// file-like names last, then functions, objects, others; then globals
	// before locals.
	rank := func(s elf.Symbol) int {
		r := 0
		if strings.HasSuffix(s.Name, ".o") || strings.HasSuffix(s.Name, ".a") {
			r += 100
		}
		switch elf.ST_TYPE(s.Info) {
		case elf.STT_FUNC:
		case elf.STT_OBJECT:
			r += 10
		default:
			r += 20
		}
		if elf.ST_BIND(s.Info) == elf.STB_LOCAL {
			r++
		}
		return r
	}
	sort.SliceStable(c, func(i, j int) bool {
		a, b := c[i], c[j]
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if da, db := strings.HasPrefix(a.Name, "."), strings.HasPrefix(b.Name, "."); da != db {
			return db
		}
		return a.Name < b.Name
	})
	var out []Label
	for i, s := range c {
		if i > 0 && c[i-1].Value == s.Value {
			continue
		}
		out = append(out, Label{Word: int(s.Value / 8), Name: s.Name})
	}
	return out
}

// readMECfg collects CtxEnables and MiscControl values from the ME-CSR
// init-register sections: per island the highest-order section wins
// (init2 sections rank above plain init ones), separately for init code
// and for runtime text.
func readMECfg(f *elf.File) (*[64][12][2]meCfg, error) {
	var cfg [64][12][2]meCfg
	var order [64][2]int
	for i := range order {
		order[i] = [2]int{-1, -1}
	}
	for idx, s := range f.Sections {
		info := s.Info
		so := int(info & 0xff)
		forText := uint64(s.Flags)&(shfNFPInit|shfNFPInit2) == 0
		if uint64(s.Flags)&shfNFPInit2 != 0 {
			so += 0x100
		}
		if uint32(s.Type) != shtNFPInitReg {
			continue
		}
		// CPP target CT/XPB, read action 2 token 1, write action 3 token 1.
		if info>>22&0xf != 14 || info>>17&0x1f != 2 || info>>15&3 != 1 || info>>10&0x1f != 3 || info>>8&3 != 1 {
			continue
		}
		isl := int(info >> 26 & 0x3f)
		t := b2i(forText)
		if so < order[isl][t] {
			continue
		}
		order[isl][t] = so
		if s.Entsize != 16 {
			return nil, fmt.Errorf("section %d (%s): init-register entries of %d bytes, want 16", idx, s.Name, s.Entsize)
		}
		data, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("section %d (%s): %w", idx, s.Name, err)
		}
		for off := 0; off+16 <= len(data); off += 16 {
			w0 := binary.LittleEndian.Uint32(data[off:])
			lo := binary.LittleEndian.Uint32(data[off+4:])
			val := binary.LittleEndian.Uint32(data[off+8:])
			if w0>>31 == 1 {
				continue
			}
			if vtp := w0 >> 25 & 7; vtp != 0 && vtp != 1 {
				continue
			}
			me := int(lo>>10&0xf) - 4
			if me < 0 || me >= 12 {
				return nil, fmt.Errorf("section %d (%s): entry at 0x%x names ME %d", idx, s.Name, off, me)
			}
			c := &cfg[isl][me][t]
			switch lo & 0x3ff {
			case csrCtxEnables:
				c.ctx4 = val>>31&1 == 1
			case csrMiscControl:
				c.thirdParty32 = val>>4&1 == 1
				c.scs = val>>2&1 == 1
			}
		}
	}
	return &cfg, nil
}
