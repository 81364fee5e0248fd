package verifier

import (
	"math"
	"math/rand"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// has reports whether the concrete value v is one of s's values.
func (s Scalar) has(v uint64) bool {
	return s.Var.Has(v) && s.UMin <= v && v <= s.UMax && s.SMin <= int64(v) && int64(v) <= s.SMax &&
		s.U32Min <= uint32(v) && uint32(v) <= s.U32Max && s.S32Min <= int32(v) && int32(v) <= s.S32Max
}

// interesting draws values near the edges where range arithmetic breaks.
func interesting(r *rand.Rand) uint64 {
	edges := []uint64{0, 1, 2, 3, 7, 8, 14, 255, 256, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 32,
		math.MaxInt64, 1 << 63, math.MaxUint64, math.MaxUint64 - 1}
	switch r.Intn(4) {
	case 0:
		return edges[r.Intn(len(edges))]
	case 1:
		return edges[r.Intn(len(edges))] + uint64(r.Intn(5)) - 2
	case 2:
		return uint64(r.Intn(64))
	}
	return r.Uint64() >> uint(r.Intn(64))
}

// abstractOf is the join of a few concrete values: some scalar containing
// them all, as the verifier's states are.
func abstractOf(r *rand.Rand) (Scalar, []uint64) {
	vals := []uint64{interesting(r)}
	for i := r.Intn(4); i > 0; i-- {
		vals = append(vals, interesting(r))
	}
	s := Const(vals[0])
	lo, hi, slo, shi := vals[0], vals[0], int64(vals[0]), int64(vals[0])
	for _, v := range vals[1:] {
		s = s.Join(Const(v))
		lo, hi, slo, shi = min(lo, v), max(hi, v), min(slo, int64(v)), max(shi, int64(v))
	}
	// Sometimes narrow by the exact ranges, as refinement does.
	switch r.Intn(3) {
	case 0:
		s = Intersect(s, URange(lo, hi))
	case 1:
		s = Intersect(s, SRange(slo, shi))
	}
	return s, vals
}

var aluOps = []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.SDiv, asm.Mod, asm.SMod, asm.Or, asm.And, asm.Xor,
	asm.LSh, asm.RSh, asm.ArSh, asm.Neg, asm.Mov}

// TestScalarALUSound checks every ALU transfer function against concrete
// execution: the abstract result must contain every concrete result.
func TestScalarALUSound(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 100000; i++ {
		d, dv := abstractOf(r)
		s, sv := abstractOf(r)
		op := aluOps[r.Intn(len(aluOps))]
		is32 := r.Intn(2) == 0
		res := scalarALU(op, d, s, is32)
		for _, a := range dv {
			for _, b := range sv {
				want := evalALU(op, a, b, is32)
				if op == asm.LSh || op == asm.RSh || op == asm.ArSh {
					// evalALU masks the count as the machine does.
				}
				if !res.has(want) {
					t.Fatalf("%v (32=%v): %#x op %#x = %#x not in %v\n d=%+v\n s=%+v", op, is32, a, b, want, res, d, s)
				}
			}
		}
	}
}

// TestRefineSound checks branch refinement: concrete pairs satisfying the
// condition stay in the refined scalars, and a branch declared infeasible
// has no such pair.
func TestRefineSound(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	ops := []asm.JumpOp{asm.JEq, asm.JNE, asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE, asm.JSet, jNSet}
	for i := 0; i < 100000; i++ {
		d, dv := abstractOf(r)
		s, sv := abstractOf(r)
		op := ops[r.Intn(len(ops))]
		is32 := r.Intn(2) == 0
		d2, s2 := d, s
		ok := refineScalars(&d2, &s2, op, is32)
		for _, a := range dv {
			for _, b := range sv {
				if !holds(op, a, b, is32) {
					continue
				}
				if !ok {
					t.Fatalf("%v (32=%v): %#x, %#x satisfy it but the branch was declared infeasible\n d=%+v\n s=%+v", op, is32, a, b, d, s)
				}
				if !d2.has(a) || !s2.has(b) {
					t.Fatalf("%v (32=%v): %#x, %#x lost by refinement: %v, %v\n d=%+v\n s=%+v", op, is32, a, b, d2, s2, d, s)
				}
			}
		}
	}
}

func holds(op asm.JumpOp, a, b uint64, is32 bool) bool {
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
	}
	sa, sb := int64(a), int64(b)
	if is32 {
		sa, sb = int64(int32(uint32(a))), int64(int32(uint32(b)))
	}
	switch op {
	case asm.JEq:
		return a == b
	case asm.JNE:
		return a != b
	case asm.JGT:
		return a > b
	case asm.JGE:
		return a >= b
	case asm.JLT:
		return a < b
	case asm.JLE:
		return a <= b
	case asm.JSGT:
		return sa > sb
	case asm.JSGE:
		return sa >= sb
	case asm.JSLT:
		return sa < sb
	case asm.JSLE:
		return sa <= sb
	case asm.JSet:
		return a&b != 0
	case jNSet:
		return a&b == 0
	}
	return false
}

// TestTruncSextSound checks narrowing loads and sign extension.
func TestTruncSextSound(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 100000; i++ {
		s, vals := abstractOf(r)
		size := []uint8{1, 2, 4}[r.Intn(3)]
		tr, sx, z := s.truncate(size), s.sext(size), s.zext32()
		for _, v := range vals {
			m := uint64(1)<<(8*size) - 1
			if !tr.has(v & m) {
				t.Fatalf("truncate(%d) of %#x not in %v (from %+v)", size, v&m, tr, s)
			}
			sh := 64 - 8*uint(size)
			if e := uint64(int64(v<<sh) >> sh); !sx.has(e) {
				t.Fatalf("sext(%d) of %#x = %#x not in %v (from %+v)", size, v, e, sx, s)
			}
			if !z.has(uint64(uint32(v))) {
				t.Fatalf("zext32 of %#x not in %v", v, z)
			}
		}
	}
}

func TestTnumOps(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for i := 0; i < 100000; i++ {
		a, b := interesting(r), interesting(r)
		ta := TnumConst(a).Union(TnumConst(interesting(r)))
		tb := TnumConst(b).Union(TnumConst(interesting(r)))
		for name, c := range map[string]struct {
			got  Tnum
			want uint64
		}{
			"add": {ta.Add(tb), a + b}, "sub": {ta.Sub(tb), a - b}, "mul": {ta.Mul(tb), a * b},
			"and": {ta.And(tb), a & b}, "or": {ta.Or(tb), a | b}, "xor": {ta.Xor(tb), a ^ b},
		} {
			if !c.got.Has(c.want) {
				t.Fatalf("tnum %s: %#x not in %v (%v, %v)", name, c.want, c.got, ta, tb)
			}
		}
		if !TnumRange(min(a, b), max(a, b)).Has(a) {
			t.Fatalf("TnumRange(%#x, %#x) misses %#x", min(a, b), max(a, b), a)
		}
	}
}

// TestSyncSound checks sync (the kernel's reg_bounds_sync) with every view
// constrained at once: values of the set stay, and a scalar holding
// values is never Empty.
func TestSyncSound(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 100000; i++ {
		s, vals := abstractOf(r)
		lo, hi, slo, shi := vals[0], vals[0], int64(vals[0]), int64(vals[0])
		lo32, hi32, slo32, shi32 := uint32(vals[0]), uint32(vals[0]), int32(vals[0]), int32(vals[0])
		for _, v := range vals[1:] {
			lo, hi, slo, shi = min(lo, v), max(hi, v), min(slo, int64(v)), max(shi, int64(v))
			lo32, hi32, slo32, shi32 = min(lo32, uint32(v)), max(hi32, uint32(v)), min(slo32, int32(v)), max(shi32, int32(v))
		}
		n := Unknown()
		n.UMin, n.UMax, n.SMin, n.SMax = lo, hi, slo, shi
		n.U32Min, n.U32Max, n.S32Min, n.S32Max = lo32, hi32, slo32, shi32
		n.Var = s.Var
		n.sync()
		if n.Empty() {
			t.Fatalf("values %#x: sync made %+v empty", vals, n)
		}
		for _, v := range vals {
			if !n.has(v) {
				t.Fatalf("values %#x: sync lost %#x: %+v", vals, v, n)
			}
		}
	}
}

// TestContradictionsFound: states no value satisfies, each from a path
// that cannot run, are found empty by sync, and the branch that would
// create them is infeasible (the findings verifier_divzero_panic.o and
// verifier_empty_range_bug.o: a sign-extended byte compared in 32 bits
// with a constant outside [-128, 127]).
func TestContradictionsFound(t *testing.T) {
	sext8 := Unknown().sext(1)
	if sext8.S32Min != -128 || sext8.S32Max != 127 {
		t.Errorf("sext8: 32-bit signed range [%d, %d], want [-128, 127]", sext8.S32Min, sext8.S32Max)
	}
	for _, c := range []uint64{708934302, 0xac5c39d0, 128, 0xffffff7f} {
		d, s := sext8, Const(c)
		if refineScalars(&d, &s, asm.JEq, true) {
			t.Errorf("w = %#x on a sign-extended byte: feasible, refined to %+v", c, d)
		}
		d, s = sext8, Const(c)
		if !refineScalars(&d, &s, asm.JNE, true) {
			t.Errorf("w != %#x on a sign-extended byte: infeasible", c)
		}
	}
	// Signed [-128, 127], unsigned above 127: only the negative part is
	// left; unsigned in [128, 2^64 - 129] too: nothing is.
	n := Intersect(sext8, URange(1000, math.MaxUint64))
	if n.Empty() || n.SMin != -128 || n.SMax != -1 || n.UMin != math.MaxUint64-127 {
		t.Errorf("[-128, 127] ∩ u[1000, max] = %+v, want [-128, -1]", n)
	}
	if n := Intersect(sext8, URange(1000, math.MaxUint64-65535)); !n.Empty() {
		t.Errorf("[-128, 127] ∩ u[1000, 2^64 - 65536] = %+v, want empty", n)
	}
	if n := Intersect(SRange(-5, 5), Scalar{Var: TnumUnknown, SMin: math.MinInt64, SMax: math.MaxInt64, UMax: math.MaxUint64,
		S32Min: math.MinInt32, S32Max: math.MaxInt32, U32Min: 100, U32Max: 200}); !n.Empty() {
		t.Errorf("[-5, 5] with low half in [100, 200] = %+v, want empty", n)
	}
}

// TestALUEmptyOperand: a transfer function given an operand that holds no
// value (a contradictory state) gives an empty result without dividing by
// zero or otherwise panicking.
func TestALUEmptyOperand(t *testing.T) {
	// The divisor of verifier_divzero_panic.o: low half 0, signed range
	// [708934175, 0] once synced.
	bad := Scalar{Var: Tnum{Value: 0, Mask: 0xffffffff00000000}, SMin: 708934175, SMax: 708934430, UMax: math.MaxUint64,
		S32Min: math.MinInt32, S32Max: math.MaxInt32, U32Max: math.MaxUint32}
	bad.sync()
	if !bad.Empty() {
		t.Fatalf("%+v is not empty", bad)
	}
	for _, e := range []Scalar{bad, emptyScalar()} {
		for _, op := range aluOps {
			for _, is32 := range []bool{false, true} {
				if r := scalarALU(op, Unknown(), e, is32); !r.Empty() {
					t.Errorf("%v (32=%v) by an empty scalar: %+v", op, is32, r)
				}
				if r := scalarALU(op, e, URange(0, 10), is32); op != asm.Mov && !r.Empty() {
					t.Errorf("%v (32=%v) of an empty scalar: %+v", op, is32, r)
				}
			}
		}
	}
	// Divisor ranges holding 0: x / 0 = 0, x % 0 = x.
	for _, is32 := range []bool{false, true} {
		if r := scalarALU(asm.Div, URange(10, 20), URange(0, 3), is32); !r.has(0) || !r.has(20) || r.has(21) {
			t.Errorf("[10, 20] / [0, 3] (32=%v) = %+v", is32, r)
		}
		if r := scalarALU(asm.Mod, URange(10, 20), URange(0, 3), is32); !r.has(20) || !r.has(0) || r.has(21) {
			t.Errorf("[10, 20] %% [0, 3] (32=%v) = %+v", is32, r)
		}
	}
}

// TestTnumRangeContradiction: a tnum and a range with no common value
// make an empty scalar (an odd number equal to 4), and a branch that
// would need one is infeasible.
func TestTnumRangeContradiction(t *testing.T) {
	odd := Unknown()
	odd.Var = Tnum{Value: 1, Mask: ^uint64(1)}
	odd.sync()
	if n := Intersect(odd, URange(4, 4)); !n.Empty() {
		t.Errorf("odd ∩ [4, 4] = %+v, want empty", n)
	}
	d, s := odd, Const(4)
	if !refineScalars(&d, &s, asm.JGE, false) {
		t.Fatal("odd >= 4 is feasible")
	}
	if refineScalars(&d, &s, asm.JLE, false) {
		t.Errorf("odd >= 4 and <= 4: feasible, refined to %+v", d)
	}
}

// TestEmptyStaysEmpty: syncing a scalar found empty never makes it look
// like it holds values again.
func TestEmptyStaysEmpty(t *testing.T) {
	odd := Unknown()
	odd.Var = Tnum{Value: 1, Mask: ^uint64(1)}
	for _, e := range []Scalar{emptyScalar(), Intersect(odd, URange(4, 4)), Intersect(odd, Const(4))} {
		for i := 0; i < 3; i++ {
			e.sync()
			if !e.Empty() {
				t.Fatalf("sync %d made an empty scalar whole: %+v", i, e)
			}
		}
		if j := Intersect(e, Unknown()); !j.Empty() {
			t.Errorf("empty ∩ unknown = %+v", j)
		}
	}
}
