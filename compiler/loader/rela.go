package loader

import (
	"debug/elf"
	"fmt"
)

// RELA relocations. cilium/ebpf reads SHT_REL sections only: the addend
// of an eBPF relocation is implicit, in the instruction's immediate, as
// clang writes it. Some toolchains write SHT_RELA (explicit addends, the
// immediate ignored); convertRELA rewrites such a section, in the private
// copy, as the SHT_REL section clang would have written: each addend goes
// into its instruction, in the form libbpf reads it, and the table shrinks
// to 16-byte entries in place.
//
//	R_BPF_64_64 (LD_IMM64 of a map or data):  imm = A  (byte offset into the symbol)
//	R_BPF_64_32 (BPF-to-BPF call):            imm = A/8 - 1  (libbpf: target = S/8 + imm + 1)
const (
	relaSize     = 24 // sizeof(Elf64_Rela)
	relSize      = 16 // sizeof(Elf64_Rel)
	rBPF64_64    = 1
	rBPF64_32    = 10
	rBPFNone     = 0
	opLdImm64    = 0x18
	opCall       = 0x85
	shTypeOff    = 4  // sh_type in Elf64_Shdr
	shSizeOff    = 32 // sh_size
	shEntsizeOff = 56 // sh_entsize
)

// convertRELA rewrites the RELA section idx (s), which relocates program
// section target, as SHT_REL. Errors name the section and the entry's
// byte offset in it.
func (info *elfInfo) convertRELA(f *elf.File, idx int, s, target *elf.Section) error {
	img, bo := info.image, f.ByteOrder
	if s.Entsize != 0 && s.Entsize != relaSize {
		return fmt.Errorf("section %q: entry size %d, want %d (Elf64_Rela)", s.Name, s.Entsize, relaSize)
	}
	if s.Size%relaSize != 0 {
		return fmt.Errorf("section %q: size %d is not a multiple of %d (Elf64_Rela)", s.Name, s.Size, relaSize)
	}
	shoff := bo.Uint64(img[40:])
	shentsize := uint64(bo.Uint16(img[58:]))
	hdr := shoff + uint64(idx)*shentsize
	if shentsize < 64 || hdr+64 > uint64(len(img)) {
		return fmt.Errorf("section %q: header at %d lies beyond the end of the file", s.Name, hdr)
	}
	n := s.Size / relaSize
	for k := uint64(0); k < n; k++ {
		at := s.Offset + k*relaSize
		off, rinfo, addend := bo.Uint64(img[at:]), bo.Uint64(img[at+8:]), int64(bo.Uint64(img[at+16:]))
		where := fmt.Sprintf("section %q: relocation at offset %d (of %s+%#x)", s.Name, k*relaSize, target.Name, off)
		if off%8 != 0 || off+8 > target.Size {
			return fmt.Errorf("%s: not an instruction of the section (%d bytes)", where, target.Size)
		}
		insn := target.Offset + off
		imm := insn + 4
		switch typ := uint32(rinfo); typ {
		case rBPF64_64:
			if img[insn] != opLdImm64 {
				return fmt.Errorf("%s: R_BPF_64_64 on opcode %#02x, want LD_IMM64", where, img[insn])
			}
			if addend != int64(int32(addend)) {
				return fmt.Errorf("%s: addend %d does not fit an immediate", where, addend)
			}
			bo.PutUint32(img[imm:], uint32(int32(addend)))
		case rBPF64_32:
			if img[insn] != opCall {
				return fmt.Errorf("%s: R_BPF_64_32 on opcode %#02x, want a call", where, img[insn])
			}
			if addend%8 != 0 || addend/8-1 != int64(int32(addend/8-1)) {
				return fmt.Errorf("%s: call addend %d is not an instruction offset", where, addend)
			}
			bo.PutUint32(img[imm:], uint32(int32(addend/8-1)))
		case rBPFNone:
		default:
			return fmt.Errorf("%s: relocation type %d is not supported in code (R_BPF_64_64 and R_BPF_64_32 are)", where, typ)
		}
		// Elf64_Rel{r_offset, r_info} at entry k of the shrunk table: it
		// never overtakes the Rela entries still to be read.
		out := s.Offset + k*relSize
		bo.PutUint64(img[out:], off)
		bo.PutUint64(img[out+8:], rinfo)
	}
	bo.PutUint32(img[hdr+shTypeOff:], uint32(elf.SHT_REL))
	bo.PutUint64(img[hdr+shSizeOff:], n*relSize)
	bo.PutUint64(img[hdr+shEntsizeOff:], relSize)
	return nil
}
