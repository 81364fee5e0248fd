package ebpf

// op is the internal opcode: one value per behaviour, dense, so that the
// run loop is a single switch the Go compiler turns into a jump table.
// eBPF opcodes are not dense (class, source and operation bits, with
// offset and immediate selecting variants such as SDIV, MOVSX and the
// atomics), so decoding resolves all of that once, before the first run.
type op uint8

const (
	opInvalid op = iota // the second slot of LD_IMM64: jumping there is an error
	opLdImm64           // dst = imm (constants, map pointers, map value addresses)
	opNeg64
	opNeg32
	opMovSX8to64
	opMovSX16to64
	opMovSX32to64
	opMovSX8to32
	opMovSX16to32
	opLE16
	opLE32
	opLE64
	opBE16
	opBE32
	opBE64
	opJA     // pc = off (JA and JA32/gotol alike)
	opCall   // helper call, imm = index into program.helpers
	opCallX  // helper call by number in register dst (uBPF's callx)
	opCallPC // BPF-to-BPF call, off = target pc
	opExit
	opLdxB
	opLdxH
	opLdxW
	opLdxDW
	opLdxSB
	opLdxSH
	opLdxSW
	opStB // store immediate
	opStH
	opStW
	opStDW
	opStxB // store register
	opStxH
	opStxW
	opStxDW
	opAtomic32 // imm = atomic operation (RFC 9669 5.3 encoding)
	opAtomic64
	opLdAbsB // legacy packet loads
	opLdAbsH
	opLdAbsW
	opLdIndB
	opLdIndH
	opLdIndW
	opFirstGenerated
)

var opNames = map[op]string{
	opInvalid: "invalid", opLdImm64: "lddw", opNeg64: "neg", opNeg32: "neg32",
	opMovSX8to64: "movsx864", opMovSX16to64: "movsx1664", opMovSX32to64: "movsx3264",
	opMovSX8to32: "movsx832", opMovSX16to32: "movsx1632",
	opLE16: "le16", opLE32: "le32", opLE64: "le64", opBE16: "be16", opBE32: "be32", opBE64: "be64",
	opJA: "ja", opCall: "call", opCallX: "callx", opCallPC: "call local", opExit: "exit",
	opLdxB: "ldxb", opLdxH: "ldxh", opLdxW: "ldxw", opLdxDW: "ldxdw",
	opLdxSB: "ldxsb", opLdxSH: "ldxsh", opLdxSW: "ldxsw",
	opStB: "stb", opStH: "sth", opStW: "stw", opStDW: "stdw",
	opStxB: "stxb", opStxH: "stxh", opStxW: "stxw", opStxDW: "stxdw",
	opAtomic32: "atomic32", opAtomic64: "atomic64",
	opLdAbsB: "ldabsb", opLdAbsH: "ldabsh", opLdAbsW: "ldabsw",
	opLdIndB: "ldindb", opLdIndH: "ldindh", opLdIndW: "ldindw",
}

func (o op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	if n, ok := generatedOpNames[o]; ok {
		return n
	}
	return "op?"
}

// inst is one decoded instruction slot: 16 bytes, no pointers, so a
// program is one flat slice the run loop indexes by pc.
type inst struct {
	op       op
	dst, src uint8
	_        uint8
	off      int32  // memory offset, or absolute target pc for jumps and calls
	imm      uint64 // immediate, sign-extended to 64 bits
}

// Atomic operations (the immediate of STX|ATOMIC, RFC 9669 section 5.3).
const (
	atomicAdd     = 0x00
	atomicOr      = 0x40
	atomicAnd     = 0x50
	atomicXor     = 0xa0
	atomicFetch   = 0x01
	atomicXchg    = 0xe0 | atomicFetch
	atomicCmpXchg = 0xf0 | atomicFetch
)
