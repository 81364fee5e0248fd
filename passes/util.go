package passes

import (
	"math"

	"github.com/nfpcc/nfpcc/ir"
)

// mask is the all-ones value of a type's width.
func mask(t ir.Type) uint64 {
	if t == ir.I32 {
		return math.MaxUint32
	}
	return math.MaxUint64
}

// isConst reports v's value when it is a const.
func isConst(v *ir.Value) (uint64, bool) {
	if v.Op == ir.OpConst {
		return uint64(v.Imm) & mask(v.Type), true
	}
	return 0, false
}

// factConst reports the value the verifier's facts pin v to (a range of
// one value or a tnum without unknown bits). Pointers never count.
func factConst(f *ir.Func, v *ir.Value) (uint64, bool) {
	fa := f.Facts[v.ID]
	if fa == nil || fa.Ptr != nil || fa.Map != nil || v.Type == ir.Void {
		return 0, false
	}
	if v.Type == ir.I64 {
		if r := fa.U64; r != nil && r.Min == r.Max {
			return r.Min, true
		}
		if r := fa.S64; r != nil && r.Min == r.Max {
			return uint64(r.Min), true
		}
	}
	if v.Type == ir.I32 {
		if r := fa.U32; r != nil && r.Min == r.Max {
			return r.Min, true
		}
		if r := fa.S32; r != nil && r.Min == r.Max {
			return uint64(uint32(r.Min)), true
		}
	}
	if t := fa.Tnum; t != nil && t.Mask == 0 {
		return t.Value & mask(v.Type), true
	}
	return 0, false
}

// newConst makes a const of type t (i32 constants are written
// sign-extended, as Check wants).
func newConst(f *ir.Func, t ir.Type, c uint64, pos int) *ir.Value {
	v := f.NewValue(ir.OpConst, t)
	if t == ir.I32 {
		v.Imm = int64(int32(uint32(c)))
	} else {
		v.Imm = int64(c)
	}
	v.Pos = pos
	return v
}

// pure reports whether v computes a value from its operands only: it may be
// removed when unused, merged with an equal computation, or moved.
func pure(v *ir.Value) bool {
	info := v.Op.Info()
	return v.Type != ir.Void && !info.Effect && !info.ReadsMem && !info.WritesMem && !info.Terminator && v.Op != ir.OpParam
}

// removable reports whether v may be deleted when nothing uses it: pure
// values and loads (the verifier proved they cannot fault).
func removable(v *ir.Value) bool {
	info := v.Op.Info()
	return v.Type != ir.Void && !info.Effect && !info.WritesMem && !info.Terminator && v.Op != ir.OpParam
}

// useList lists, per value ID, the instructions using the value as an
// operand or branch argument (an instruction once per use). A slice by
// ID, not a map: every pass that rewrites uses builds one, so it is on
// the fuzzer's hot path.
type useList [][]*ir.Value

// uses builds the users of every value of f.
func uses(f *ir.Func) useList {
	u := make(useList, f.NumValues())
	for _, b := range f.Blocks {
		for _, v := range b.Instrs {
			for _, a := range v.Args {
				u[a.ID] = append(u[a.ID], v)
			}
			for _, t := range v.Targets {
				for _, a := range t.Args {
					u[a.ID] = append(u[a.ID], v)
				}
			}
		}
	}
	return u
}

// of returns v's users (none for a value made after the list was built).
func (u useList) of(v *ir.Value) []*ir.Value {
	if v.ID < len(u) {
		return u[v.ID]
	}
	return nil
}

// moved records that old's users now use new (after replaceAll).
func (u *useList) moved(old, new *ir.Value) {
	for new.ID >= len(*u) {
		*u = append(*u, nil)
	}
	if old.ID < len(*u) {
		(*u)[new.ID] = append((*u)[new.ID], (*u)[old.ID]...)
		(*u)[old.ID] = nil
	}
}

// replaceAll makes every use of old a use of new, visiting only the users
// listed (cheaper than Func.ReplaceUses on big functions).
func replaceAll(users []*ir.Value, old, new *ir.Value) {
	for _, v := range users {
		for i, a := range v.Args {
			if a == old {
				v.Args[i] = new
			}
		}
		for _, t := range v.Targets {
			for i, a := range t.Args {
				if a == old {
					t.Args[i] = new
				}
			}
		}
	}
}

// name is how remarks refer to a value: "v12", or the constant.
func name(v *ir.Value) string {
	if c, ok := isConst(v); ok {
		if v.Type == ir.I32 {
			return itoa(int64(int32(uint32(c))))
		}
		return itoa(int64(c))
	}
	return "v" + itoa(int64(v.ID))
}

func itoa(x int64) string {
	if x < 0 {
		return "-" + utoa(uint64(-x))
	}
	return utoa(uint64(x))
}

func utoa(x uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + x%10)
		x /= 10
		if x == 0 {
			return string(b[i:])
		}
	}
}

// branchCompare is the compare op a conditional branch evaluates.
func branchCompare(op ir.Op) ir.Op { return op - ir.OpJeq32 + ir.OpEq32 }

// wide reports whether a compare or branch op is the 64-bit form.
func wideCmp(op ir.Op) bool {
	if op.IsBranch() {
		return (op-ir.OpJeq32)%2 == 1
	}
	return (op-ir.OpEq32)%2 == 1
}

// setJump turns the terminator v into `jump` to its target k.
func setJump(v *ir.Value, k int) {
	t := v.Targets[k]
	v.Op = ir.OpJump
	v.Args = nil
	v.Targets = []ir.Target{t}
}
