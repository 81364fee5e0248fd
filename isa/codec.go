package isa

import (
	"fmt"
	"math/bits"
)

// Word is one 64-bit code-store word: the instruction in bits 44:0 and its
// ECC in bits 51:45 (nfp-isa.md §1.1). Images store it little-endian.
type Word uint64

// InstrMask covers the 45 instruction bits of a Word.
const InstrMask = 1<<45 - 1

// eccPoly are the seven parity masks of the code-store ECC: check bit i is
// the parity of insn & eccPoly[i] (Linux nfp_ustore_ecc_polynomials).
var eccPoly = [7]uint64{
	0x0ff800007fff, 0x11f801ff801f, 0x1e387e0781e1, 0x17cb8e388e22,
	0x1af5b2c93244, 0x1f56d5525488, 0x0daf69a46910,
}

// ECC computes the 7 check bits of a 45-bit instruction.
func ECC(insn uint64) uint8 {
	var e uint8
	for i, p := range eccPoly {
		e |= uint8(bits.OnesCount64(insn&p)&1) << i
	}
	return e
}

// WithECC returns the instruction bits with their ECC in bits 51:45.
func WithECC(insn uint64) Word {
	insn &= InstrMask
	return Word(insn | uint64(ECC(insn))<<45)
}

// CheckECC reports whether a word's ECC bits are right and nothing above
// bit 51 is set.
func CheckECC(w Word) error {
	if w>>52 != 0 {
		return fmt.Errorf("word 0x%016x: bits 63:52 must be zero", uint64(w))
	}
	want := ECC(uint64(w) & InstrMask)
	if got := uint8(w >> 45); got != want {
		return fmt.Errorf("word 0x%016x: ECC 0x%02x, want 0x%02x", uint64(w), got, want)
	}
	return nil
}

// bf extracts width bits at lo.
func bf(w uint64, lo, width uint) uint64 { return w >> lo & (1<<width - 1) }
func bt(w uint64, b uint) bool           { return w>>b&1 == 1 }

// Decode splits a word into its format's fields. It never fails and never
// panics: a word that matches no format is an InvalidInstr. ECC bits are
// ignored (check them with CheckECC); for every word whose ECC is right,
// Encode(Decode(w)) == w.
func Decode(w Word) Instr {
	x := uint64(w) & InstrMask
	fl := Flags(bf(x, 40, 5))
	switch ClassOf(w) {
	case ClassCmd:
		return CmdInstr{
			A: Opnd8(bf(x, 0, 8)), Ctx: CtxSwap(bf(x, 8, 2)), B: Opnd8(bf(x, 10, 8)),
			Token: uint8(bf(x, 18, 2)), Xfer: uint8(bf(x, 20, 5) | bf(x, 40, 1)<<5),
			Cnt: uint8(bf(x, 25, 3)), Sig: uint8(bf(x, 28, 4)), TgtCmd: uint8(bf(x, 32, 7)),
			Indirect: bt(x, 41), Mode: AddrMode(bf(x, 42, 3)),
		}
	case ClassShf:
		return ShfInstr{
			A: Opnd8(bf(x, 0, 8)), SC: ShiftCtl(bf(x, 8, 2)), B: Opnd8(bf(x, 10, 8)),
			I8: bt(x, 18), Swap: bt(x, 19), Dst: Opnd8(bf(x, 20, 8)), Shift: uint8(bf(x, 28, 5)),
			Op: ShfOp(bf(x, 33, 3)), DstB: bt(x, 36), Flags: fl,
		}
	case ClassALU:
		return ALUInstr{
			A: Opnd10(bf(x, 0, 10)), B: Opnd10(bf(x, 10, 10)), Dst: Opnd10(bf(x, 20, 10)),
			Swap: bt(x, 30), Op: ALUOp(bf(x, 31, 5)), DstB: bt(x, 36), Flags: fl,
		}
	case ClassImmed:
		return ImmedInstr{
			A: Opnd10(bf(x, 0, 10)), B: Opnd10(bf(x, 10, 10)), ImmHi: uint8(bf(x, 20, 8)),
			Rsvd28: bt(x, 28), Width: ImmWidth(bf(x, 29, 2)), Inv: bt(x, 31),
			Shift: uint8(bf(x, 33, 2)), Flags: fl,
		}
	case ClassLdField:
		return LdFieldInstr{
			A: Opnd8(bf(x, 0, 8)), SC: ShiftCtl(bf(x, 8, 2)), B: Opnd8(bf(x, 10, 8)),
			I8: bt(x, 18), Swap: bt(x, 19), Clear: bt(x, 20), Mask: uint8(bf(x, 24, 4)),
			Shift: uint8(bf(x, 28, 5)), LoadCC: bt(x, 34), Flags: fl,
		}
	case ClassCtxArb:
		return CtxArbInstr{
			Sigs: uint16(bf(x, 0, 16)), Any: bt(x, 16), Bpt: bt(x, 17), Resume: bt(x, 18),
			NoLoad: bt(x, 19), Defer: uint8(bf(x, 20, 2)), Addr: brAddr(x), Flags: fl &^ FlagNoCC,
		}
	case ClassLocalCSR:
		return CSRInstr{
			A: Opnd10(bf(x, 0, 10)), B: Opnd10(bf(x, 10, 10)), Write: bt(x, 21),
			CSR: uint16(bf(x, 22, 11)), Flags: fl,
		}
	case ClassBranch:
		return BranchInstr{
			Cond: Cond(bf(x, 0, 5)), EvPip: uint8(bf(x, 8, 2)), CSS: uint8(bf(x, 14, 4)),
			Defer: uint8(bf(x, 20, 2)), Addr: brAddr(x), Flags: fl &^ FlagNoCC,
		}
	case ClassBrByte:
		return BrByteInstr{
			A: Opnd8(bf(x, 0, 8)), Byte: uint8(bf(x, 8, 2)), B: Opnd8(bf(x, 10, 8)),
			I8: bt(x, 18), Eq: bt(x, 19), Defer: uint8(bf(x, 20, 2)), Addr: brAddr(x),
			Flags: fl &^ FlagNoCC,
		}
	case ClassBrBit:
		return BrBitInstr{
			A: Opnd8(bf(x, 0, 8)), B: Opnd8(bf(x, 10, 8)), Set: bt(x, 18),
			Defer: uint8(bf(x, 20, 2)), Addr: brAddr(x), Flags: fl &^ FlagNoCC,
		}
	case ClassJump:
		return JumpInstr{
			A: Opnd10(bf(x, 0, 10)), B: Opnd10(bf(x, 10, 10)), Defer: uint8(bf(x, 20, 2)),
			ImmHi: uint16(bf(x, 22, 9)), Flags: fl,
		}
	case ClassMul:
		return MulInstr{
			A: Opnd10(bf(x, 0, 10)), B: Opnd10(bf(x, 10, 10)), Step: MulStep(bf(x, 20, 3)),
			DstB: bt(x, 23), Swap: bt(x, 30), Type: MulType(bf(x, 31, 2)), Flags: fl,
		}
	}
	return InvalidInstr{Bits: x}
}

func brAddr(x uint64) uint16 { return uint16(bf(x, 22, 13) | bf(x, 40, 1)<<13) }

// Encode packs an instruction into a word with ECC. It refuses an
// instruction whose constructor found an error, a field value too wide for
// its field, and a field combination that would decode as another format.
func Encode(in Instr) (Word, error) {
	if in == nil {
		return 0, fmt.Errorf("isa: Encode of a nil instruction")
	}
	if err := in.Err(); err != nil {
		return 0, fmt.Errorf("isa: %s: %w", in.Class(), err)
	}
	x, err := in.bits()
	if err != nil {
		return 0, fmt.Errorf("isa: %s: %w", in.Class(), err)
	}
	if c := ClassOf(Word(x)); c != in.Class() {
		return 0, fmt.Errorf("isa: %s: fields encode a word that decodes as %s", in.Class(), c)
	}
	return WithECC(x), nil
}

// MustEncode is Encode for instructions known to be valid (tests, tables);
// it panics with a BUG message otherwise.
func MustEncode(in Instr) Word {
	w, err := Encode(in)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return w
}

// packer accumulates fields and remembers the first out-of-range one.
type packer struct {
	x   uint64
	err error
}

func (p *packer) put(name string, v uint64, lo, width uint) {
	if v >= 1<<width && p.err == nil {
		p.err = fmt.Errorf("%s = %d does not fit %d bits", name, v, width)
	}
	p.x |= (v & (1<<width - 1)) << lo
}

func (p *packer) flag(b bool, at uint) {
	if b {
		p.x |= 1 << at
	}
}

func (p *packer) flags(f Flags, allowNoCC bool) {
	if f&FlagNoCC != 0 && !allowNoCC && p.err == nil {
		p.err = fmt.Errorf("this format has no no_cc bit")
	}
	if f >= 1<<5 && p.err == nil {
		p.err = fmt.Errorf("flags 0x%x out of range", uint8(f))
	}
	p.x |= uint64(f&0x1f) << 40
}

func (p *packer) addr(a uint16, defer_ uint8) {
	if a >= 1<<14 && p.err == nil {
		p.err = fmt.Errorf("branch target %d out of range 0..16383", a)
	}
	p.x |= uint64(a&0x1fff)<<22 | uint64(a>>13&1)<<40
	p.put("defer", uint64(defer_), 20, 2)
}

func (i CmdInstr) bits() (uint64, error) {
	p := packer{}
	p.put("A", uint64(i.A), 0, 8)
	p.put("ctx", uint64(i.Ctx), 8, 2)
	p.put("B", uint64(i.B), 10, 8)
	p.put("token", uint64(i.Token), 18, 2)
	if i.Xfer >= 64 && p.err == nil {
		p.err = fmt.Errorf("xfer %d out of range 0..63", i.Xfer)
	}
	p.x |= uint64(i.Xfer&0x1f)<<20 | uint64(i.Xfer>>5&1)<<40
	p.put("cnt", uint64(i.Cnt), 25, 3)
	p.put("sig", uint64(i.Sig), 28, 4)
	p.put("tgt_cmd", uint64(i.TgtCmd), 32, 7)
	p.flag(i.Indirect, 41)
	p.put("mode", uint64(i.Mode), 42, 3)
	return p.x, p.err
}

func (i ShfInstr) bits() (uint64, error) {
	p := packer{x: 0x008000000000}
	p.put("A", uint64(i.A), 0, 8)
	p.put("sc", uint64(i.SC), 8, 2)
	p.put("B", uint64(i.B), 10, 8)
	p.flag(i.I8, 18)
	p.flag(i.Swap, 19)
	p.put("dst", uint64(i.Dst), 20, 8)
	p.put("shift", uint64(i.Shift), 28, 5)
	p.put("op", uint64(i.Op), 33, 3)
	p.flag(i.DstB, 36)
	p.flags(i.Flags, true)
	return p.x, p.err
}

func (i ALUInstr) bits() (uint64, error) {
	p := packer{x: 0x00a000000000}
	p.put("A", uint64(i.A), 0, 10)
	p.put("B", uint64(i.B), 10, 10)
	p.put("dst", uint64(i.Dst), 20, 10)
	p.flag(i.Swap, 30)
	p.put("op", uint64(i.Op), 31, 5)
	p.flag(i.DstB, 36)
	p.flags(i.Flags, true)
	return p.x, p.err
}

func (i ImmedInstr) bits() (uint64, error) {
	p := packer{x: 0x00f000000000}
	p.put("A", uint64(i.A), 0, 10)
	p.put("B", uint64(i.B), 10, 10)
	p.put("imm", uint64(i.ImmHi), 20, 8)
	p.flag(i.Rsvd28, 28)
	p.put("width", uint64(i.Width), 29, 2)
	p.flag(i.Inv, 31)
	p.put("shift", uint64(i.Shift), 33, 2)
	p.flags(i.Flags, false)
	return p.x, p.err
}

func (i LdFieldInstr) bits() (uint64, error) {
	p := packer{x: 0x00c000000000}
	p.put("A", uint64(i.A), 0, 8)
	p.put("sc", uint64(i.SC), 8, 2)
	p.put("B", uint64(i.B), 10, 8)
	p.flag(i.I8, 18)
	p.flag(i.Swap, 19)
	p.flag(i.Clear, 20)
	p.put("byte mask", uint64(i.Mask), 24, 4)
	p.put("shift", uint64(i.Shift), 28, 5)
	p.flag(i.LoadCC, 34)
	p.flags(i.Flags, false)
	return p.x, p.err
}

func (i CtxArbInstr) bits() (uint64, error) {
	p := packer{x: 0x00e000000000}
	p.x |= uint64(i.Sigs)
	p.flag(i.Any, 16)
	p.flag(i.Bpt, 17)
	p.flag(i.Resume, 18)
	p.flag(i.NoLoad, 19)
	p.addr(i.Addr, i.Defer)
	p.flags(i.Flags, false)
	return p.x, p.err
}

func (i CSRInstr) bits() (uint64, error) {
	p := packer{x: 0x00fc00000000}
	p.put("A", uint64(i.A), 0, 10)
	p.put("B", uint64(i.B), 10, 10)
	p.flag(i.Write, 21)
	p.put("csr", uint64(i.CSR), 22, 11)
	p.flags(i.Flags, false)
	return p.x, p.err
}

func (i BranchInstr) bits() (uint64, error) {
	p := packer{x: 0x00d800000020}
	p.put("cond", uint64(i.Cond), 0, 5)
	p.put("ev_pip", uint64(i.EvPip), 8, 2)
	p.put("css", uint64(i.CSS), 14, 4)
	p.addr(i.Addr, i.Defer)
	p.flags(i.Flags, false)
	return p.x, p.err
}

func (i BrByteInstr) bits() (uint64, error) {
	p := packer{x: 0x00c800000000}
	p.put("A", uint64(i.A), 0, 8)
	p.put("byte", uint64(i.Byte), 8, 2)
	p.put("B", uint64(i.B), 10, 8)
	p.flag(i.I8, 18)
	p.flag(i.Eq, 19)
	p.addr(i.Addr, i.Defer)
	p.flags(i.Flags, false)
	return p.x, p.err
}

func (i BrBitInstr) bits() (uint64, error) {
	p := packer{x: 0x00d000000000}
	p.put("A", uint64(i.A), 0, 8)
	p.put("B", uint64(i.B), 10, 8)
	p.flag(i.Set, 18)
	p.addr(i.Addr, i.Defer)
	p.flags(i.Flags, false)
	return p.x, p.err
}

func (i JumpInstr) bits() (uint64, error) {
	p := packer{x: 0x00e800000000}
	p.put("A", uint64(i.A), 0, 10)
	p.put("B", uint64(i.B), 10, 10)
	p.put("defer", uint64(i.Defer), 20, 2)
	p.put("immediate bits 16:8", uint64(i.ImmHi), 22, 9)
	p.flags(i.Flags, true)
	return p.x, p.err
}

func (i MulInstr) bits() (uint64, error) {
	p := packer{x: 0x00f800000000}
	p.put("A", uint64(i.A), 0, 10)
	p.put("B", uint64(i.B), 10, 10)
	p.put("step", uint64(i.Step), 20, 3)
	p.flag(i.DstB, 23)
	p.flag(i.Swap, 30)
	p.put("type", uint64(i.Type), 31, 2)
	p.flags(i.Flags, true)
	return p.x, p.err
}

func (i InvalidInstr) bits() (uint64, error) {
	if i.Bits > InstrMask {
		return 0, fmt.Errorf("0x%x has bits above bit 44", i.Bits)
	}
	return i.Bits, nil
}
