package lift

import (
	"math"
	"math/bits"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/ir"
)

// VerifierFacts adapts what compiler/verifier learnt about a program to
// the lifter: reachability per slot, each register's abstract value as
// ir.Facts, and the memory region behind each pointer.
func VerifierFacts(res *verifier.Result) Facts {
	if res == nil {
		return nil
	}
	return verifierFacts{res}
}

type verifierFacts struct{ r *verifier.Result }

func (v verifierFacts) at(pc int) *verifier.InsnFacts {
	if pc < 0 || pc >= len(v.r.Facts) || !v.r.Facts[pc].Reachable {
		return nil
	}
	return &v.r.Facts[pc]
}

func (v verifierFacts) Reachable(pc int) bool { return v.at(pc) != nil }

func (v verifierFacts) StackDepth(k int) (int, bool) {
	if k < 0 || k >= len(v.r.StackDepth) {
		return 0, false
	}
	return v.r.StackDepth[k], true
}

func (v verifierFacts) Written(pc, r int) bool {
	f := v.at(pc)
	return f != nil && r >= 0 && r <= 10 && f.Regs[r].Kind != verifier.Uninit
}

var ptrKinds = map[verifier.Kind]ir.PtrKind{
	verifier.Ctx: ir.PtrCtx, verifier.Stack: ir.PtrStack, verifier.Packet: ir.PtrPkt,
	verifier.PacketEnd: ir.PtrPktEnd, verifier.PacketMeta: ir.PtrPktMeta, verifier.MapPtr: ir.PtrMap,
	verifier.MapValue: ir.PtrMapVal, verifier.MapValueOrNull: ir.PtrMapValOrNull,
}

var regions = map[verifier.Kind]ir.Region{
	verifier.Ctx: ir.RegionCtx, verifier.Stack: ir.RegionStack, verifier.Packet: ir.RegionPkt,
	verifier.PacketMeta: ir.RegionPkt, verifier.MapValue: ir.RegionMapVal,
}

func (v verifierFacts) Region(pc, r int) (ir.Region, bool) {
	f := v.at(pc)
	if f == nil || r < 0 || r > 10 {
		return ir.RegionAny, false
	}
	reg, ok := regions[f.Regs[r].Kind]
	return reg, ok
}

func (v verifierFacts) Reg(pc, r int) *ir.Facts {
	f := v.at(pc)
	if f == nil || r < 0 || r > 10 {
		return nil
	}
	rf := f.Regs[r]
	if rf.Kind == verifier.ScalarKind {
		return scalarFacts(rf.Value)
	}
	k, ok := ptrKinds[rf.Kind]
	if !ok {
		return nil // uninitialised on some path, or kinds that differ by path
	}
	if rf.Kind == verifier.Stack && (f.Depth < 0 || rf.Frame != f.Depth) {
		// A pointer into a caller's frame: !ptr(stack,…) would say this
		// function's own frame, so say nothing.
		return nil
	}
	fa := &ir.Facts{Ptr: &ir.PtrFact{Kind: k, MinOff: int64(rf.OffMin), MaxOff: int64(rf.OffMax)}}
	// The variable part of the offset widens the range.
	if !(rf.Value.IsConst() && rf.Value.ConstValue() == 0) {
		lo, ok1 := addOff(fa.Ptr.MinOff, rf.Value.SMin)
		hi, ok2 := addOff(fa.Ptr.MaxOff, rf.Value.SMax)
		if !ok1 {
			lo = math.MinInt64
		}
		if !ok2 {
			hi = math.MaxInt64
		}
		fa.Ptr.MinOff, fa.Ptr.MaxOff = lo, hi
	}
	if (rf.Kind == verifier.MapPtr || rf.Kind == verifier.MapValue || rf.Kind == verifier.MapValueOrNull) && rf.Map >= 0 {
		idx := int64(rf.Map)
		fa.Map = &idx
	}
	if rf.Kind == verifier.Packet && rf.InBounds > 0 {
		fa.Le = []ir.Bound{{Off: int64(rf.InBounds), Limit: "pkt_end"}}
	}
	return fa
}

func addOff(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// scalarFacts gives every non-trivial component of a scalar; setFacts
// drops those a value's type makes redundant.
func scalarFacts(s verifier.Scalar) *ir.Facts {
	fa := &ir.Facts{}
	if s.UMin != 0 || s.UMax != math.MaxUint64 {
		fa.U64 = &ir.URange{Min: s.UMin, Max: s.UMax}
	}
	if s.SMin != math.MinInt64 || s.SMax != math.MaxInt64 {
		fa.S64 = &ir.SRange{Min: s.SMin, Max: s.SMax}
	}
	if s.U32Min != 0 || s.U32Max != math.MaxUint32 {
		fa.U32 = &ir.URange{Min: uint64(s.U32Min), Max: uint64(s.U32Max)}
	}
	if s.S32Min != math.MinInt32 || s.S32Max != math.MaxInt32 {
		fa.S32 = &ir.SRange{Min: int64(s.S32Min), Max: int64(s.S32Max)}
	}
	if s.Var.Mask != math.MaxUint64 {
		fa.Tnum = &ir.Tnum{Value: s.Var.Value, Mask: s.Var.Mask}
	}
	if fa.Empty() {
		return nil
	}
	return fa
}

// compact drops the components of fa that follow from the others for a
// value of type t, so the printed IR states each fact once: a 32-bit range
// equal to the 64-bit one, a signed range equal to the unsigned one, a tnum
// that only says what the unsigned range says.
func compact(fa *ir.Facts, t ir.Type) *ir.Facts {
	c := *fa
	if t == ir.I32 {
		c.U64, c.S64, c.Ptr, c.Map, c.Le = nil, nil, nil, nil, nil
		if c.Tnum != nil {
			tn := ir.Tnum{Value: c.Tnum.Value & math.MaxUint32, Mask: c.Tnum.Mask & math.MaxUint32}
			c.Tnum = &tn
			if tn.Mask == math.MaxUint32 {
				c.Tnum = nil
			}
		}
		if c.U32 != nil && c.S32 != nil && c.U32.Max <= math.MaxInt32 && c.S32.Min == int64(c.U32.Min) && c.S32.Max == int64(c.U32.Max) {
			c.S32 = nil
		}
		if c.Tnum != nil && c.U32 != nil && *c.Tnum == tnumOfRange(c.U32.Min, c.U32.Max) {
			c.Tnum = nil
		}
	} else {
		if c.U64 != nil && c.S64 != nil && c.U64.Max <= math.MaxInt64 && c.S64.Min == int64(c.U64.Min) && c.S64.Max == int64(c.U64.Max) {
			c.S64 = nil
		}
		if c.U64 != nil && c.U64.Max <= math.MaxUint32 {
			if c.U32 != nil && *c.U32 == *c.U64 {
				c.U32 = nil
			}
			if c.S32 != nil && c.U64.Max <= math.MaxInt32 && c.S32.Min == int64(c.U64.Min) && c.S32.Max == int64(c.U64.Max) {
				c.S32 = nil
			}
		}
		if c.Tnum != nil && c.U64 != nil && *c.Tnum == tnumOfRange(c.U64.Min, c.U64.Max) {
			c.Tnum = nil
		}
		if c.U64 != nil && c.U64.Min == c.U64.Max { // a constant: its value says everything
			c.S64, c.U32, c.S32, c.Tnum = nil, nil, nil, nil
		}
	}
	if c.Empty() {
		return nil
	}
	return &c
}

// tnumOfRange is the tnum the verifier derives from an unsigned range:
// the bits above the highest bit where min and max differ are known.
func tnumOfRange(lo, hi uint64) ir.Tnum {
	chi := lo ^ hi
	n := bits.Len64(chi)
	if n > 63 {
		return ir.Tnum{Value: 0, Mask: math.MaxUint64}
	}
	mask := uint64(1)<<n - 1
	return ir.Tnum{Value: lo &^ mask, Mask: mask}
}

// Verified runs the verifier on prog (with the maps of its object and the
// given options, which may be nil) and lifts it with the facts: the usual
// way into the IR. A program the verifier rejects gives its *verifier.Error.
func Verified(prog *loader.Program, maps []*loader.Map, opts *verifier.Options) (*ir.Module, *verifier.Result, error) {
	res, err := verifier.Verify(prog, maps, opts)
	if err != nil {
		return nil, nil, err
	}
	m, err := Program(prog, VerifierFacts(res))
	if err != nil {
		return nil, res, err
	}
	return m, res, nil
}
