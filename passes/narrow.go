package passes

import "github.com/nfpcc/nfpcc/ir"

// narrow does 64-bit work in 32 bits where the upper halves cannot matter
// (demanded bits, in the spirit of LLVM's DemandedBits, for the two shapes
// eBPF code produces):
//
//   - a 64-bit compare (branch or value) of two sign-extended 32-bit values
//     (a constant counts when it is one) is the 32-bit compare with the same
//     condition: sext preserves order, signed and unsigned; of two
//     zero-extended values, the unsigned 32-bit compare (also for signed
//     conditions: both are non-negative); jset of an extended value with a
//     mask whose upper half is zero (or, for zext, any mask) tests 32 bits;
//
//   - a 64-bit add, sub, mul, and, or, xor (or a shift left by a constant
//     below 32) whose only users are truncs: each trunc becomes the 32-bit
//     op of the operands' low halves, and the 64-bit op dies.
//
//   - an AND before a shift by a constant that clears only bits the shift
//     discards is dropped (shiftMask).
//
// Remarks: each narrowed compare and operation.
func narrow(u *Unit) {
	f := u.f
	users := uses(f)
	for _, b := range f.Blocks {
		for i := 0; i < len(b.Instrs); i++ {
			v := b.Instrs[i]
			if n := extIdiom(f, b, i, v); n > 0 {
				u.remark(v, "shift pair is %s", describeExt(v))
				i += n - 1
				continue
			}
			if shiftMask(f, v) {
				u.remark(v, "the AND before the shift clears only bits it discards: dropped")
				continue
			}
			if n := maskNarrow(f, b, i, v, users); n > 0 {
				u.remark(v, "and64 with a 32-bit mask as zext(and32) of the low halves")
				i += n - 1
				continue
			}
			isCmp := (v.Op >= ir.OpEq32 && v.Op <= ir.OpSet64) || v.Op.IsBranch()
			if isCmp && wideCmp(v.Op) {
				n := narrowCompare(f, b, i, v)
				if n > 0 {
					if v.Op.IsBranch() {
						u.remark(nil, "b%d: 64-bit branch on extended 32-bit values as %s", b.ID, v.Op)
					} else {
						u.remark(v, "64-bit compare of extended 32-bit values as %s", v.Op)
					}
					i += n
				}
				continue
			}
			if v.Op != ir.OpTrunc {
				continue
			}
			x := v.Args[0]
			op32, ok := narrowOps[x.Op]
			if !ok || x.Block == nil {
				continue
			}
			if x.Op == ir.OpLsh64 {
				if c, isC := isConst(x.Args[1]); !isC || c >= 32 {
					continue
				}
			}
			onlyTrunc := true
			for _, w := range users.of(x) {
				if w.Op != ir.OpTrunc {
					onlyTrunc = false
				}
			}
			if !onlyTrunc {
				continue
			}
			var ins []*ir.Value
			a := low(f, x.Args[0], &ins)
			c := low(f, x.Args[1], &ins)
			for j, nv := range ins {
				nv.Pos = x.Pos
				b.InsertBefore(i+j, nv)
			}
			i += len(ins)
			v.Op, v.Args, v.Pos = op32, []*ir.Value{a, c}, x.Pos
			u.remark(v, "%s only read through trunc: %s", x.Op, op32)
		}
	}
}

var narrowOps = map[ir.Op]ir.Op{
	ir.OpAdd64: ir.OpAdd32, ir.OpSub64: ir.OpSub32, ir.OpMul64: ir.OpMul32,
	ir.OpAnd64: ir.OpAnd32, ir.OpOr64: ir.OpOr32, ir.OpXor64: ir.OpXor32, ir.OpLsh64: ir.OpLsh32,
}

// low is the low half of the i64 v as an i32: the operand of a zext or
// sext, a constant, or a new trunc (appended to ins).
func low(f *ir.Func, v *ir.Value, ins *[]*ir.Value) *ir.Value {
	switch v.Op {
	case ir.OpZext, ir.OpSext:
		return v.Args[0]
	case ir.OpConst:
		c := newConst(f, ir.I32, uint64(v.Imm), v.Pos)
		*ins = append(*ins, c)
		return c
	}
	t := f.NewValue(ir.OpTrunc, ir.I32, v)
	*ins = append(*ins, t)
	return t
}

// ext says how an i64 operand is extended from 32 bits: 's' for sext (or
// a constant that is its own sign extension), 'z' for zext (or a constant
// below 2^32), 'b' for a constant that is both, 0 otherwise.
func ext(v *ir.Value) byte {
	switch v.Op {
	case ir.OpSext:
		return 's'
	case ir.OpZext:
		return 'z'
	case ir.OpConst:
		c := v.Imm
		s := int64(int32(c)) == c
		z := c >= 0 && c < 1<<32
		switch {
		case s && z:
			return 'b'
		case s:
			return 's'
		case z:
			return 'z'
		}
	}
	return 0
}

// narrowCompare rewrites the 64-bit compare v (at b.Instrs[i]) to 32 bits
// when its operands allow, returning how many instructions it inserted
// before v plus one, or 0 when it did not.
func narrowCompare(f *ir.Func, b *ir.Block, i int, v *ir.Value) int {
	x, y := v.Args[0], v.Args[1]
	ex, ey := ext(x), ext(y)
	if ex == 0 || ey == 0 || (ex == 'b' && ey == 'b') {
		return 0 // two constants are sccp's
	}
	kind := byte(0)
	switch {
	case (ex == 's' || ex == 'b') && (ey == 's' || ey == 'b'):
		kind = 's'
	case (ex == 'z' || ex == 'b') && (ey == 'z' || ey == 'b'):
		kind = 'z'
	default:
		return 0
	}
	base := branchCompare(v.Op) // the value-compare row, 64-bit
	if !v.Op.IsBranch() {
		base = v.Op
	}
	base-- // the 32-bit row
	op32 := base
	switch {
	case base == ir.OpSet32:
		if kind == 's' {
			// The upper half of sext x copies bit 31: a mask with upper
			// bits is only safe when it is a constant of the zext kind.
			for _, a := range []*ir.Value{x, y} {
				if a.Op == ir.OpConst && a.Imm>>32 != 0 {
					return 0
				}
			}
		}
	case kind == 'z' && base >= ir.OpSgt32 && base <= ir.OpSle32:
		op32 = base - ir.OpSgt32 + ir.OpGt32 // both non-negative
	}
	var ins []*ir.Value
	a := low(f, x, &ins)
	c := low(f, y, &ins)
	for j, nv := range ins {
		nv.Pos = v.Pos
		b.InsertBefore(i+j, nv)
	}
	if v.Op.IsBranch() {
		v.Op = op32 - ir.OpEq32 + ir.OpJeq32
	} else {
		v.Op = op32
	}
	v.Args = []*ir.Value{a, c}
	return len(ins) + 1
}

// extIdiom rewrites the shift pairs compilers use to extend: arsh64
// (lsh64 (zext x), k), k for k = 56, 48, 32 is sext(sext8 x), sext(sext16 x),
// sext x; rsh64 (lsh64 y, 32), 32 is zext(trunc y). v keeps its identity
// (and facts: the value is the same). It returns how many instructions
// now stand from index i up to and including v, or 0.
func extIdiom(f *ir.Func, b *ir.Block, i int, v *ir.Value) int {
	if v.Op != ir.OpArsh64 && v.Op != ir.OpRsh64 {
		return 0
	}
	k, ok := isConst(v.Args[1])
	sh := v.Args[0]
	if !ok || sh.Op != ir.OpLsh64 {
		return 0
	}
	k2, ok := isConst(sh.Args[1])
	if !ok || k2 != k {
		return 0
	}
	y := sh.Args[0]
	if v.Op == ir.OpRsh64 {
		if k != 32 {
			return 0
		}
		t := f.NewValue(ir.OpTrunc, ir.I32, y)
		t.Pos = v.Pos
		b.InsertBefore(i, t)
		v.Op, v.Args = ir.OpZext, []*ir.Value{t}
		return 2
	}
	if y.Op != ir.OpZext {
		return 0
	}
	x := y.Args[0]
	switch k {
	case 32:
		v.Op, v.Args = ir.OpSext, []*ir.Value{x}
		return 1
	case 48, 56:
		op := ir.OpSext8
		if k == 48 {
			op = ir.OpSext16
		}
		s := f.NewValue(op, ir.I32, x)
		s.Pos = v.Pos
		b.InsertBefore(i, s)
		v.Op, v.Args = ir.OpSext, []*ir.Value{s}
		return 2
	}
	return 0
}

func describeExt(v *ir.Value) string {
	if v.Op == ir.OpZext {
		return "zext(trunc)"
	}
	if a := v.Args[0]; a.Op == ir.OpSext8 || a.Op == ir.OpSext16 {
		return "sext(" + a.Op.String() + ")"
	}
	return "sext"
}

// maskNarrow rewrites and64 x, c with c < 2^32 as zext(and32 (low x), c)
// when the low half of x is cheaper than x itself (x is an extension, a
// narrowable op, or is used only here). It returns how many instructions
// now stand from index i up to and including v, or 0.
func maskNarrow(f *ir.Func, b *ir.Block, i int, v *ir.Value, users useList) int {
	if v.Op != ir.OpAnd64 {
		return 0
	}
	c, ok := isConst(v.Args[1])
	x := v.Args[0]
	if !ok || c>>32 != 0 {
		return 0
	}
	switch x.Op {
	case ir.OpZext, ir.OpSext:
	default:
		_, narrowable := narrowOps[x.Op]
		if !narrowable || len(users.of(x)) != 1 || (x.Op == ir.OpLsh64 && !smallShift(x)) {
			return 0
		}
	}
	var ins []*ir.Value
	var lx *ir.Value
	if x.Op == ir.OpZext || x.Op == ir.OpSext {
		lx = x.Args[0]
	} else {
		a := low(f, x.Args[0], &ins)
		d := low(f, x.Args[1], &ins)
		op := f.NewValue(narrowOps[x.Op], ir.I32, a, d)
		ins = append(ins, op)
		lx = op
	}
	k := newConst(f, ir.I32, c, v.Pos)
	and := f.NewValue(ir.OpAnd32, ir.I32, lx, k)
	ins = append(ins, k, and)
	for j, nv := range ins {
		nv.Pos = v.Pos
		b.InsertBefore(i+j, nv)
	}
	v.Op, v.Args = ir.OpZext, []*ir.Value{and}
	return len(ins) + 1
}

func smallShift(x *ir.Value) bool {
	c, ok := isConst(x.Args[1])
	return ok && c < 32
}

// possibleBits are the bits v may have set: all of its type's, fewer where
// the facts bound it (a tnum's value and unknown bits, an unsigned maximum).
func possibleBits(f *ir.Func, v *ir.Value) uint64 {
	bits := mask(v.Type)
	if c, ok := isConst(v); ok {
		return c
	}
	fa := f.Facts[v.ID]
	if fa == nil || fa.Ptr != nil {
		return bits
	}
	if t := fa.Tnum; t != nil {
		bits &= t.Value | t.Mask
	}
	var max uint64
	switch {
	case v.Type == ir.I64 && fa.U64 != nil:
		max = fa.U64.Max
	case v.Type == ir.I32 && fa.U32 != nil:
		max = fa.U32.Max
	default:
		return bits
	}
	if max < 1<<63 {
		n := uint64(1)
		for n <= max {
			n <<= 1
		}
		bits &= n - 1
	}
	return bits
}

// shiftMask drops an AND the shift after it makes pointless: (x & c) >> n
// when c keeps every bit of x that may be set at or above n, and
// (x & c) << n when c keeps every bit that may be set below width − n: the
// shift discards what the AND clears (count-min's (h & 0xfffff000) >> 12).
// The shift reads x itself; the AND dies if nothing else reads it. It
// returns whether v changed.
func shiftMask(f *ir.Func, v *ir.Value) bool {
	var width uint64
	switch v.Op {
	case ir.OpRsh32, ir.OpLsh32:
		width = 32
	case ir.OpRsh64, ir.OpLsh64:
		width = 64
	default:
		return false
	}
	n, ok := isConst(v.Args[1])
	a := v.Args[0]
	if !ok || n == 0 || n >= width || (a.Op != ir.OpAnd32 && a.Op != ir.OpAnd64) {
		return false
	}
	x, c := a.Args[0], a.Args[1]
	cv, ok := isConst(c)
	if !ok {
		if cv, ok = isConst(x); !ok {
			return false
		}
		x = c
	}
	keep := possibleBits(f, x) // the bits of x the shift lets through
	if v.Op == ir.OpRsh32 || v.Op == ir.OpRsh64 {
		keep &^= 1<<n - 1
	} else {
		keep &= 1<<(width-n) - 1
	}
	if keep&^cv != 0 || x.Type != v.Type {
		return false
	}
	v.Args[0] = x
	return true
}
