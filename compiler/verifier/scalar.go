package verifier

import (
	"fmt"
	"math"
	"strings"
)

// Scalar is an abstract 64-bit value: a tnum and four ranges (signed and
// unsigned, 64 and 32 bits), kept mutually consistent by sync. It is the
// value of a scalar register and the variable part of a pointer's offset.
// The domain is the Linux verifier's (struct bpf_reg_state's var_off and
// bounds): every concrete value v the register may hold satisfies all of
// Var.Has(v), SMin ≤ int64(v) ≤ SMax, UMin ≤ v ≤ UMax and the same for the
// low 32 bits.
type Scalar struct {
	Var            Tnum
	SMin, SMax     int64
	UMin, UMax     uint64
	S32Min, S32Max int32
	U32Min, U32Max uint32
}

// Unknown is the scalar that may hold any value.
func Unknown() Scalar {
	return Scalar{Var: TnumUnknown, SMin: math.MinInt64, SMax: math.MaxInt64, UMax: math.MaxUint64,
		S32Min: math.MinInt32, S32Max: math.MaxInt32, U32Max: math.MaxUint32}
}

// Const is the scalar holding exactly v.
func Const(v uint64) Scalar {
	return Scalar{Var: TnumConst(v), SMin: int64(v), SMax: int64(v), UMin: v, UMax: v,
		S32Min: int32(v), S32Max: int32(v), U32Min: uint32(v), U32Max: uint32(v)}
}

// URange is any value in [lo, hi] (unsigned).
func URange(lo, hi uint64) Scalar {
	s := Unknown()
	s.UMin, s.UMax = lo, hi
	s.sync()
	return s
}

// SRange is any value in [lo, hi] (signed).
func SRange(lo, hi int64) Scalar {
	s := Unknown()
	s.SMin, s.SMax = lo, hi
	s.sync()
	return s
}

// IsConst reports whether s holds one known value.
func (s Scalar) IsConst() bool { return s.Var.IsConst() }

// ConstValue is the value of a constant scalar.
func (s Scalar) ConstValue() uint64 { return s.Var.Value }

// Sub32IsConst reports whether the low 32 bits are known.
func (s Scalar) Sub32IsConst() bool { return s.Var.Subreg().IsConst() }

// Contains reports whether every value of t is a value of s.
func (s Scalar) Contains(t Scalar) bool {
	return s.Var.Contains(t.Var) && s.SMin <= t.SMin && t.SMax <= s.SMax && s.UMin <= t.UMin && t.UMax <= s.UMax &&
		s.S32Min <= t.S32Min && t.S32Max <= s.S32Max && s.U32Min <= t.U32Min && t.U32Max <= s.U32Max
}

// Join is the least scalar containing both.
func (s Scalar) Join(t Scalar) Scalar {
	r := Scalar{Var: s.Var.Union(t.Var),
		SMin: min(s.SMin, t.SMin), SMax: max(s.SMax, t.SMax), UMin: min(s.UMin, t.UMin), UMax: max(s.UMax, t.UMax),
		S32Min: min(s.S32Min, t.S32Min), S32Max: max(s.S32Max, t.S32Max), U32Min: min(s.U32Min, t.U32Min), U32Max: max(s.U32Max, t.U32Max)}
	return r
}

// joinIn widens s to contain t, in place.
func (s *Scalar) joinIn(t *Scalar) {
	if *s == *t {
		return
	}
	s.Var = s.Var.Union(t.Var)
	s.SMin, s.SMax, s.UMin, s.UMax = min(s.SMin, t.SMin), max(s.SMax, t.SMax), min(s.UMin, t.UMin), max(s.UMax, t.UMax)
	s.S32Min, s.S32Max, s.U32Min, s.U32Max = min(s.S32Min, t.S32Min), max(s.S32Max, t.S32Max), min(s.U32Min, t.U32Min), max(s.U32Max, t.U32Max)
}

// Empty reports a contradiction: no value satisfies every constraint. It
// is how branch refinement finds a branch that cannot be taken.
func (s Scalar) Empty() bool {
	sub := s.Var.Subreg()
	return s.SMin > s.SMax || s.UMin > s.UMax || s.S32Min > s.S32Max || s.U32Min > s.U32Max ||
		s.Var.Value&s.Var.Mask != 0 || s.Var.Min() > s.UMax || s.Var.Max() < s.UMin ||
		uint32(sub.Min()) > s.U32Max || uint32(sub.Max()) < s.U32Min
}

// emptyScalar holds no value: the result of a transfer function applied to
// a contradictory operand.
func emptyScalar() Scalar {
	return Scalar{Var: Tnum{Value: 1, Mask: 1}, SMin: 1, UMin: 1, S32Min: 1, U32Min: 1}
}

// sync makes the five views agree, as the kernel's reg_bounds_sync: each
// view is narrowed by what the others prove. It is called after every
// transfer function.
//
// A round that changes nothing would change nothing the second time
// either (the steps are functions of the scalar): the second round is
// skipped then, most often for already synced values. A consistent
// constant is left as it is.
func (s *Scalar) sync() {
	if s.Var.Mask == 0 {
		if c := Const(s.Var.Value); s.same(&c) {
			return
		}
	}
	for i := 0; i < 2; i++ {
		before := *s
		s.updateBounds()
		s.deduce32()
		s.deduce64()
		s.boundsTo32()
		s.boundsFrom32()
		if s.same(&before) {
			break
		}
	}
	s.updateTnum()
	s.updateBounds()
}

// same is s == *t, field by field (inline, where == calls memequal).
func (s *Scalar) same(t *Scalar) bool {
	return s.Var == t.Var && s.SMin == t.SMin && s.SMax == t.SMax && s.UMin == t.UMin && s.UMax == t.UMax &&
		s.S32Min == t.S32Min && s.S32Max == t.S32Max && s.U32Min == t.U32Min && s.U32Max == t.U32Max
}

// updateBounds narrows the ranges by the tnum.
func (s *Scalar) updateBounds() {
	// 64-bit signed: the sign bit's state decides the extremes.
	smin := int64(s.Var.Value | s.Var.Mask&(1<<63))
	smax := int64(s.Var.Value | s.Var.Mask&^(1<<63))
	s.SMin, s.SMax = max(s.SMin, smin), min(s.SMax, smax)
	s.UMin, s.UMax = max(s.UMin, s.Var.Min()), min(s.UMax, s.Var.Max())
	sub := s.Var.Subreg()
	s32min := int32(uint32(sub.Value | sub.Mask&(1<<31)))
	s32max := int32(uint32(sub.Value | sub.Mask&^(1<<31)))
	s.S32Min, s.S32Max = max(s.S32Min, s32min), min(s.S32Max, s32max)
	s.U32Min, s.U32Max = max(s.U32Min, uint32(sub.Min())), min(s.U32Max, uint32(sub.Max()))
}

// deduce64 learns signed from unsigned and back when the range does not
// cross the sign boundary. When the signed range crosses it (it is then
// [0, SMax] ∪ [SMin, 2^64) read unsigned) and the unsigned range lies on
// one side of the gap between those pieces, only one piece is left (as in
// the kernel's __reg64_deduce_bounds): a contradiction shows as an empty
// range.
func (s *Scalar) deduce64() {
	if int64(s.UMin) <= int64(s.UMax) { // unsigned range on one side of 2^63
		s.SMin, s.SMax = max(s.SMin, int64(s.UMin)), min(s.SMax, int64(s.UMax))
	}
	if uint64(s.SMin) <= uint64(s.SMax) { // signed range on one side of 0
		s.UMin, s.UMax = max(s.UMin, uint64(s.SMin)), min(s.UMax, uint64(s.SMax))
	} else if s.SMin <= s.SMax && s.UMin <= s.UMax {
		lo, hi := uint64(s.SMin), uint64(s.SMax) // the negative piece starts at lo, the other ends at hi
		switch {
		case s.UMax < lo: // only [0, hi] is left
			s.UMax = min(s.UMax, hi)
			if s.UMin <= s.UMax {
				s.SMin, s.SMax = int64(s.UMin), int64(s.UMax)
			}
		case s.UMin > hi: // only [lo, 2^64) is left
			s.UMin = max(s.UMin, lo)
			if s.UMin <= s.UMax {
				s.SMin, s.SMax = int64(s.UMin), int64(s.UMax)
			}
		}
	}
}

// deduce32 is deduce64 for the low 32 bits.
func (s *Scalar) deduce32() {
	if int32(s.U32Min) <= int32(s.U32Max) {
		s.S32Min, s.S32Max = max(s.S32Min, int32(s.U32Min)), min(s.S32Max, int32(s.U32Max))
	}
	if uint32(s.S32Min) <= uint32(s.S32Max) {
		s.U32Min, s.U32Max = max(s.U32Min, uint32(s.S32Min)), min(s.U32Max, uint32(s.S32Max))
	} else if s.S32Min <= s.S32Max && s.U32Min <= s.U32Max {
		lo, hi := uint32(s.S32Min), uint32(s.S32Max)
		switch {
		case s.U32Max < lo:
			s.U32Max = min(s.U32Max, hi)
			if s.U32Min <= s.U32Max {
				s.S32Min, s.S32Max = int32(s.U32Min), int32(s.U32Max)
			}
		case s.U32Min > hi:
			s.U32Min = max(s.U32Min, lo)
			if s.U32Min <= s.U32Max {
				s.S32Min, s.S32Max = int32(s.U32Min), int32(s.U32Max)
			}
		}
	}
}

// boundsTo32 narrows the 32-bit ranges when the 64-bit range stays within
// one 2^32 window, or spans two adjacent windows with low halves that
// cross the 32-bit sign boundary only at the window change (the kernel's
// __reg32_deduce_bounds: [-128, 127] has low halves in [-128, 127] too).
func (s *Scalar) boundsTo32() {
	if s.UMin>>32 == s.UMax>>32 {
		s.U32Min, s.U32Max = max(s.U32Min, uint32(s.UMin)), min(s.U32Max, uint32(s.UMax))
		if int32(uint32(s.UMin)) <= int32(uint32(s.UMax)) {
			s.S32Min, s.S32Max = max(s.S32Min, int32(uint32(s.UMin))), min(s.S32Max, int32(uint32(s.UMax)))
		}
	} else if s.UMin <= s.UMax && uint32(s.UMin>>32)+1 == uint32(s.UMax>>32) && int32(s.UMin) < 0 && int32(s.UMax) >= 0 {
		s.S32Min, s.S32Max = max(s.S32Min, int32(s.UMin)), min(s.S32Max, int32(s.UMax))
	}
	if s.SMin>>32 == s.SMax>>32 {
		if int32(s.SMin) <= int32(s.SMax) {
			s.S32Min, s.S32Max = max(s.S32Min, int32(s.SMin)), min(s.S32Max, int32(s.SMax))
		}
		if uint32(s.SMin) <= uint32(s.SMax) {
			s.U32Min, s.U32Max = max(s.U32Min, uint32(s.SMin)), min(s.U32Max, uint32(s.SMax))
		}
	} else if s.SMin <= s.SMax && uint32(s.SMin>>32)+1 == uint32(s.SMax>>32) && int32(s.SMin) < 0 && int32(s.SMax) >= 0 {
		s.S32Min, s.S32Max = max(s.S32Min, int32(s.SMin)), min(s.S32Max, int32(s.SMax))
	}
}

// boundsFrom32 narrows the 64-bit ranges when their upper halves are fixed.
func (s *Scalar) boundsFrom32() {
	if s.UMin>>32 == s.UMax>>32 {
		hi := s.UMin &^ 0xffffffff
		s.UMin, s.UMax = max(s.UMin, hi|uint64(s.U32Min)), min(s.UMax, hi|uint64(s.U32Max))
	}
	if s.SMin>>32 == s.SMax>>32 {
		// The upper halves agree, so the value is that half plus the low
		// 32 bits read unsigned.
		hi := s.SMin &^ 0xffffffff
		s.SMin, s.SMax = max(s.SMin, hi+int64(s.U32Min)), min(s.SMax, hi+int64(s.U32Max))
	}
	// A value whose upper half is known zero has the 32-bit ranges as its own.
	if s.UMax <= math.MaxUint32 {
		s.UMin, s.UMax = max(s.UMin, uint64(s.U32Min)), min(s.UMax, uint64(s.U32Max))
	}
}

// updateTnum narrows the tnum by the ranges. A tnum that shares no value
// with the smallest tnum of a range holds no value of the range: the
// scalar is empty (an odd number in [4, 4]).
func (s *Scalar) updateTnum() {
	if s.UMin > s.UMax || s.U32Min > s.U32Max || s.Var.Value&s.Var.Mask != 0 {
		return // already empty: an intersection could make the tnum look whole again
	}
	t, ok := s.Var.Intersect(TnumRange(s.UMin, s.UMax))
	if !ok {
		s.Var = emptyScalar().Var
		return
	}
	s.Var = t
	t, ok = s.Var.Subreg().Intersect(TnumRange(uint64(s.U32Min), uint64(s.U32Max)))
	if !ok {
		s.Var = emptyScalar().Var
		return
	}
	s.Var = s.Var.WithSubreg(t)
}

// zext32 truncates to the low 32 bits and zero-extends, as every ALU32
// result and every narrow load does.
func (s Scalar) zext32() Scalar {
	r := Scalar{Var: s.Var.Subreg(), UMin: uint64(s.U32Min), UMax: uint64(s.U32Max),
		S32Min: s.S32Min, S32Max: s.S32Max, U32Min: s.U32Min, U32Max: s.U32Max}
	r.SMin, r.SMax = int64(r.UMin), int64(r.UMax)
	r.sync()
	return r
}

// truncate keeps the low size bytes (size 1, 2, 4 or 8), zero-extended.
func (s Scalar) truncate(size uint8) Scalar {
	if size >= 8 {
		return s
	}
	lim := uint64(1)<<(size*8) - 1
	r := Unknown()
	r.Var = s.Var.Cast(size)
	if s.UMax-s.UMin <= lim && s.UMin&^lim == s.UMax&^lim {
		r.UMin, r.UMax = s.UMin&lim, s.UMax&lim
	} else {
		r.UMin, r.UMax = 0, lim
	}
	r.SMin, r.SMax = int64(r.UMin), int64(r.UMax)
	r.U32Min, r.U32Max = uint32(r.UMin), uint32(r.UMax)
	r.S32Min, r.S32Max = math.MinInt32, math.MaxInt32
	if r.UMax <= math.MaxInt32 {
		r.S32Min, r.S32Max = int32(r.UMin), int32(r.UMax)
	}
	r.sync()
	return r
}

// sext sign-extends the low size bytes to 64 bits (MOVSX, LDX MEMSX).
func (s Scalar) sext(size uint8) Scalar {
	if size == 4 {
		r := SRange(int64(s.S32Min), int64(s.S32Max))
		return r
	}
	t := s.truncate(size)
	bits := size * 8
	half := int64(1) << (bits - 1)
	if t.UMax < uint64(half) { // sign bit known clear
		return t
	}
	if t.UMin >= uint64(half) { // sign bit known set
		lo, hi := int64(t.UMin)-2*half, int64(t.UMax)-2*half
		return SRange(lo, hi)
	}
	return SRange(-half, half-1)
}

// sext32 is the 64-bit view of a 32-bit value sign-extended.
func (s Scalar) sext32() Scalar { return s.sext(4) }

// String prints the kernel's log form of a scalar.
func (s Scalar) String() string {
	if s.IsConst() {
		return fmt.Sprintf("%d", int64(s.Var.Value))
	}
	var b strings.Builder
	sep := ""
	add := func(f string, a ...any) { b.WriteString(sep); fmt.Fprintf(&b, f, a...); sep = "," }
	if s.SMin != math.MinInt64 && s.SMin != int64(s.UMin) {
		add("smin=%d", s.SMin)
	}
	if s.SMax != math.MaxInt64 && s.SMax != int64(s.UMax) {
		add("smax=%d", s.SMax)
	}
	if s.UMin != 0 {
		add("umin=%d", s.UMin)
	}
	if s.UMax != math.MaxUint64 {
		add("umax=%d", s.UMax)
	}
	if s.S32Min != math.MinInt32 && int64(s.S32Min) != int64(s.U32Min) {
		add("smin32=%d", s.S32Min)
	}
	if s.S32Max != math.MaxInt32 && int64(s.S32Max) != int64(s.U32Max) {
		add("smax32=%d", s.S32Max)
	}
	if s.U32Min != 0 && uint64(s.U32Min) != s.UMin {
		add("umin32=%d", s.U32Min)
	}
	if s.U32Max != math.MaxUint32 && uint64(s.U32Max) != s.UMax {
		add("umax32=%d", s.U32Max)
	}
	if !s.Var.IsConst() && s.Var.Mask != ^uint64(0) {
		add("var_off=%s", s.Var)
	}
	return b.String()
}

// Intersect is the scalar of the values both a and b allow (for building
// states from several constraints).
func Intersect(a, b Scalar) Scalar {
	r := Scalar{SMin: max(a.SMin, b.SMin), SMax: min(a.SMax, b.SMax), UMin: max(a.UMin, b.UMin), UMax: min(a.UMax, b.UMax),
		S32Min: max(a.S32Min, b.S32Min), S32Max: min(a.S32Max, b.S32Max), U32Min: max(a.U32Min, b.U32Min), U32Max: min(a.U32Max, b.U32Max)}
	r.Var = emptyScalar().Var // no common value: empty
	if t, ok := a.Var.Intersect(b.Var); ok {
		r.Var = t
	}
	r.sync()
	return r
}
