package isa

import "fmt"

// Mode is the context mode of a microengine: 8 contexts (the hardware
// default) or 4 contexts (every other context runs, each with twice the
// relative registers; eBPF offload always runs in this mode). The mode only
// changes how relative register fields are read: a 5-bit GPR number in
// 4-context mode, 4 bits in 8-context mode.
type Mode uint8

const (
	Ctx8 Mode = 8
	Ctx4 Mode = 4
)

// Bank is a general-purpose register bank. An instruction's A source field
// always addresses bank A and its B field bank B; a destination names its
// bank with a bit of its own, and BankBoth (gpr_wrboth) writes both.
type Bank uint8

const (
	BankA Bank = iota
	BankB
	BankBoth // destinations only: write the same value to A and B
)

func (b Bank) letter() byte {
	if b == BankB {
		return 'B'
	}
	return 'A'
}

// OperandKind says what an operand field designates.
type OperandKind uint8

const (
	// KNone is "--": no destination, or an unused source.
	KNone OperandKind = iota
	// KGPR is a context-relative general-purpose register gpr{A,B}_Num.
	KGPR
	// KAbsGPR is an absolute (per-ME) register @gpr{A,B}_Num, 0..127;
	// unrestricted fields only.
	KAbsGPR
	// KXfer is a relative transfer register $xfer_Num. As a source it is the
	// transfer-in (read) register, as a destination the transfer-out one.
	KXfer
	// KXferIndexed is *$index, optionally post-modified (Mod).
	KXferIndexed
	// KNN is a relative next-neighbour register n$reg_Num (unrestricted only).
	KNN
	// KNNIndexed is *n$index, optionally post-incremented.
	KNNIndexed
	// KLM is a local-memory access through pointer *l$indexIndex, either
	// with a word offset Off (OR-ed into the pointer) or post-modified.
	KLM
	// KImm is a constant Value.
	KImm
	// KInvalid is a field pattern the hardware does not define; Raw keeps it.
	KInvalid
)

// Mod is the post-modification of an indexed operand.
type Mod uint8

const (
	ModNone Mod = iota
	ModInc      // ++
	ModDec      // --
)

// Operand is a typed operand: what a compiler asks for and what an emulator
// reads. It is independent of the field it is encoded in; the constructors
// place it (and refuse what a field cannot hold), and Opnd10.Operand /
// Opnd8.Operand turn a raw field back into one.
type Operand struct {
	Kind  OperandKind
	Bank  Bank   // KGPR, KAbsGPR
	Num   int    // register number (KGPR, KAbsGPR, KXfer, KNN)
	Index int    // LM pointer 0..3 (KLM)
	Off   int    // LM word offset (KLM, Mod == ModNone)
	Mod   Mod    // KLM, KXferIndexed, KNNIndexed
	Value uint32 // KImm
	Raw   uint16 // KInvalid: the raw field
}

// Operand constructors.
var None = Operand{Kind: KNone}

func GPRA(n int) Operand           { return Operand{Kind: KGPR, Bank: BankA, Num: n} }
func GPRB(n int) Operand           { return Operand{Kind: KGPR, Bank: BankB, Num: n} }
func GPRBoth(n int) Operand        { return Operand{Kind: KGPR, Bank: BankBoth, Num: n} }
func AbsGPR(b Bank, n int) Operand { return Operand{Kind: KAbsGPR, Bank: b, Num: n} }
func Xfer(n int) Operand           { return Operand{Kind: KXfer, Num: n} }
func XferIndexed(m Mod) Operand    { return Operand{Kind: KXferIndexed, Mod: m} }
func NN(n int) Operand             { return Operand{Kind: KNN, Num: n} }
func NNIndexed(inc bool) Operand {
	if inc {
		return Operand{Kind: KNNIndexed, Mod: ModInc}
	}
	return Operand{Kind: KNNIndexed}
}
func LM(index, off int) Operand      { return Operand{Kind: KLM, Index: index, Off: off} }
func LMInc(index int) Operand        { return Operand{Kind: KLM, Index: index, Mod: ModInc} }
func LMDec(index int) Operand        { return Operand{Kind: KLM, Index: index, Mod: ModDec} }
func Imm(v uint32) Operand           { return Operand{Kind: KImm, Value: v} }
func (o Operand) IsReg() bool        { return o.Kind == KGPR || o.Kind == KAbsGPR }
func (o Operand) IsImm() bool        { return o.Kind == KImm }
func (o Operand) IsNone() bool       { return o.Kind == KNone }
func (o Operand) isBank(b Bank) bool { return o.IsReg() && o.Bank == b }

// String prints the operand in GNU objdump's syntax (bank letter A for
// BankBoth, as objdump shows the A half and adds ", gpr_wrboth").
func (o Operand) String() string {
	switch o.Kind {
	case KNone:
		return "--"
	case KGPR:
		return fmt.Sprintf("gpr%c_%d", o.Bank.letter(), o.Num)
	case KAbsGPR:
		return fmt.Sprintf("@gpr%c_%d", o.Bank.letter(), o.Num)
	case KXfer:
		return fmt.Sprintf("$xfer_%d", o.Num)
	case KXferIndexed:
		return "*$index" + o.Mod.suffix()
	case KNN:
		return fmt.Sprintf("n$reg_%d", o.Num)
	case KNNIndexed:
		return "*n$index" + o.Mod.suffix()
	case KLM:
		s := fmt.Sprintf("*l$index%d", o.Index)
		if o.Mod != ModNone {
			return s + o.Mod.suffix()
		}
		if o.Off != 0 {
			s += fmt.Sprintf("[%d]", o.Off)
		}
		return s
	case KImm:
		return fmt.Sprintf("0x%x", o.Value)
	}
	return fmt.Sprintf("<opnd:0x%x>", o.Raw)
}

func (m Mod) suffix() string {
	switch m {
	case ModInc:
		return "++"
	case ModDec:
		return "--"
	}
	return ""
}

// Opnd10 is a raw unrestricted (10-bit) operand field, as used by alu,
// immed, local_csr, jump/rtn and mul_step. Keeping the raw bits (rather than
// an Operand) is what makes Decode lossless: several bit patterns read as
// the same operand.
type Opnd10 uint16

// Opnd8 is a raw restricted (8-bit) operand field, as used by alu_shf,
// ld_field, br_bset/br_bclr, br=byte and memory commands.
type Opnd8 uint8

// Field encodings of "no destination" / "unused constant".
const (
	NoDst10 Opnd10 = 0x300
	NoDst8  Opnd8  = 0x20
)

// IsImm reports whether the field holds a constant (bits 9:8 = 11).
func (f Opnd10) IsImm() bool { return f>>8&3 == 3 }

// IsImm reports whether the field holds a constant (bit 5 set).
func (f Opnd8) IsImm() bool { return f>>5&1 == 1 }

// ImmValue is the 8-bit constant of an immediate field.
func (f Opnd10) ImmValue() uint32 { return uint32(f & 0xff) }

// ImmValue is the constant of an immediate restricted field; i8 is the
// instruction's imm8-MSB bit (0 for formats without one).
func (f Opnd8) ImmValue(i8 bool) uint32 {
	v := uint32(f>>6&3)<<5 | uint32(f&0x1f)
	if i8 {
		v |= 0x80
	}
	return v
}

func relNum(f uint16, m Mode) int {
	if m == Ctx8 {
		return int(f & 0xf)
	}
	return int(f & 0x1f)
}

func xferHi(m Mode) int {
	if m == Ctx8 {
		return 16
	}
	return 32
}

// Operand interprets an unrestricted field read from the given bank (the A
// field reads bank A, the B field bank B; swapped instructions swap them),
// with the instruction's LM-extension bit for that field.
func (f Opnd10) Operand(bank Bank, lmext bool, m Mode) Operand {
	u := uint16(f) & 0x3ff
	switch {
	case u>>7 == 1:
		return Operand{Kind: KAbsGPR, Bank: bank, Num: int(u & 0x7f)}
	case u>>6 == 0:
		return Operand{Kind: KGPR, Bank: bank, Num: relNum(u, m)}
	case u>>7 == 2:
		return Operand{Kind: KXferIndexed, Mod: modBits(u >> 1 & 3)}
	case u>>7 == 3:
		n := relNum(u, m)
		if u>>6&1 == 1 {
			n += xferHi(m)
		}
		return Operand{Kind: KXfer, Num: n}
	case u>>6 == 9:
		if u>>1&1 == 1 {
			return Operand{Kind: KNNIndexed, Mod: ModInc}
		}
		return Operand{Kind: KNNIndexed}
	case u>>6 == 0xa:
		return Operand{Kind: KNN, Num: relNum(u, m)}
	case u>>6 == 8:
		o := Operand{Kind: KLM, Index: int(u>>5&1) + 2*b2i(lmext)}
		if u>>4&1 == 1 {
			o.Mod = ModInc
			if u&1 == 1 {
				o.Mod = ModDec
			}
		} else {
			o.Off = int(u & 0xf)
		}
		return o
	case u>>8 == 3:
		return Operand{Kind: KImm, Value: uint32(u & 0xff)}
	}
	return Operand{Kind: KInvalid, Raw: u}
}

// Operand interprets a restricted field; i8 is the instruction's imm8-MSB bit.
func (f Opnd8) Operand(bank Bank, lmext, i8 bool, m Mode) Operand {
	u := uint16(f)
	switch {
	case u>>5 == 0:
		return Operand{Kind: KGPR, Bank: bank, Num: relNum(u, m)}
	case u>>5 == 4:
		return Operand{Kind: KXfer, Num: relNum(u, m)}
	case u>>5 == 6:
		return Operand{Kind: KXfer, Num: relNum(u, m) + xferHi(m)}
	case u>>4 == 4 && u&1 == 0:
		return Operand{Kind: KXferIndexed, Mod: modBits(u >> 1 & 3)}
	case u>>4 == 4:
		if u>>1&1 == 1 {
			return Operand{Kind: KNNIndexed, Mod: ModInc}
		}
		return Operand{Kind: KNNIndexed}
	case u>>4 == 5:
		return Operand{Kind: KLM, Index: int(u>>3&1) + 2*b2i(lmext), Off: int(u & 7)}
	default: // bit 5 set
		return Operand{Kind: KImm, Value: f.ImmValue(i8)}
	}
}

func modBits(b uint16) Mod {
	switch b {
	case 1:
		return ModInc
	case 2:
		return ModDec
	}
	return ModNone
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// encode10 places an operand in an unrestricted field (4-context numbering).
// It returns the field and whether the LM-extension bit is needed.
func encode10(o Operand) (Opnd10, bool, error) {
	switch o.Kind {
	case KNone:
		return NoDst10, false, nil
	case KGPR:
		if o.Num < 0 || o.Num > 31 {
			return 0, false, fmt.Errorf("relative GPR number %d out of range 0..31", o.Num)
		}
		return Opnd10(o.Num), false, nil
	case KAbsGPR:
		if o.Num < 0 || o.Num > 127 {
			return 0, false, fmt.Errorf("absolute GPR number %d out of range 0..127", o.Num)
		}
		return Opnd10(0x80 | o.Num), false, nil
	case KXfer:
		switch {
		case o.Num >= 0 && o.Num < 32:
			return Opnd10(0x180 | o.Num), false, nil
		case o.Num >= 32 && o.Num < 64:
			return Opnd10(0x1c0 | (o.Num - 32)), false, nil
		}
		return 0, false, fmt.Errorf("transfer register number %d out of range 0..63", o.Num)
	case KXferIndexed:
		return Opnd10(0x100 | uint16(modCode(o.Mod))<<1), false, nil
	case KNN:
		if o.Num < 0 || o.Num > 31 {
			return 0, false, fmt.Errorf("next-neighbour register number %d out of range 0..31", o.Num)
		}
		return Opnd10(0x280 | o.Num), false, nil
	case KNNIndexed:
		if o.Mod == ModDec {
			return 0, false, fmt.Errorf("*n$index has no -- form")
		}
		return Opnd10(0x240 | uint16(b2i(o.Mod == ModInc))<<1), false, nil
	case KLM:
		if o.Index < 0 || o.Index > 3 {
			return 0, false, fmt.Errorf("LM pointer %d out of range 0..3", o.Index)
		}
		f := Opnd10(0x200 | (o.Index&1)<<5)
		switch o.Mod {
		case ModInc:
			f |= 0x10
		case ModDec:
			f |= 0x11
		default:
			if o.Off < 0 || o.Off > 15 {
				return 0, false, fmt.Errorf("LM offset %d out of range 0..15", o.Off)
			}
			f |= Opnd10(o.Off)
		}
		return f, o.Index >= 2, nil
	case KImm:
		if o.Value > 0xff {
			return 0, false, fmt.Errorf("immediate 0x%x does not fit an unrestricted operand (max 0xff)", o.Value)
		}
		return Opnd10(0x300 | o.Value), false, nil
	}
	return 0, false, fmt.Errorf("operand %v cannot be encoded", o)
}

func modCode(m Mod) int {
	switch m {
	case ModInc:
		return 1
	case ModDec:
		return 2
	}
	return 0
}

// encode8 places an operand in a restricted field. hasI8 says whether the
// format has an imm8-MSB bit; the returned i8 must then be set.
func encode8(o Operand, hasI8 bool) (f Opnd8, lmext, i8 bool, err error) {
	switch o.Kind {
	case KNone:
		return NoDst8, false, false, nil
	case KGPR:
		if o.Num < 0 || o.Num > 31 {
			return 0, false, false, fmt.Errorf("relative GPR number %d out of range 0..31", o.Num)
		}
		return Opnd8(o.Num), false, false, nil
	case KAbsGPR:
		return 0, false, false, fmt.Errorf("absolute register %v needs an unrestricted operand", o)
	case KXfer:
		switch {
		case o.Num >= 0 && o.Num < 32:
			return Opnd8(0x80 | o.Num), false, false, nil
		case o.Num >= 32 && o.Num < 64:
			return Opnd8(0xc0 | (o.Num - 32)), false, false, nil
		}
		return 0, false, false, fmt.Errorf("transfer register number %d out of range 0..63", o.Num)
	case KXferIndexed:
		return Opnd8(0x40 | modCode(o.Mod)<<1), false, false, nil
	case KNN:
		return 0, false, false, fmt.Errorf("next-neighbour register %v needs an unrestricted operand", o)
	case KNNIndexed:
		if o.Mod == ModDec {
			return 0, false, false, fmt.Errorf("*n$index has no -- form")
		}
		return Opnd8(0x41 | b2i(o.Mod == ModInc)<<1), false, false, nil
	case KLM:
		if o.Index < 0 || o.Index > 3 {
			return 0, false, false, fmt.Errorf("LM pointer %d out of range 0..3", o.Index)
		}
		if o.Mod != ModNone {
			return 0, false, false, fmt.Errorf("%v: post-modified LM access needs an unrestricted operand", o)
		}
		if o.Off < 0 || o.Off > 7 {
			return 0, false, false, fmt.Errorf("LM offset %d out of range 0..7 in a restricted operand", o.Off)
		}
		return Opnd8(0x50 | (o.Index&1)<<3 | o.Off), o.Index >= 2, false, nil
	case KImm:
		max := uint32(0x7f)
		if hasI8 {
			max = 0xff
		}
		if o.Value > max {
			return 0, false, false, fmt.Errorf("immediate 0x%x does not fit a restricted operand (max 0x%x)", o.Value, max)
		}
		v := o.Value
		return Opnd8(0x20 | v&0x1f | (v&0x60)<<1), false, v&0x80 != 0, nil
	}
	return 0, false, false, fmt.Errorf("operand %v cannot be encoded", o)
}
