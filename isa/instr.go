package isa

import "fmt"

// Class is an instruction format, as told apart by the fixed bits of the
// word (nfp-isa.md §2.0; tested in the order of the constants below).
type Class uint8

const (
	ClassInvalid  Class = iota
	ClassCmd            // memory / bus command (bit 39 = 0)
	ClassShf            // alu_shf, dbl_shf, asr, byte_align
	ClassALU            // alu and its special ops (pop_count, ffs, cam_*, crc)
	ClassImmed          // immed, immed_w0/w1, immed_b0..b3, nop
	ClassLdField        // ld_field, ld_field_w_clr
	ClassCtxArb         // ctx_arb
	ClassLocalCSR       // local_csr_rd, local_csr_wr
	ClassBranch         // beq … br, br=ctx, br_signal, br_inp_state, …
	ClassBrByte         // br=byte, br!=byte
	ClassBrBit          // br_bset, br_bclr
	ClassJump           // jump, rtn (register branch)
	ClassMul            // mul_step
)

var classNames = [...]string{"invalid", "cmd", "alu_shf", "alu", "immed", "ld_field", "ctx_arb", "local_csr", "branch", "br_byte", "br_bit", "jump", "mul_step"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", c)
}

// classTest is one row of the ME 2.8 class decode: word&mask == value.
type classTest struct {
	class       Class
	mask, value uint64
}

// classTable is the decode order of GNU's ME 2.8 disassembler; the first
// match wins (so e.g. an ld_field pattern that fails its own test falls
// through to the branch tests).
var classTable = []classTest{
	{ClassCmd, 0x008000000000, 0x000000000000},
	{ClassShf, 0x00e000000000, 0x008000000000},
	{ClassALU, 0x00e000000000, 0x00a000000000},
	{ClassImmed, 0x01f900000000, 0x00f000000000},
	{ClassLdField, 0x01fa00e00000, 0x00c000000000},
	{ClassCtxArb, 0x00f800000000, 0x00e000000000},
	{ClassLocalCSR, 0x01fe00100000, 0x00fc00000000},
	{ClassBranch, 0x00f8000c3ce0, 0x00d800000020},
	{ClassBrByte, 0x00f800000000, 0x00c800000000},
	{ClassBrBit, 0x00f800080300, 0x00d000000000},
	{ClassJump, 0x00ff80000000, 0x00e800000000},
	{ClassMul, 0x00fe3f000000, 0x00f800000000},
}

// ClassOf returns the format of a word (bits above 44 are ignored).
func ClassOf(w Word) Class {
	for _, t := range classTable {
		if uint64(w)&t.mask == t.value {
			return t.class
		}
	}
	return ClassInvalid
}

// Flags are the ME 2.8 modifier bits 44:40 shared by the ALU-like formats.
// A format whose bit 40 means something else (a branch address bit, or a
// fixed class bit) must leave FlagNoCC clear.
type Flags uint8

const (
	FlagNoCC     Flags = 1 << 0 // bit 40: do not update condition codes
	FlagWrBoth   Flags = 1 << 1 // bit 41: gpr_wrboth, write banks A and B
	FlagSrcLMExt Flags = 1 << 2 // bit 42: LM sources use *l$index2/3
	FlagDstLMExt Flags = 1 << 3 // bit 43: LM destination uses *l$index2/3
	FlagPredCC   Flags = 1 << 4 // bit 44: predicate_cc
)

// Instr is one decoded or constructed instruction. The concrete types are
// the *Instr structs of this package (values, not pointers); a type switch
// over them is how an emulator or printer dispatches.
type Instr interface {
	Class() Class
	// Err is the reason a constructor refused its operands (nil if fine);
	// Encode returns it.
	Err() error
	bits() (uint64, error)
}

// ALUInstr: alu[dst, A, op, B] and the special ALU ops (§2.1).
// Layout: A 9:0, B 19:10, Dst 29:20, Swap 30, Op 35:31, DstB 36, flags 44:40.
type ALUInstr struct {
	Op   ALUOp
	Dst  Opnd10
	A, B Opnd10 // raw A-field and B-field (before Swap is applied)
	Swap bool   // the left operand is in the B field
	DstB bool   // a GPR destination is in bank B
	Flags
	err error
}

// ShfInstr: alu_shf / dbl_shf / asr / byte_align (§2.2).
// Layout: A 7:0, SC 9:8, B 17:10, I8 18, Swap 19, Dst 27:20, Shift 32:28,
// Op 35:33, DstB 36, flags 44:40.
type ShfInstr struct {
	Op    ShfOp
	SC    ShiftCtl
	Shift uint8 // raw amount field (left shifts store 32-n; 0 = indirect)
	Dst   Opnd8
	A, B  Opnd8
	I8    bool // bit 7 of a restricted constant
	Swap  bool
	DstB  bool
	Flags
	err error
}

// ImmedInstr: immed[dst, v] and its partial forms (§2.4). One of A/B holds
// the destination, the other the constant's low byte (0x300|lo).
// Layout: A 9:0, B 19:10, ImmHi 27:20, bit 28 unused, Width 30:29, Inv 31,
// Shift 34:33, flags 44:41.
type ImmedInstr struct {
	A, B   Opnd10
	ImmHi  uint8 // bits 15:8 of the 16-bit immediate
	Width  ImmWidth
	Inv    bool
	Shift  uint8 // byte shift 0..3
	Rsvd28 bool  // bit 28: no known meaning; kept so decoding is lossless
	Flags
	err error
}

// LdFieldInstr: ld_field / ld_field_w_clr (§2.3). The A field (B if Swap)
// is both the destination and the source of the preserved bytes.
// Layout: A 7:0, SC 9:8, B 17:10, I8 18, Swap 19, Clear 20, Mask 27:24,
// Shift 32:28, LoadCC 34, flags 44:41.
type LdFieldInstr struct {
	A, B   Opnd8
	SC     ShiftCtl
	Shift  uint8
	Mask   uint8 // byte mask, bit i = byte i
	I8     bool
	Swap   bool
	Clear  bool // ld_field_w_clr: zero the unselected bytes
	LoadCC bool
	Flags
	err error
}

// CtxArbInstr: ctx_arb[signals] (§2.11).
// Layout: Sigs 15:0, Any 16, Bpt 17, Resume 18, NoLoad 19, Defer 21:20,
// Addr 34:22 + 40, flags 44:41.
type CtxArbInstr struct {
	Sigs   uint16 // bit n = wait for signal n; 1 = voluntary
	Any    bool
	Bpt    bool
	Resume bool // branch to Addr when resumed
	NoLoad bool
	Defer  uint8
	Addr   uint16
	Flags
	err error
}

// CSRInstr: local_csr_rd / local_csr_wr (§2.10).
// Layout: A 9:0, B 19:10, Write 21, CSR 32:22 (byte offset / 4), flags 44:41.
type CSRInstr struct {
	A, B  Opnd10
	Write bool
	CSR   uint16 // CSR number = byte address / 4
	Flags
	err error
}

// BranchInstr: conditional and unconditional branches (§2.5).
// Layout: Cond 4:0, EvPip 9:8, CSS 17:14, Defer 21:20, Addr 34:22 + 40,
// flags 44:41.
type BranchInstr struct {
	Cond  Cond
	EvPip uint8 // bits 9:8 (the kernel writes 1 for conditional branches)
	CSS   uint8 // context / signal / state selector for Cond 16..23
	Defer uint8
	Addr  uint16 // absolute target, 0..16383
	Flags
	err error
}

// BrByteInstr: br=byte / br!=byte (§2.7).
// Layout: A 7:0, Byte 9:8, B 17:10, I8 18, Eq 19, Defer 21:20, Addr 34:22+40.
type BrByteInstr struct {
	A, B  Opnd8
	Byte  uint8
	I8    bool
	Eq    bool
	Defer uint8
	Addr  uint16
	Flags
	err error
}

// BrBitInstr: br_bset / br_bclr (§2.6). The constant operand holds bit+1.
// Layout: A 7:0, B 17:10, Set 18, Defer 21:20, Addr 34:22 + 40.
type BrBitInstr struct {
	A, B  Opnd8
	Set   bool
	Defer uint8
	Addr  uint16
	Flags
	err error
}

// JumpInstr: jump[reg, .imm] / rtn[reg] (§2.8). One of A/B is the register,
// the other the low byte of the immediate (0x300|lo).
// Layout: A 9:0, B 19:10, Defer 21:20, ImmHi 30:22, flags 44:40.
type JumpInstr struct {
	A, B  Opnd10
	Defer uint8
	ImmHi uint16 // immediate bits 16:8
	Flags
	err error
}

// MulInstr: mul_step (§2.9).
// Layout: A 9:0, B 19:10, Step 22:20, DstB 23, Swap 30, Type 32:31, flags 44:40.
type MulInstr struct {
	A, B Opnd10
	Step MulStep
	Type MulType
	DstB bool
	Swap bool
	Flags
	err error
}

// CmdInstr: a CPP bus command such as mem[read32_swap, …] (§2.12).
// Layout: A 7:0, Ctx 9:8, B 17:10, Token 19:18, Xfer 24:20 (+ bit 40 as
// Xfer bit 5), Cnt 27:25, Sig 31:28, TgtCmd 38:32, Indirect 41, Mode 44:42.
type CmdInstr struct {
	TgtCmd   uint8 // target + action code (7 bits)
	Token    uint8
	Xfer     uint8 // first transfer register (6 bits)
	Cnt      uint8 // length field
	Sig      uint8
	Ctx      CtxSwap
	Mode     AddrMode
	Indirect bool
	A, B     Opnd8
	err      error
}

// InvalidInstr is a word that matches no format. Bits is the 45-bit word.
type InvalidInstr struct {
	Bits uint64
}

func (ALUInstr) Class() Class     { return ClassALU }
func (ShfInstr) Class() Class     { return ClassShf }
func (ImmedInstr) Class() Class   { return ClassImmed }
func (LdFieldInstr) Class() Class { return ClassLdField }
func (CtxArbInstr) Class() Class  { return ClassCtxArb }
func (CSRInstr) Class() Class     { return ClassLocalCSR }
func (BranchInstr) Class() Class  { return ClassBranch }
func (BrByteInstr) Class() Class  { return ClassBrByte }
func (BrBitInstr) Class() Class   { return ClassBrBit }
func (JumpInstr) Class() Class    { return ClassJump }
func (MulInstr) Class() Class     { return ClassMul }
func (CmdInstr) Class() Class     { return ClassCmd }
func (InvalidInstr) Class() Class { return ClassInvalid }

func (i ALUInstr) Err() error     { return i.err }
func (i ShfInstr) Err() error     { return i.err }
func (i ImmedInstr) Err() error   { return i.err }
func (i LdFieldInstr) Err() error { return i.err }
func (i CtxArbInstr) Err() error  { return i.err }
func (i CSRInstr) Err() error     { return i.err }
func (i BranchInstr) Err() error  { return i.err }
func (i BrByteInstr) Err() error  { return i.err }
func (i BrBitInstr) Err() error   { return i.err }
func (i JumpInstr) Err() error    { return i.err }
func (i MulInstr) Err() error     { return i.err }
func (i CmdInstr) Err() error     { return i.err }
func (InvalidInstr) Err() error   { return nil }

// ALUOp is the 5-bit op of the ALU format.
type ALUOp uint8

const (
	OpB          ALUOp = 0x00 // B (move)
	OpAdd        ALUOp = 0x01 // +
	OpPopCount3  ALUOp = 0x03
	OpNotB       ALUOp = 0x04 // ~B
	OpAdd16      ALUOp = 0x05 // +16
	OpPopCount1  ALUOp = 0x06
	OpPopCount2  ALUOp = 0x07
	OpAnd        ALUOp = 0x08 // AND
	OpAdd8       ALUOp = 0x09 // +8
	OpCamClear   ALUOp = 0x0b
	OpNotAAndB   ALUOp = 0x0c // ~AND
	OpSubCarry   ALUOp = 0x0d // -carry
	OpFFS        ALUOp = 0x0e
	OpCamReadTag ALUOp = 0x0f
	OpAndNotB    ALUOp = 0x10 // AND~
	OpAddCarry   ALUOp = 0x11 // +carry
	OpCRC        ALUOp = 0x12
	OpCamWrite   ALUOp = 0x13
	OpOr         ALUOp = 0x14 // OR
	OpSub        ALUOp = 0x15 // -
	OpCamLookup  ALUOp = 0x17
	OpXor        ALUOp = 0x18 // XOR
	OpBMinusA    ALUOp = 0x19 // B-A
	OpCamWriteSt ALUOp = 0x1b
	OpCamReadSt  ALUOp = 0x1f
)

// aluOpNames are GNU's spellings; "" marks an op code with no meaning.
var aluOpNames = [32]string{
	0: "B", 1: "+", 3: "pop_count3", 4: "~B", 5: "+16", 6: "pop_count1", 7: "pop_count2",
	8: "AND", 9: "+8", 11: "cam_clear", 12: "~AND", 13: "-carry", 14: "ffs", 15: "cam_read_tag",
	16: "AND~", 17: "+carry", 18: "CRC", 19: "cam_write", 20: "OR", 21: "-", 23: "cam_lookup",
	24: "XOR", 25: "B-A", 27: "cam_write_state", 31: "cam_read_state",
}

func (o ALUOp) String() string {
	if int(o) < 32 && aluOpNames[o] != "" {
		return aluOpNames[o]
	}
	return fmt.Sprintf("<operator:0x%x>", uint8(o))
}

// ShfOp is the 3-bit op of the shift format.
type ShfOp uint8

const (
	ShfB ShfOp = iota
	ShfNotB
	ShfAnd
	ShfNotAAndB
	ShfAndNotB
	ShfOr
	ShfAsr
	ShfByteAlign
)

var shfOpNames = [8]string{"B", "~B", "AND", "~AND", "AND~", "OR", "asr", "byte_align"}

func (o ShfOp) String() string { return shfOpNames[o&7] }

// ShiftCtl is the 2-bit shift control of alu_shf and ld_field.
type ShiftCtl uint8

const (
	ShiftRotR ShiftCtl = iota // rotate right (no indirect form)
	ShiftR                    // logical right; amount 0 = indirect
	ShiftL                    // left; field holds 32-n; 0 = indirect
	ShiftDbl                  // double shift right (dbl_shf)
)

// ImmWidth is the width of an immed write.
type ImmWidth uint8

const (
	WidthAll  ImmWidth = 0
	WidthByte ImmWidth = 1 // immed_bN
	WidthWord ImmWidth = 2 // immed_wN
)

// Cond is a branch condition (5 bits).
type Cond uint8

const (
	BEQ Cond = 0
	BNE Cond = 1
	BMI Cond = 2
	BPL Cond = 3
	BCS Cond = 4 // unsigned >= (no borrow)
	BCC Cond = 5 // unsigned <
	BVS Cond = 6
	BVC Cond = 7
	BGE Cond = 8
	BLT Cond = 9
	BLE Cond = 10
	BGT Cond = 11

	BrCtxEq           Cond = 16
	BrCtxNe           Cond = 17
	BrSignal          Cond = 18
	BrNotSignal       Cond = 19
	BrInpState        Cond = 20
	BrNotInpState     Cond = 21
	BrClsState        Cond = 22
	BrNotClsState     Cond = 23
	BR                Cond = 24 // unconditional
	BHS                    = BCS
	BLO                    = BCC
	condUnconditional      = BR
)

var condNames = [32]string{
	"beq", "bne", "bmi", "bpl", "bcs", "bcc", "bvs", "bvc", "bge", "blt", "ble", "bgt", "", "", "", "",
	"br=ctx", "br!=ctx", "br_signal", "br_!signal", "br_inp_state", "br_!inp_state", "br_cls_state", "br_!cls_state", "br",
}

func (c Cond) String() string {
	if int(c) < 32 && condNames[c] != "" {
		return condNames[c]
	}
	return fmt.Sprintf("Cond(%d)", uint8(c))
}

// MulType is the mul_step type.
type MulType uint8

const (
	MulStart MulType = iota
	Mul24x8
	Mul16x16
	Mul32x32
)

// MulStep is the mul_step step.
type MulStep uint8

const (
	MulStep1 MulStep = iota
	MulStep2
	MulStep3
	MulStep4
	MulLast
	MulLast2
)

// CtxSwap is the context-swap / defer field of a command.
type CtxSwap uint8

const (
	CtxSwapWait   CtxSwap = 0 // ctx_swap[sigN]: sleep until the signal
	CtxSwapDefer1 CtxSwap = 1 // ctx_swap, defer[1]
	CtxSwapDefer2 CtxSwap = 2 // ctx_swap, defer[2]
	CtxNoSwap     CtxSwap = 3 // fire and forget (sig_done if Sig != 0)
)

// AddrMode is a command's address mode.
type AddrMode uint8

const (
	Mode40AB     AddrMode = 0 // (A << 8) + B, 40-bit
	Mode40BA     AddrMode = 1 // (B << 8) + A, 40-bit
	Mode3rdAB    AddrMode = 2
	Mode3rdBA    AddrMode = 3
	Mode32       AddrMode = 4 // A + B, 32-bit
	ModeImmAddr  AddrMode = 5
	ModeImmAddrD AddrMode = 6
	ModeImmData  AddrMode = 7
)
