package nfp

// The emulator does not interpret isa.Instr directly: Load translates every
// instruction once into an op, a flat record whose fields are already in the
// form the hot loop needs (operand kinds resolved, shift amounts converted,
// branch targets classified, cycle-model class chosen). The loop then never
// looks at encodings or strings, which is what makes it fast.

// opKind is the executable class of an op.
type opKind uint8

const (
	kALU     opKind = iota + 1 // alu[dst, L, op, R]
	kShf                       // alu_shf / asr / byte_align: L op shift(R)
	kDblShf                    // dbl_shf: ((L<<32)|R) >> n
	kLdField                   // ld_field(_w_clr)
	kImmed                     // immed / immed_wN / immed_bN / nop
	kBr                        // br, b<cc>, br=ctx, br!=ctx
	kBrBit                     // br_bset / br_bclr
	kJump                      // jump[reg, imm] / rtn[reg]
	kMul                       // mul_step
	kCSRRd                     // local_csr_rd
	kCSRWr                     // local_csr_wr
	kCmd                       // memory command
	kCtxArb                    // ctx_arb
)

// operand kinds.
const (
	oNone  uint8 = iota // no operand / no destination
	oConst              // constant in val
	oReg                // register file entry idx (GPR, transfer, next-neighbour)
	oLM                 // *l$index<idx>[off]
	oLMInc              // *l$index<idx>++
	oLMDec              // *l$index<idx>--
)

// operand is a resolved source or destination.
type operand struct {
	kind uint8
	idx  uint8 // register file index (context.r) or LM pointer (0..3)
	off  uint8 // LM word offset (ORed into the pointer's word address)
	both uint8 // destination register also written (gpr_wrboth partner, else idx)
	val  uint32
}

// ALU operations (alu format op field; see nfp-isa.md §2.1).
const (
	aluB      = 0x00
	aluAdd    = 0x01
	aluNotB   = 0x04
	aluAdd16  = 0x05
	aluAnd    = 0x08
	aluAdd8   = 0x09
	aluNotAnd = 0x0c // ~L & R
	aluSubC   = 0x0d
	aluAndNot = 0x10 // L & ~R
	aluAddC   = 0x11
	aluOr     = 0x14
	aluSub    = 0x15
	aluXor    = 0x18
	aluBMinA  = 0x19
)

// shift-format operations (alu_shf op field; nfp-isa.md §2.2).
const (
	shfB = iota
	shfNotB
	shfAnd
	shfNotAnd
	shfAndNot
	shfOr
	shfAsr
	shfByteAlign
)

// shift controls.
const (
	scRot  = 0 // rotate right
	scShr  = 1 // logical shift right
	scShl  = 2 // shift left
	scDbl  = 3 // double shift right
	shfInd = 0xff
)

// immed widths.
const (
	immAll = iota
	immByte
	immWord
)

// mul_step types and steps (nfp-isa.md §2.9).
const (
	mulStart = iota
	mul24x8
	mul16x16
	mul32x32
)

const (
	mulStep1 = iota
	mulStep2
	mulStep3
	mulStep4
	mulLast
	mulLast2
)

// exit kinds of a branch target: where the firmware takes over.
const (
	exitNone   uint8 = iota
	exitOut          // RELO_BR_GO_OUT: to the outro (tgt_out)
	exitAbort        // RELO_BR_GO_ABORT: to tgt_abort
	exitDone         // RELO_BR_NEXT_PKT: back to the firmware, result in A0
	exitHelper       // RELO_BR_HELPER: firmware helper call (helper id in aux)
)

// model classes: how the published cycle model charges an op
// (cycle-model.md; see cycles.go).
const (
	mcOne       uint8 = iota // 1 cycle, not a condition-code writer
	mcOneCC                  // 1 cycle, writes condition codes (for the branch rule)
	mcCondBr                 // conditional branch
	mcUncondBr               // unconditional branch / jump
	mcMemSwap                // command with ctx_swap
	mcMemNoSwap              // command without ctx_swap
)

// op flags.
const (
	fWrBoth   uint16 = 1 << iota // write both banks
	fNoCC                        // do not update condition codes
	fLoadCC                      // ld_field: update condition codes
	fClear                       // ld_field_w_clr / immed byte fill
	fInv                         // immed invert
	fWide                        // command: 40-bit address mode
	fIndirect                    // command: indirect_ref
	fSwap                        // command: ctx_swap (blocking)
	fTaken                       // br_bit: branch when bit set
	fSwapped                     // operands swapped: L came from the B field
)

// op is one pre-decoded instruction.
type op struct {
	kind   opKind
	sub    uint8  // alu op, shf op, branch condition, mul type, command index
	sc     uint8  // shift control / mul step / ctx-swap defer count
	shift  uint8  // shift amount (shfInd = indirect) / immed byte shift / ld_field mask
	flags  uint16 // f* flags
	defer_ uint8  // branch defer slots
	exit   uint8  // exit kind of the branch target
	mclass uint8  // cycle-model class
	xfer   uint8  // command: first transfer register
	mask   uint8  // ld_field byte mask
	a, b   operand
	dst    operand
	imm    uint32  // immed value / jump immediate / command count / csr address / branch target
	target uint32  // branch target (code index)
	dram   float64 // DRAM engine cycles of the published model
	xdram  float64 // DRAM engine cycles it leaves out (atomics other than add_imm)
	aux    uint32  // helper id, ctx number for br=ctx
}
