package ir

import "strconv"

// Op is an operation of the IR. Every property of an op (its operand syntax,
// argument and result types, whether it ends a block, whether it touches
// memory) lives in one row of opTable, in the style of Go's
// cmd/compile/internal/ssa op tables, so the printer, the parser and the
// checker all read the same facts.
type Op uint16

// Format is the operand syntax of an op, shared by Print, Parse and Check.
type Format uint8

const (
	FmtNone   Format = iota // no operands: fp, undef, unreachable
	FmtArgs                 // fixed value operands: add64 v1, v2
	FmtImm                  // one integer: const 5, mapref 3
	FmtImm2                 // two integers: mapvalue 3, +16 (map index, offset)
	FmtLoad                 // region[addr+off]: load32 pkt[v1+14]
	FmtStore                // region[addr+off], value (atomics: , value, value)
	FmtCall                 // helper id, then up to 5 values: call 1, v2, v3
	FmtCallFn               // function name, then up to 5 values: callfn helper_fn, v2
	FmtJump                 // one target: jump b3(v1, v2)
	FmtBranch               // two values, two targets: jgt64 v1, v2, b3, b4(v5)
)

// OpInfo is one row of the op table.
type OpInfo struct {
	Name string
	Fmt  Format
	// Args are the types of the value operands, in order. For FmtLoad and
	// FmtStore the address comes first. Calls take 0 to MaxCallArgs i64s
	// instead.
	Args []Type
	// Result is the result type, Void if the op has none. AnyInt ops (const,
	// undef) take whichever of i32 and i64 the text declares.
	Result Type
	AnyInt bool
	// Terminator ops end a block; no other op may.
	Terminator bool
	// Effect ops have side effects (memory writes, calls, traps) and may be
	// neither removed nor reordered with each other.
	Effect bool
	// ReadsMem and WritesMem say which ops touch memory (loads, stores,
	// atomics, calls, context and legacy packet reads): a pass may not move
	// a reader across a writer, nor two writers across each other, unless
	// it proves the accesses disjoint (different regions or offsets). A
	// load that is not an Effect may be removed when unused: the verifier
	// proved it cannot fault.
	ReadsMem, WritesMem bool
	// Commutative binary ops may have their operands swapped.
	Commutative bool
	// Size is the access width in bytes of memory ops; Signed marks
	// sign-extending loads.
	Size   int
	Signed bool
	// Fetch marks atomics that return the old memory value.
	Fetch bool
}

// MaxCallArgs is eBPF's argument limit for helpers and BPF-to-BPF calls
// (r1–r5).
const MaxCallArgs = 5

// Info returns the table row of op.
func (op Op) Info() *OpInfo {
	if int(op) < len(opTable) && opTable[op].Name != "" {
		return &opTable[op]
	}
	return &badOp
}

var badOp = OpInfo{Name: "badop"}

func (op Op) String() string { return op.Info().Name }

// IsTerminator reports whether op ends a block.
func (op Op) IsTerminator() bool { return op.Info().Terminator }

// OpByName finds an op by its text name.
func OpByName(name string) (Op, bool) {
	op, ok := opByName[name]
	return op, ok
}

const (
	OpInvalid Op = iota

	// Values without operands.
	OpParam    // a block parameter (printed in the block header, never as an instruction)
	OpConst    // an integer constant (Imm), i32 or i64
	OpUndef    // an undefined value: a register or slot read on a path where it was never written
	OpFP       // the frame pointer, r10: the top of this function's stack frame
	OpMapRef   // a map, by index into the object's maps (Imm): LD_IMM64 with BPF_PSEUDO_MAP_FD
	OpMapValue // the address of a map's value (Imm index, Imm2 offset): BPF_PSEUDO_MAP_VALUE (global data)

	// Conversions between i32 and i64 and within i32.
	OpTrunc  // i64 → i32, the low 32 bits
	OpZext   // i32 → i64, zero-extended (what every eBPF ALU32 result does)
	OpSext   // i32 → i64, sign-extended
	OpSext8  // i32 → i32, sign-extend the low 8 bits (MOVSX 8)
	OpSext16 // i32 → i32, sign-extend the low 16 bits (MOVSX 16)

	// Byte swaps (eBPF BPF_END to big endian on a little-endian host).
	OpBswap16 // i32 → i32, swap the low two bytes, upper bits cleared
	OpBswap32 // i32 → i32
	OpBswap64 // i64 → i64

	// Binary ALU ops, 32- and 64-bit. Semantics are RFC 9669's: unsigned
	// division by zero gives 0, modulo by zero gives the dividend, signed
	// division of MIN by -1 gives MIN (and modulo 0), shift counts are masked
	// to the width.
	OpAdd32
	OpAdd64
	OpSub32
	OpSub64
	OpMul32
	OpMul64
	OpDiv32
	OpDiv64
	OpSdiv32
	OpSdiv64
	OpMod32
	OpMod64
	OpSmod32
	OpSmod64
	OpOr32
	OpOr64
	OpAnd32
	OpAnd64
	OpXor32
	OpXor64
	OpLsh32
	OpLsh64
	OpRsh32
	OpRsh64
	OpArsh32
	OpArsh64
	OpNeg32
	OpNeg64

	// Compares producing 0 or 1 as an i32. The lifter fuses compares into
	// branches; these exist for passes that if-convert.
	OpEq32
	OpEq64
	OpNe32
	OpNe64
	OpGt32 // unsigned >
	OpGt64
	OpGe32
	OpGe64
	OpLt32
	OpLt64
	OpLe32
	OpLe64
	OpSgt32
	OpSgt64
	OpSge32
	OpSge64
	OpSlt32
	OpSlt64
	OpSle32
	OpSle64
	OpSet32 // (a & b) != 0
	OpSet64

	// Memory. The address is an i64 operand plus a constant offset (Imm);
	// Region says which memory it is.
	OpLoad8 // zero-extending loads; 8/16/32-bit results are i32
	OpLoad16
	OpLoad32
	OpLoad64
	OpLoadsx8 // sign-extending loads (BPF_MEMSX), results are i64
	OpLoadsx16
	OpLoadsx32
	// OpCtxPtr is a 4-byte context field that the kernel turns into a
	// pointer (xdp_md.data, data_end, data_meta; __sk_buff.data, …): the
	// verifier rewrites the 32-bit load into a load of the real 64-bit
	// pointer, so the result is an i64 whose facts say which pointer.
	OpCtxPtr
	OpStore8 // stores take the low bits of an i32 (8/16/32) or an i64
	OpStore16
	OpStore32
	OpStore64

	// Atomics (BPF_ATOMIC). Without fetch they return nothing; with fetch
	// they return the old value. cmpxchg takes (addr, expected, new) and
	// returns the old value, as r0 does in eBPF.
	OpAtomicAdd32
	OpAtomicAdd64
	OpAtomicOr32
	OpAtomicOr64
	OpAtomicAnd32
	OpAtomicAnd64
	OpAtomicXor32
	OpAtomicXor64
	OpAtomicFetchAdd32
	OpAtomicFetchAdd64
	OpAtomicFetchOr32
	OpAtomicFetchOr64
	OpAtomicFetchAnd32
	OpAtomicFetchAnd64
	OpAtomicFetchXor32
	OpAtomicFetchXor64
	OpXchg32
	OpXchg64
	OpCmpxchg32
	OpCmpxchg64

	// Legacy packet loads (BPF_LD with BPF_ABS or BPF_IND, classic-BPF
	// style, used by socket filters and old tc programs): read 1, 2 or 4
	// bytes of the packet of the skb context (first operand) at a signed
	// 32-bit offset (second operand), in network byte order, zero-extended.
	// As in the kernel (bpf_skb_load_helper_convert_offset), an offset in
	// [SKF_NET_OFF = -0x100000, 0) is relative to the network header (14
	// bytes into a tc frame) and one in [SKF_LL_OFF = -0x200000,
	// SKF_NET_OFF) to the mac header (the frame's start); lower ones fail.
	// If the bytes are outside the packet the program ends, returning 0 —
	// hence they are Effect ops.
	OpPktLoad8
	OpPktLoad16
	OpPktLoad32

	// Calls. A helper call names the helper by its eBPF id (Imm); a
	// BPF-to-BPF call names the callee function (Sym). Both return r0, an
	// i64.
	OpCall
	OpCallFn

	// Terminators.
	OpJump  // unconditional branch with block arguments
	OpJeq32 // conditional branches: compare two values, then the taken target, then the fall-through target
	OpJeq64
	OpJne32
	OpJne64
	OpJgt32
	OpJgt64
	OpJge32
	OpJge64
	OpJlt32
	OpJlt64
	OpJle32
	OpJle64
	OpJsgt32
	OpJsgt64
	OpJsge32
	OpJsge64
	OpJslt32
	OpJslt64
	OpJsle32
	OpJsle64
	OpJset32
	OpJset64
	OpRet         // return r0 (eBPF exit)
	OpUnreachable // control never gets here (after a tail call that cannot fail, or a path the verifier proved dead)

	opCount
)

var (
	i32   = []Type{I32}
	i64   = []Type{I64}
	i32x2 = []Type{I32, I32}
	i64x2 = []Type{I64, I64}
)

func width(bits int) Type {
	if bits <= 32 {
		return I32
	}
	return I64
}

var opTable = func() [opCount]OpInfo {
	var t [opCount]OpInfo
	t[OpParam] = OpInfo{Name: "param", Fmt: FmtNone, AnyInt: true}
	t[OpConst] = OpInfo{Name: "const", Fmt: FmtImm, AnyInt: true}
	t[OpUndef] = OpInfo{Name: "undef", Fmt: FmtNone, AnyInt: true}
	t[OpFP] = OpInfo{Name: "fp", Fmt: FmtNone, Result: I64}
	t[OpMapRef] = OpInfo{Name: "mapref", Fmt: FmtImm, Result: I64}
	t[OpMapValue] = OpInfo{Name: "mapvalue", Fmt: FmtImm2, Result: I64}

	t[OpTrunc] = OpInfo{Name: "trunc", Fmt: FmtArgs, Args: i64, Result: I32}
	t[OpZext] = OpInfo{Name: "zext", Fmt: FmtArgs, Args: i32, Result: I64}
	t[OpSext] = OpInfo{Name: "sext", Fmt: FmtArgs, Args: i32, Result: I64}
	t[OpSext8] = OpInfo{Name: "sext8", Fmt: FmtArgs, Args: i32, Result: I32}
	t[OpSext16] = OpInfo{Name: "sext16", Fmt: FmtArgs, Args: i32, Result: I32}
	t[OpBswap16] = OpInfo{Name: "bswap16", Fmt: FmtArgs, Args: i32, Result: I32}
	t[OpBswap32] = OpInfo{Name: "bswap32", Fmt: FmtArgs, Args: i32, Result: I32}
	t[OpBswap64] = OpInfo{Name: "bswap64", Fmt: FmtArgs, Args: i64, Result: I64}

	alu := func(op32 Op, name string, commutative bool) {
		t[op32] = OpInfo{Name: name + "32", Fmt: FmtArgs, Args: i32x2, Result: I32, Commutative: commutative}
		t[op32+1] = OpInfo{Name: name + "64", Fmt: FmtArgs, Args: i64x2, Result: I64, Commutative: commutative}
	}
	alu(OpAdd32, "add", true)
	alu(OpSub32, "sub", false)
	alu(OpMul32, "mul", true)
	alu(OpDiv32, "div", false)
	alu(OpSdiv32, "sdiv", false)
	alu(OpMod32, "mod", false)
	alu(OpSmod32, "smod", false)
	alu(OpOr32, "or", true)
	alu(OpAnd32, "and", true)
	alu(OpXor32, "xor", true)
	alu(OpLsh32, "lsh", false)
	alu(OpRsh32, "rsh", false)
	alu(OpArsh32, "arsh", false)
	t[OpNeg32] = OpInfo{Name: "neg32", Fmt: FmtArgs, Args: i32, Result: I32}
	t[OpNeg64] = OpInfo{Name: "neg64", Fmt: FmtArgs, Args: i64, Result: I64}

	cmp := func(op32 Op, name string, commutative bool) {
		t[op32] = OpInfo{Name: name + "32", Fmt: FmtArgs, Args: i32x2, Result: I32, Commutative: commutative}
		t[op32+1] = OpInfo{Name: name + "64", Fmt: FmtArgs, Args: i64x2, Result: I32, Commutative: commutative}
		j := op32 - OpEq32 + OpJeq32
		t[j] = OpInfo{Name: "j" + name + "32", Fmt: FmtBranch, Args: i32x2, Terminator: true}
		t[j+1] = OpInfo{Name: "j" + name + "64", Fmt: FmtBranch, Args: i64x2, Terminator: true}
	}
	cmp(OpEq32, "eq", true)
	cmp(OpNe32, "ne", true)
	cmp(OpGt32, "gt", false)
	cmp(OpGe32, "ge", false)
	cmp(OpLt32, "lt", false)
	cmp(OpLe32, "le", false)
	cmp(OpSgt32, "sgt", false)
	cmp(OpSge32, "sge", false)
	cmp(OpSlt32, "slt", false)
	cmp(OpSle32, "sle", false)
	cmp(OpSet32, "set", true)

	for i, size := range []int{1, 2, 4, 8} {
		bits := size * 8
		res := width(bits)
		t[OpLoad8+Op(i)] = OpInfo{Name: "load" + itoa(bits), Fmt: FmtLoad, Args: i64, Result: res, Size: size, ReadsMem: true}
		t[OpStore8+Op(i)] = OpInfo{Name: "store" + itoa(bits), Fmt: FmtStore, Args: []Type{I64, res}, Effect: true, Size: size, WritesMem: true}
		if size < 8 {
			t[OpLoadsx8+Op(i)] = OpInfo{Name: "loadsx" + itoa(bits), Fmt: FmtLoad, Args: i64, Result: I64, Size: size, Signed: true, ReadsMem: true}
		}
	}

	t[OpCtxPtr] = OpInfo{Name: "ctxptr", Fmt: FmtLoad, Args: i64, Result: I64, Size: 4, ReadsMem: true}

	for i, name := range []string{"add", "or", "and", "xor"} {
		for j, bits := range []int{32, 64} {
			ty := width(bits)
			t[OpAtomicAdd32+Op(2*i+j)] = OpInfo{Name: "atomic_" + name + itoa(bits), Fmt: FmtStore, Args: []Type{I64, ty}, Effect: true, Size: bits / 8, ReadsMem: true, WritesMem: true}
			t[OpAtomicFetchAdd32+Op(2*i+j)] = OpInfo{Name: "atomic_fetch_" + name + itoa(bits), Fmt: FmtStore, Args: []Type{I64, ty}, Result: ty, Effect: true, Size: bits / 8, Fetch: true, ReadsMem: true, WritesMem: true}
		}
	}
	for j, bits := range []int{32, 64} {
		ty := width(bits)
		t[OpXchg32+Op(j)] = OpInfo{Name: "xchg" + itoa(bits), Fmt: FmtStore, Args: []Type{I64, ty}, Result: ty, Effect: true, Size: bits / 8, Fetch: true, ReadsMem: true, WritesMem: true}
		t[OpCmpxchg32+Op(j)] = OpInfo{Name: "cmpxchg" + itoa(bits), Fmt: FmtStore, Args: []Type{I64, ty, ty}, Result: ty, Effect: true, Size: bits / 8, Fetch: true, ReadsMem: true, WritesMem: true}
	}

	for i, size := range []int{1, 2, 4} {
		t[OpPktLoad8+Op(i)] = OpInfo{Name: "pktload" + itoa(size*8), Fmt: FmtArgs, Args: []Type{I64, I32}, Result: I32, Effect: true, Size: size, ReadsMem: true}
	}
	t[OpCall] = OpInfo{Name: "call", Fmt: FmtCall, Result: I64, Effect: true, ReadsMem: true, WritesMem: true}
	t[OpCallFn] = OpInfo{Name: "callfn", Fmt: FmtCallFn, Result: I64, Effect: true, ReadsMem: true, WritesMem: true}
	t[OpJump] = OpInfo{Name: "jump", Fmt: FmtJump, Terminator: true}
	t[OpRet] = OpInfo{Name: "ret", Fmt: FmtArgs, Args: i64, Terminator: true}
	t[OpUnreachable] = OpInfo{Name: "unreachable", Fmt: FmtNone, Terminator: true, Effect: true}
	return t
}()

var opByName = func() map[string]Op {
	m := make(map[string]Op, opCount)
	for op := OpInvalid + 1; op < opCount; op++ {
		if op == OpParam {
			continue // params are written in block headers only
		}
		n := opTable[op].Name
		if n == "" {
			panic("BUG: op without a table row: " + itoa(int(op)))
		}
		if _, dup := m[n]; dup {
			panic("BUG: op name used twice: " + n)
		}
		m[n] = op
	}
	return m
}()

// IsMemory reports whether op is a load, store or atomic: an op with an
// address operand and a Region.
func (op Op) IsMemory() bool {
	f := op.Info().Fmt
	return f == FmtLoad || f == FmtStore
}

// IsBranch reports whether op is a conditional branch.
func (op Op) IsBranch() bool { return op.Info().Fmt == FmtBranch }

// IsCall reports whether op is a helper or BPF-to-BPF call.
func (op Op) IsCall() bool { return op == OpCall || op == OpCallFn }

func itoa(i int) string { return strconv.Itoa(i) }
