// Package isa is the instruction set of the Netronome NFP-4000/6000
// microengine (ME version 2.8) as data: the instruction model, its binary
// encoding with the code-store ECC, and a disassembler whose text is
// identical to GNU objdump 2.40 (opcodes/nfp-dis.c). The reference for every
// field is shared/ref/nfp-isa.md.
//
// # The model
//
// A code word (Word) holds a 45-bit instruction and 7 ECC bits. Decode
// splits it into one of the *Instr structs (ALUInstr, ShfInstr, ImmedInstr,
// LdFieldInstr, CtxArbInstr, CSRInstr, BranchInstr, BrByteInstr,
// BrBitInstr, JumpInstr, MulInstr, CmdInstr, InvalidInstr), chosen by the
// fixed class bits in the order GNU tests them. Each struct has one field per
// bit field of its format and together they cover every bit, so the model is
// lossless: Encode(Decode(w)) == w for every word whose ECC is right,
// including odd patterns that GNU still prints.
//
// Operand fields are kept raw (Opnd10 for the 10-bit "unrestricted"
// encoding, Opnd8 for the 8-bit "restricted" one) because several bit
// patterns name the same operand and because their meaning depends on the
// context mode (Ctx4/Ctx8) and on the instruction's LM-extension and
// imm8-MSB bits. Opnd10.Operand and Opnd8.Operand, and the Operands-style
// methods of the structs, turn them into typed Operands (GPR A/B relative
// or absolute, transfer, next-neighbour, LM with offset or ++/--,
// immediate) for an emulator.
//
// # Building instructions
//
// A compiler uses the constructors: ALU, Mov, Shf, DblShf, Asr, LdField,
// Immed, ImmedW, ImmedB, Nop, Br, BrBit, BrByte, Jump, Rtn, MulStepOp,
// MulResult, CSRRead, CSRWrite, CtxArb and Cmd. They take typed Operands
// (GPRA, GPRB, GPRBoth, Xfer, LM, LMInc, Imm, None, …) and place them the way
// the Linux JIT does (its swap rule, its filler values), so that the words
// equal the kernel's for the same request (nfp-isa.md §8 are tests). What the
// hardware cannot do — two sources read through the same port, an immediate
// that does not fit, a branch target out of range — is recorded in the
// returned instruction and reported by Encode, with a message that names it.
// Constructors number registers for 4-context mode, the mode eBPF offload
// runs in. Fields left for the caller (Defer, Sig, Flags such as FlagNoCC)
// can be set on the returned struct before encoding.
//
// # Text
//
// Disasm (and the Text methods) print an instruction exactly as GNU objdump
// does with -M ctx4 or ctx8; ObjdumpLine prints the whole objdump line with
// address, word and ".N" program-counter column.
package isa
