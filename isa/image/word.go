package image

import "github.com/nfpcc/nfpcc/isa"

// Field layout of the few instruction fields a loader patches (nfp-isa.md
// §1.1, §2.4, §2.5). The image package needs only these: it moves branch
// targets and immed values, it never interprets instructions otherwise.
const (
	insnMask = 1<<45 - 1            // instruction bits 44:0
	eccShift = 45                   // ECC bits 51:45
	eccMask  = uint64(0x7f) << 45   // the ECC field
	highMask = ^uint64(1<<52 - 1)   // bits 63:52, zero in a stored word
	brAddrLo = uint64(0x1fff) << 22 // branch target bits 12:0
	brAddrHi = uint64(1) << 40      // branch target bit 13

	immedAField = uint64(0x3ff)       // immed A operand, bits 9:0
	immedBField = uint64(0x3ff) << 10 // immed B operand, bits 19:10
	immedHi     = uint64(0xff) << 20  // immed value bits 15:8
	immedWidth  = uint64(3) << 29     // 0 = whole word
	immedInv    = uint64(1) << 31
	immedShift  = uint64(3) << 33
	uregImm     = 0x300 // an unrestricted operand with bits 9:8 set is a constant
)

// ECC returns the 7 ECC bits of a 45-bit instruction (isa.ECC).
func ECC(insn uint64) uint64 { return uint64(isa.ECC(insn & insnMask)) }

// WithECC returns the stored form of a 45-bit instruction: the instruction
// with its ECC bits at 51:45. Bits above 44 of insn are ignored.
func WithECC(insn uint64) uint64 { return uint64(isa.WithECC(insn)) }

// isBranch reports whether the word is an instruction with a 14-bit
// branch target field that a loader may patch.
func isBranch(w uint64) bool {
	switch isa.ClassOf(isa.Word(w)) {
	case isa.ClassBranch, isa.ClassBrBit, isa.ClassBrByte:
		return true
	}
	return false
}

// branchTarget returns a branch's 14-bit target address.
func branchTarget(w uint64) uint32 {
	return uint32(w&brAddrLo>>22) | uint32(w&brAddrHi>>40)<<13
}

// setBranchTarget replaces a branch's target address (t < MaxCode).
func setBranchTarget(w uint64, t uint32) uint64 {
	w &^= brAddrLo | brAddrHi
	return w | uint64(t&0x1fff)<<22 | uint64(t>>13&1)<<40
}

// isPlainImmed reports whether the word is an immed that loads a whole
// 32-bit word without inversion or shift: the only form whose 16-bit value
// the kernel's immed_add_value can adjust.
func isPlainImmed(w uint64) bool {
	return isa.ClassOf(isa.Word(w)) == isa.ClassImmed && w&(immedWidth|immedInv|immedShift) == 0
}

// immedValue returns the 16-bit value of a plain immed: the low byte is in
// whichever operand field holds a constant (A first), the high byte in 27:20.
func immedValue(w uint64) uint32 {
	lo := w & immedAField
	if lo&uregImm != uregImm {
		lo = w & immedBField >> 10
	}
	return uint32(lo&0xff) | uint32(w&immedHi>>20)<<8
}

// setImmedValue replaces the 16-bit value of a plain immed.
func setImmedValue(w uint64, v uint32) uint64 {
	if w&immedAField&uregImm == uregImm {
		w = w&^0xff | uint64(v&0xff)
	} else {
		w = w&^(0xff<<10) | uint64(v&0xff)<<10
	}
	return w&^immedHi | uint64(v>>8&0xff)<<20
}
