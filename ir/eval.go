package ir

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Machine executes IR: the reference semantics of the ops (RFC 9669's, as
// the op table documents them), used to test that lifting and passes
// preserve behaviour by running the same inputs before and after. It is a
// test tool, not an emulator of the NFP: memory is whatever Mem says,
// helpers are whatever Helper does.
type Machine struct {
	Module *Module
	Mem    Memory
	// Helper runs helper call id with its arguments.
	Helper func(id int64, args []uint64) (uint64, error)
	// The program's environment, for the ops that depend on it; nil hooks
	// make those ops fail with ErrUnsupported. MapRef is the address of map
	// idx (mapref), MapValue the address of byte off of its value
	// (mapvalue), CtxPtr the pointer a context field holds (ctxptr, given
	// the field's address), PktLoad a legacy packet load (pktload: ctx, the
	// offset operand's 32 bits — a signed offset, negative ones relative to
	// the network or mac header as pktload says — and the size; its error
	// ends the program).
	MapRef   func(idx int64) (uint64, error)
	MapValue func(idx, off int64) (uint64, error)
	CtxPtr   func(field uint64) (uint64, error)
	PktLoad  func(ctx, off uint64, size int) (uint64, error)
	// CheckFacts makes every value (and block parameter) with facts check
	// them when it is computed: scalar facts here, pointer facts (!ptr,
	// !le, !map) with PtrFacts if set (fp is the current frame's top). A
	// violated fact ends the run with an error: a fact that does not hold
	// at run time is a bug in the lifter or the verifier that passes would
	// turn into wrong code.
	CheckFacts bool
	PtrFacts   func(fa *Facts, x, fp uint64) error
	// StackTop is the address of the top of the first frame; each call
	// gets the next FrameSize bytes below.
	StackTop uint64
	// MaxSteps bounds the instructions executed (0: 1<<24), so that a
	// looping program ends with an error.
	MaxSteps int

	steps int
	depth int
}

// FrameSize is the stack of one eBPF function (MAX_BPF_STACK).
const FrameSize = 512

// Memory is the address space a Machine loads from and stores to.
type Memory interface {
	Load(addr uint64, size int) (uint64, error)
	Store(addr uint64, size int, v uint64) error
}

// ErrPacketEnd, returned by a PktLoad hook, ends the whole program with
// r0 = 0, as a legacy packet load outside the packet does in eBPF.
var ErrPacketEnd = errors.New("legacy packet load outside the packet")

// ErrUnsupported is returned for ops the Machine does not model (map
// references, context pointers, legacy packet loads).
var ErrUnsupported = errors.New("not modelled by ir.Machine")

// Run calls the named function with args and returns its result.
func (m *Machine) Run(name string, args ...uint64) (uint64, error) {
	f := m.Module.Lookup(name)
	if f == nil {
		return 0, fmt.Errorf("no function %s", name)
	}
	if m.MaxSteps == 0 {
		m.MaxSteps = 1 << 24
	}
	r, err := m.call(f, args)
	if errors.Is(err, ErrPacketEnd) {
		return 0, nil
	}
	return r, err
}

func (m *Machine) call(f *Func, args []uint64) (uint64, error) {
	entry := f.Entry()
	if entry == nil || len(args) != len(entry.Params) {
		return 0, fmt.Errorf("%s takes %d arguments, got %d", f.Name, len(entry.Params), len(args))
	}
	if m.depth >= 8 {
		return 0, errors.New("call depth over 8")
	}
	m.depth++
	defer func() { m.depth-- }()
	fp := m.StackTop - uint64(m.depth-1)*FrameSize
	vals := make([]uint64, f.NumValues())
	for i, p := range entry.Params {
		vals[p.ID] = args[i]
		if err := m.check(f, p, args[i], fp); err != nil {
			return 0, err
		}
	}
	b := entry
	for {
		var next *Target
		for _, v := range b.Instrs {
			m.steps++
			if m.steps > m.MaxSteps {
				return 0, fmt.Errorf("more than %d steps", m.MaxSteps)
			}
			info := v.Op.Info()
			switch info.Fmt {
			case FmtJump:
				next = &v.Targets[0]
			case FmtBranch:
				a, c := vals[v.Args[0].ID], vals[v.Args[1].ID]
				if compare(v.Op-OpJeq32+OpEq32, a, c) != 0 {
					next = &v.Targets[0]
				} else {
					next = &v.Targets[1]
				}
			default:
				if v.Op == OpRet {
					return vals[v.Args[0].ID], nil
				}
				if v.Op == OpUnreachable {
					return 0, fmt.Errorf("%s: b%d: reached unreachable", f.Name, b.ID)
				}
				r, err := m.exec(f, v, vals, fp)
				if err != nil {
					return 0, fmt.Errorf("%s: %s: %w", f.Name, v.LongString(), err)
				}
				if v.Type == I32 {
					r &= math.MaxUint32
				}
				vals[v.ID] = r
				if err := m.check(f, v, r, fp); err != nil {
					return 0, err
				}
			}
		}
		if next == nil {
			return 0, fmt.Errorf("%s: b%d has no terminator", f.Name, b.ID)
		}
		// Block arguments bind all at once (a parallel copy).
		in := make([]uint64, len(next.Args))
		for i, a := range next.Args {
			in[i] = vals[a.ID]
		}
		for i, p := range next.Block.Params {
			vals[p.ID] = in[i]
			if err := m.check(f, p, in[i], fp); err != nil {
				return 0, err
			}
		}
		b = next.Block
	}
}

// check verifies v's facts against its value x.
func (m *Machine) check(f *Func, v *Value, x, fp uint64) error {
	if !m.CheckFacts {
		return nil
	}
	fa := f.Facts[v.ID]
	if fa.Empty() {
		return nil
	}
	var err error
	if fa.Ptr != nil || fa.Map != nil || len(fa.Le) > 0 {
		if m.PtrFacts != nil {
			err = m.PtrFacts(fa, x, fp)
		}
	} else {
		err = fa.holds(x)
	}
	if err != nil {
		return fmt.Errorf("%s: %s = %#x: fact violated: %w", f.Name, v.LongString(), x, err)
	}
	return nil
}

func (m *Machine) exec(f *Func, v *Value, vals []uint64, fp uint64) (uint64, error) {
	arg := func(i int) uint64 { return vals[v.Args[i].ID] }
	switch v.Op {
	case OpConst:
		return uint64(v.Imm), nil
	case OpUndef:
		return 0, nil
	case OpFP:
		return fp, nil
	case OpTrunc, OpZext, OpSext, OpSext8, OpSext16, OpBswap16, OpBswap32, OpBswap64, OpNeg32, OpNeg64:
		r, _ := unary(v.Op, arg(0))
		return r, nil
	case OpMapRef:
		if m.MapRef != nil {
			return m.MapRef(v.Imm)
		}
	case OpMapValue:
		if m.MapValue != nil {
			return m.MapValue(v.Imm, v.Imm2)
		}
	case OpCtxPtr:
		if m.CtxPtr != nil {
			return m.CtxPtr(arg(0) + uint64(v.Imm))
		}
	case OpPktLoad8, OpPktLoad16, OpPktLoad32:
		if m.PktLoad != nil {
			return m.PktLoad(arg(0), arg(1), v.Op.Info().Size)
		}
	case OpCall:
		if m.Helper == nil {
			return 0, fmt.Errorf("helper %d: %w", v.Imm, ErrUnsupported)
		}
		args := make([]uint64, len(v.Args))
		for i := range args {
			args[i] = arg(i)
		}
		return m.Helper(v.Imm, args)
	case OpCallFn:
		callee := m.Module.Lookup(v.Sym)
		if callee == nil {
			return 0, fmt.Errorf("no function %s", v.Sym)
		}
		args := make([]uint64, len(v.Args))
		for i := range args {
			args[i] = arg(i)
		}
		return m.call(callee, args)
	}
	info := v.Op.Info()
	if (info.ReadsMem || info.WritesMem) && m.Mem == nil {
		return 0, fmt.Errorf("%s without a Memory: %w", info.Name, ErrUnsupported)
	}
	switch {
	case v.Op >= OpAdd32 && v.Op <= OpArsh64:
		return alu(v.Op, arg(0), arg(1)), nil
	case v.Op >= OpEq32 && v.Op <= OpSet64:
		return compare(v.Op, arg(0), arg(1)), nil
	case info.Fmt == FmtLoad && v.Op != OpCtxPtr:
		x, err := m.Mem.Load(arg(0)+uint64(v.Imm), info.Size)
		if err != nil || !info.Signed {
			return x, err
		}
		shift := 64 - 8*info.Size
		return uint64(int64(x<<shift) >> shift), nil
	case info.Fmt == FmtStore && !info.Fetch && v.Op <= OpStore64:
		return 0, m.Mem.Store(arg(0)+uint64(v.Imm), info.Size, arg(1))
	case info.Fmt == FmtStore:
		return m.atomic(v, arg)
	}
	return 0, fmt.Errorf("%s: %w", info.Name, ErrUnsupported)
}

// atomicALU maps each atomic op to the ALU op it applies (32-bit form).
var atomicALU = map[Op]Op{
	OpAtomicAdd32: OpAdd32, OpAtomicOr32: OpOr32, OpAtomicAnd32: OpAnd32, OpAtomicXor32: OpXor32,
	OpAtomicFetchAdd32: OpAdd32, OpAtomicFetchOr32: OpOr32, OpAtomicFetchAnd32: OpAnd32, OpAtomicFetchXor32: OpXor32,
}

func (m *Machine) atomic(v *Value, arg func(int) uint64) (uint64, error) {
	info := v.Op.Info()
	addr := arg(0) + uint64(v.Imm)
	old, err := m.Mem.Load(addr, info.Size)
	if err != nil {
		return 0, err
	}
	base := v.Op
	wide := info.Size == 8
	if wide {
		base-- // the 32-bit op precedes the 64-bit one in the table
	}
	var nv uint64
	switch base {
	case OpXchg32:
		nv = arg(1)
	case OpCmpxchg32:
		nv = old
		if old == arg(1) {
			nv = arg(2)
		}
	default:
		op, ok := atomicALU[base]
		if !ok {
			return 0, fmt.Errorf("%s: %w", info.Name, ErrUnsupported)
		}
		if wide {
			op++
		}
		nv = alu(op, old, arg(1))
	}
	if err := m.Mem.Store(addr, info.Size, nv); err != nil {
		return 0, err
	}
	return old, nil
}

// unary computes a conversion, byte swap or negation.
func unary(op Op, a uint64) (uint64, bool) {
	switch op {
	case OpTrunc:
		return a & math.MaxUint32, true
	case OpZext:
		return a, true
	case OpSext:
		return uint64(int64(int32(a))), true
	case OpSext8:
		return uint64(int64(int8(a))), true
	case OpSext16:
		return uint64(int64(int16(a))), true
	case OpBswap16:
		return uint64(bits.ReverseBytes16(uint16(a))), true
	case OpBswap32:
		return uint64(bits.ReverseBytes32(uint32(a))), true
	case OpBswap64:
		return bits.ReverseBytes64(a), true
	case OpNeg32:
		return uint64(-uint32(a)), true
	case OpNeg64:
		return -a, true
	}
	return 0, false
}

// Fold computes a pure op (conversion, byte swap, negation, binary ALU op
// or compare) on constant operands with the executor's semantics — the one
// implementation of RFC 9669 arithmetic that constant folding in passes
// uses too. The result is masked to the op's result type (an i32 is
// zero-extended); ok is false for ops that are not pure computations or a
// wrong operand count.
func Fold(op Op, args ...uint64) (r uint64, ok bool) {
	switch {
	case len(args) == 1:
		r, ok = unary(op, args[0])
	case len(args) == 2 && op >= OpAdd32 && op <= OpArsh64:
		r, ok = alu(op, args[0], args[1]), true
	case len(args) == 2 && op >= OpEq32 && op <= OpSet64:
		r, ok = compare(op, args[0], args[1]), true
	}
	if ok && op.Info().Result == I32 {
		r &= math.MaxUint32
	}
	return r, ok
}

// FoldBranch decides a conditional branch (OpJeq32 … OpJset64) on constant
// operands: true when the taken target is chosen.
func FoldBranch(op Op, a, b uint64) bool {
	return compare(op-OpJeq32+OpEq32, a, b) != 0
}

// alu computes a binary ALU op; 32-bit ops use the low halves and give a
// zero-extended result.
func alu(op Op, a, b uint64) uint64 {
	if (op-OpAdd32)%2 == 0 { // 32-bit
		x, y := uint32(a), uint32(b)
		var r uint32
		switch op {
		case OpAdd32:
			r = x + y
		case OpSub32:
			r = x - y
		case OpMul32:
			r = x * y
		case OpDiv32:
			if y != 0 {
				r = x / y
			}
		case OpSdiv32:
			if y != 0 {
				r = uint32(int32(x) / int32(y))
			}
		case OpMod32:
			r = x
			if y != 0 {
				r = x % y
			}
		case OpSmod32:
			r = x
			if y != 0 {
				r = uint32(int32(x) % int32(y))
			}
		case OpOr32:
			r = x | y
		case OpAnd32:
			r = x & y
		case OpXor32:
			r = x ^ y
		case OpLsh32:
			r = x << (y & 31)
		case OpRsh32:
			r = x >> (y & 31)
		case OpArsh32:
			r = uint32(int32(x) >> (y & 31))
		}
		return uint64(r)
	}
	switch op {
	case OpAdd64:
		return a + b
	case OpSub64:
		return a - b
	case OpMul64:
		return a * b
	case OpDiv64:
		if b == 0 {
			return 0
		}
		return a / b
	case OpSdiv64:
		if b == 0 {
			return 0
		}
		return uint64(int64(a) / int64(b))
	case OpMod64:
		if b == 0 {
			return a
		}
		return a % b
	case OpSmod64:
		if b == 0 {
			return a
		}
		return uint64(int64(a) % int64(b))
	case OpOr64:
		return a | b
	case OpAnd64:
		return a & b
	case OpXor64:
		return a ^ b
	case OpLsh64:
		return a << (b & 63)
	case OpRsh64:
		return a >> (b & 63)
	case OpArsh64:
		return uint64(int64(a) >> (b & 63))
	}
	panic("BUG: alu on " + op.String())
}

// compare evaluates a compare op (OpEq32 … OpSet64) to 0 or 1.
func compare(op Op, a, b uint64) uint64 {
	if (op-OpEq32)%2 == 0 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
		if op >= OpSgt32 && op <= OpSle64 {
			a, b = uint64(int64(int32(a))), uint64(int64(int32(b)))
		}
		op++ // evaluate on the widened values as the 64-bit op
	}
	var r bool
	switch op {
	case OpEq64:
		r = a == b
	case OpNe64:
		r = a != b
	case OpGt64:
		r = a > b
	case OpGe64:
		r = a >= b
	case OpLt64:
		r = a < b
	case OpLe64:
		r = a <= b
	case OpSgt64:
		r = int64(a) > int64(b)
	case OpSge64:
		r = int64(a) >= int64(b)
	case OpSlt64:
		r = int64(a) < int64(b)
	case OpSle64:
		r = int64(a) <= int64(b)
	case OpSet64:
		r = a&b != 0
	}
	if r {
		return 1
	}
	return 0
}
