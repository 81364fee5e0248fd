package verifier

import (
	"fmt"
	"math/bits"
)

// Tnum is a "tristate number": a 64-bit value whose bits are each known 0,
// known 1 or unknown. Bit i is unknown when Mask has it set; otherwise it
// equals bit i of Value. Value&Mask is always 0. This is the Linux verifier's
// bit-level domain (kernel/bpf/tnum.c, Vishwanathan et al., CGO'22); nfpcc
// keeps the same semantics so that its facts and the kernel's agree.
type Tnum struct {
	Value, Mask uint64
}

// TnumUnknown has every bit unknown.
var TnumUnknown = Tnum{Mask: ^uint64(0)}

// TnumConst is the tnum of a known value.
func TnumConst(v uint64) Tnum { return Tnum{Value: v} }

// TnumRange is the smallest tnum containing every value in [min, max].
func TnumRange(min, max uint64) Tnum {
	chi := min ^ max
	n := 64 - bits.LeadingZeros64(chi)
	if n > 63 {
		return TnumUnknown
	}
	delta := uint64(1)<<n - 1
	return Tnum{Value: min &^ delta, Mask: delta}
}

// IsConst reports whether every bit is known.
func (t Tnum) IsConst() bool { return t.Mask == 0 }

// Min and Max are the smallest and largest unsigned values t contains.
func (t Tnum) Min() uint64 { return t.Value }
func (t Tnum) Max() uint64 { return t.Value | t.Mask }

// Contains reports whether every value of u is also a value of t.
func (t Tnum) Contains(u Tnum) bool {
	if u.Mask&^t.Mask != 0 {
		return false
	}
	return u.Value&^t.Mask == t.Value
}

// Has reports whether v is one of t's values.
func (t Tnum) Has(v uint64) bool { return v&^t.Mask == t.Value }

func (t Tnum) Lsh(n uint8) Tnum { return Tnum{t.Value << n, t.Mask << n} }
func (t Tnum) Rsh(n uint8) Tnum { return Tnum{t.Value >> n, t.Mask >> n} }
func (t Tnum) Arsh(n uint8) Tnum {
	return Tnum{uint64(int64(t.Value) >> n), uint64(int64(t.Mask) >> n)}
}

// Arsh32 shifts the low 32 bits arithmetically, as a 32-bit operation.
func (t Tnum) Arsh32(n uint8) Tnum {
	return Tnum{uint64(uint32(int32(uint32(t.Value)) >> n)), uint64(uint32(int32(uint32(t.Mask)) >> n))}
}

func (t Tnum) Add(u Tnum) Tnum {
	sm := t.Mask + u.Mask
	sv := t.Value + u.Value
	sigma := sm + sv
	chi := sigma ^ sv
	mu := chi | t.Mask | u.Mask
	return Tnum{sv &^ mu, mu}
}

func (t Tnum) Sub(u Tnum) Tnum {
	dv := t.Value - u.Value
	alpha := dv + t.Mask
	beta := dv - u.Mask
	chi := alpha ^ beta
	mu := chi | t.Mask | u.Mask
	return Tnum{dv &^ mu, mu}
}

func (t Tnum) And(u Tnum) Tnum {
	alpha := t.Value | t.Mask
	beta := u.Value | u.Mask
	v := t.Value & u.Value
	return Tnum{v, alpha & beta &^ v}
}

func (t Tnum) Or(u Tnum) Tnum {
	v := t.Value | u.Value
	mu := t.Mask | u.Mask
	return Tnum{v, mu &^ v}
}

func (t Tnum) Xor(u Tnum) Tnum {
	v := t.Value ^ u.Value
	mu := t.Mask | u.Mask
	return Tnum{v &^ mu, mu}
}

// Mul multiplies by long multiplication over the known and unknown parts
// (the CGO'22 algorithm).
func (t Tnum) Mul(u Tnum) Tnum {
	accV := t.Value * u.Value
	accM := Tnum{}
	for t.Value != 0 || t.Mask != 0 {
		if t.Value&1 != 0 {
			accM = accM.Add(Tnum{0, u.Mask})
		} else if t.Mask&1 != 0 {
			accM = accM.Add(Tnum{0, u.Value | u.Mask})
		}
		t = t.Rsh(1)
		u = u.Lsh(1)
	}
	return Tnum{accV, 0}.Add(accM)
}

// Intersect is the tnum of the values in both t and u; ok is false when they
// share no value.
func (t Tnum) Intersect(u Tnum) (Tnum, bool) {
	v := t.Value | u.Value
	mu := t.Mask & u.Mask
	if (t.Value^u.Value)&^(t.Mask|u.Mask) != 0 {
		return Tnum{}, false
	}
	return Tnum{v &^ mu, mu}, true
}

// Union is the smallest tnum containing both t and u.
func (t Tnum) Union(u Tnum) Tnum {
	mu := t.Mask | u.Mask | (t.Value ^ u.Value)
	return Tnum{t.Value &^ mu, mu}
}

// Cast keeps the low size bytes.
func (t Tnum) Cast(size uint8) Tnum {
	if size >= 8 {
		return t
	}
	m := uint64(1)<<(size*8) - 1
	return Tnum{t.Value & m, t.Mask & m}
}

// Subreg is the low 32 bits; WithSubreg replaces them.
func (t Tnum) Subreg() Tnum { return t.Cast(4) }
func (t Tnum) WithSubreg(s Tnum) Tnum {
	return Tnum{t.Value&^0xffffffff | s.Value&0xffffffff, t.Mask&^0xffffffff | s.Mask&0xffffffff}
}

// String prints the kernel's form: a constant in hex, else (value; mask).
func (t Tnum) String() string {
	if t.IsConst() {
		return fmt.Sprintf("%#x", t.Value)
	}
	return fmt.Sprintf("(%#x; %#x)", t.Value, t.Mask)
}
