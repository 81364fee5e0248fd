package verifier

import (
	"math"
	"math/bits"

	"github.com/cilium/ebpf/asm"
)

// evalALU computes one ALU operation on concrete values with RFC 9669
// semantics (division by zero gives 0, modulo by zero leaves the dividend,
// shift counts are masked). Constant folding uses it, so folded constants
// agree with the interpreters bit for bit.
func evalALU(op asm.ALUOp, a, b uint64, is32 bool) uint64 {
	signed := op == asm.SDiv || op == asm.SMod
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
	}
	var r uint64
	switch op {
	case asm.Add:
		r = a + b
	case asm.Sub:
		r = a - b
	case asm.Mul:
		r = a * b
	case asm.Div, asm.SDiv:
		switch {
		case b == 0:
			r = 0
		case signed && is32:
			if int32(a) == math.MinInt32 && int32(b) == -1 {
				r = uint64(uint32(a))
			} else {
				r = uint64(uint32(int32(a) / int32(b)))
			}
		case signed:
			if int64(a) == math.MinInt64 && int64(b) == -1 {
				r = a
			} else {
				r = uint64(int64(a) / int64(b))
			}
		default:
			r = a / b
		}
	case asm.Mod, asm.SMod:
		switch {
		case b == 0:
			r = a
		case signed && is32:
			if int32(b) == -1 {
				r = 0
			} else {
				r = uint64(uint32(int32(a) % int32(b)))
			}
		case signed:
			if int64(b) == -1 {
				r = 0
			} else {
				r = uint64(int64(a) % int64(b))
			}
		default:
			r = a % b
		}
	case asm.Or:
		r = a | b
	case asm.And:
		r = a & b
	case asm.Xor:
		r = a ^ b
	case asm.LSh:
		if is32 {
			r = uint64(uint32(a) << (b & 31))
		} else {
			r = a << (b & 63)
		}
	case asm.RSh:
		if is32 {
			r = uint64(uint32(a) >> (b & 31))
		} else {
			r = a >> (b & 63)
		}
	case asm.ArSh:
		if is32 {
			r = uint64(uint32(int32(uint32(a)) >> (b & 31)))
		} else {
			r = uint64(int64(a) >> (b & 63))
		}
	case asm.Neg:
		r = -a
	case asm.Mov:
		r = b
	}
	if is32 {
		r = uint64(uint32(r))
	}
	return r
}

// scalarALU is the abstract transfer function of a binary ALU operation on
// two scalars. 32-bit operations run on the zero- (or, for signed
// operations, sign-) extended low halves and truncate the result, which is
// exact for every operation because the low 32 bits of a result depend only
// on the low 32 bits of the operands.
//
// An operand that holds no value (a contradictory state, on a path that
// cannot run) gives a result that holds none either, so the transfer
// functions below may assume non-empty ranges (a divisor's UMax ≥ UMin).
func scalarALU(op asm.ALUOp, d, s Scalar, is32 bool) Scalar {
	if d.Empty() || s.Empty() {
		return emptyScalar()
	}
	if d.IsConst() && s.IsConst() || op == asm.Neg && d.IsConst() {
		return Const(evalALU(op, d.ConstValue(), s.ConstValue(), is32))
	}
	if is32 {
		signed := op == asm.ArSh || op == asm.SDiv || op == asm.SMod
		if signed {
			d, s = d.sext32(), s.sext32()
		} else {
			d, s = d.zext32(), s.zext32()
		}
		if op == asm.LSh || op == asm.RSh || op == asm.ArSh {
			s = maskShift(s, 31)
			if op == asm.ArSh && s.IsConst() {
				r := d
				r.Var = d.Var.Arsh(uint8(s.ConstValue()))
				r.SMin, r.SMax = d.SMin>>s.ConstValue(), d.SMax>>s.ConstValue()
				r.UMin, r.UMax = 0, math.MaxUint64
				r.S32Min, r.S32Max, r.U32Min, r.U32Max = math.MinInt32, math.MaxInt32, 0, math.MaxUint32
				r.sync()
				return r.zext32()
			}
		}
		return scalarALU64(op, d, s).zext32()
	}
	if op == asm.LSh || op == asm.RSh || op == asm.ArSh {
		s = maskShift(s, 63)
	}
	return scalarALU64(op, d, s)
}

// maskShift applies the run-time masking of shift counts: a count known to
// be in range stays, anything else may be any count.
func maskShift(s Scalar, mask uint64) Scalar {
	if s.UMax <= mask {
		return s
	}
	if s.IsConst() {
		return Const(s.ConstValue() & mask)
	}
	return URange(0, mask)
}

func scalarALU64(op asm.ALUOp, d, s Scalar) Scalar {
	if d.Empty() || s.Empty() {
		return emptyScalar()
	}
	r := Unknown()
	switch op {
	case asm.Add:
		r.Var = d.Var.Add(s.Var)
		if sm, o1 := addOverflows(d.SMin, s.SMin); !o1 {
			if sx, o2 := addOverflows(d.SMax, s.SMax); !o2 {
				r.SMin, r.SMax = sm, sx
			}
		}
		if lo, c1 := bits.Add64(d.UMin, s.UMin, 0); c1 == 0 {
			if hi, c2 := bits.Add64(d.UMax, s.UMax, 0); c2 == 0 {
				r.UMin, r.UMax = lo, hi
			}
		}
	case asm.Sub:
		r.Var = d.Var.Sub(s.Var)
		if sm, o1 := subOverflows(d.SMin, s.SMax); !o1 {
			if sx, o2 := subOverflows(d.SMax, s.SMin); !o2 {
				r.SMin, r.SMax = sm, sx
			}
		}
		if d.UMin >= s.UMax {
			r.UMin, r.UMax = d.UMin-s.UMax, d.UMax-s.UMin
		}
	case asm.Mul:
		r.Var = d.Var.Mul(s.Var)
		if hi, lo := bits.Mul64(d.UMax, s.UMax); hi == 0 {
			r.UMin, r.UMax = d.UMin*s.UMin, lo
		}
		if d.SMin >= 0 && s.SMin >= 0 && r.UMax <= math.MaxInt64 && r.UMax != math.MaxUint64 {
			r.SMin, r.SMax = int64(r.UMin), int64(r.UMax)
		}
	case asm.SDiv:
		if s.IsConst() && int64(s.ConstValue()) > 0 {
			c := int64(s.ConstValue())
			r.SMin, r.SMax = d.SMin/c, d.SMax/c
		}
	case asm.Div:
		// x/0 = 0: a divisor range that holds 0 lets 0 through.
		r.UMin, r.UMax = 0, d.UMax/max(s.UMin, 1)
		if s.UMin > 0 {
			r.UMin = d.UMin / max(s.UMax, 1)
		}
	case asm.SMod:
		if s.IsConst() && s.ConstValue() != 0 && int64(s.ConstValue()) != math.MinInt64 {
			c := int64(s.ConstValue())
			if c < 0 {
				c = -c
			}
			if d.SMin >= 0 {
				r.SMin, r.SMax = 0, min(d.SMax, c-1)
			} else {
				r.SMin, r.SMax = -(c - 1), c-1
			}
		}
	case asm.Mod:
		if s.UMin > 0 && s.UMax > 0 {
			r.UMin, r.UMax = 0, min(d.UMax, s.UMax-1)
		} else { // the divisor may be zero: the dividend may come through
			r.UMin, r.UMax = 0, d.UMax
		}
	case asm.And:
		r.Var = d.Var.And(s.Var)
		r.UMin, r.UMax = r.Var.Value, min(d.UMax, s.UMax)
		if d.SMin >= 0 || s.SMin >= 0 {
			r.SMin, r.SMax = 0, int64(min(uint64(math.MaxInt64), r.UMax))
			if d.SMin >= 0 && s.SMin < 0 {
				r.SMax = min(r.SMax, d.SMax)
			} else if s.SMin >= 0 && d.SMin < 0 {
				r.SMax = min(r.SMax, s.SMax)
			}
		}
	case asm.Or:
		r.Var = d.Var.Or(s.Var)
		r.UMin, r.UMax = max(d.UMin, s.UMin), r.Var.Max()
		if d.SMin >= 0 && s.SMin >= 0 {
			r.SMin, r.SMax = int64(r.UMin), int64(r.UMax)
		}
	case asm.Xor:
		r.Var = d.Var.Xor(s.Var)
		r.UMin, r.UMax = r.Var.Value, r.Var.Max()
		if d.SMin >= 0 && s.SMin >= 0 {
			r.SMin, r.SMax = int64(r.UMin), int64(r.UMax)
		}
	case asm.LSh:
		if s.IsConst() {
			k := s.ConstValue()
			r.Var = d.Var.Lsh(uint8(k))
			if d.UMax <= math.MaxUint64>>k {
				r.UMin, r.UMax = d.UMin<<k, d.UMax<<k
			}
		} else if d.UMax <= math.MaxUint64>>s.UMax {
			r.UMin, r.UMax = d.UMin<<s.UMin, d.UMax<<s.UMax
		}
	case asm.RSh:
		if s.IsConst() {
			k := s.ConstValue()
			r.Var = d.Var.Rsh(uint8(k))
			r.UMin, r.UMax = d.UMin>>k, d.UMax>>k
		} else {
			r.UMin, r.UMax = d.UMin>>s.UMax, d.UMax>>s.UMin
		}
	case asm.ArSh:
		if s.IsConst() {
			k := s.ConstValue()
			r.Var = d.Var.Arsh(uint8(k))
			r.SMin, r.SMax = d.SMin>>k, d.SMax>>k
		} else {
			r.SMin, r.SMax = min(d.SMin, d.SMin>>s.UMax), max(d.SMax, d.SMax>>s.UMax)
		}
	case asm.Mov:
		return s
	case asm.Neg:
		return scalarALU64(asm.Sub, Const(0), d)
	}
	r.sync()
	return r
}

func addOverflows(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) != (b > 0)
}

func subOverflows(a, b int64) (int64, bool) {
	c := a - b
	return c, (c < a) != (b > 0)
}

// byteSwap is the transfer function of END / BSWAP: to little-endian on a
// little-endian machine only truncates; a swap keeps constants exact and
// otherwise knows only the width.
func byteSwap(d Scalar, size int, swap bool) Scalar {
	if !swap {
		return d.truncate(uint8(size / 8))
	}
	if d.IsConst() {
		v := d.ConstValue()
		switch size {
		case 16:
			return Const(uint64(bits.ReverseBytes16(uint16(v))))
		case 32:
			return Const(uint64(bits.ReverseBytes32(uint32(v))))
		default:
			return Const(bits.ReverseBytes64(v))
		}
	}
	if size == 64 {
		return Unknown()
	}
	return URange(0, uint64(1)<<size-1)
}
