package ir

import (
	"fmt"
	"strings"
)

// Facts is what the verifier proved about one value at its definition,
// carried from compiler/verifier to the passes (which see only ir). Every
// field is optional; nil means "nothing known". The domains are the Linux
// verifier's: unsigned and signed 64- and 32-bit intervals, a tristate
// number (tnum), a pointer kind with an offset range, and packet-bound
// relations (the verifier's pkt "range").
type Facts struct {
	U64  *URange // !range[min,max]
	S64  *SRange // !srange[min,max]
	U32  *URange // !range32[min,max]
	S32  *SRange // !srange32[min,max]
	Tnum *Tnum   // !tnum(value,mask)
	Ptr  *PtrFact
	// Map is the index of the map a map, mapval or mapval_or_null pointer
	// refers to (!map(N)): where a lookup result lives decides which NFP
	// memory the backend reads it from.
	Map *int64
	// Le holds relations "value + Off <= Limit", e.g. !le(+14,pkt_end): the
	// first 14 bytes at this packet pointer are inside the packet.
	Le []Bound
}

// URange is an inclusive unsigned interval.
type URange struct{ Min, Max uint64 }

// SRange is an inclusive signed interval.
type SRange struct{ Min, Max int64 }

// Tnum is a tristate number: bits set in Mask are unknown, the others equal
// Value's (Value & Mask == 0).
type Tnum struct{ Value, Mask uint64 }

// PtrFact says the value is a pointer of kind Kind at an offset in
// [MinOff, MaxOff] from the start of the object.
type PtrFact struct {
	Kind           PtrKind
	MinOff, MaxOff int64
}

// Bound is the relation value + Off <= Limit.
type Bound struct {
	Off   int64
	Limit string // one of BoundLimits
}

// BoundLimits are the symbols a Bound may compare against.
var BoundLimits = []string{"pkt_end"}

// PtrKind is the verifier's pointer type.
type PtrKind uint8

const (
	PtrCtx          PtrKind = iota // the context
	PtrStack                       // this frame's stack
	PtrPkt                         // packet data
	PtrPktMeta                     // packet metadata (before data)
	PtrPktEnd                      // one past the packet
	PtrMap                         // a map itself (for helpers)
	PtrMapVal                      // a map value
	PtrMapValOrNull                // a map lookup result not yet tested against NULL
	PtrMem                         // memory returned by a helper (ringbuf, per-cpu, …)
	PtrSock                        // a socket
	PtrOther                       // any other kernel pointer
)

var ptrKindNames = [...]string{
	PtrCtx: "ctx", PtrStack: "stack", PtrPkt: "pkt", PtrPktMeta: "pkt_meta", PtrPktEnd: "pkt_end",
	PtrMap: "map", PtrMapVal: "mapval", PtrMapValOrNull: "mapval_or_null", PtrMem: "mem",
	PtrSock: "sock", PtrOther: "other",
}

func (k PtrKind) String() string {
	if int(k) < len(ptrKindNames) {
		return ptrKindNames[k]
	}
	return fmt.Sprintf("ptrkind(%d)", uint8(k))
}

// PtrKindByName finds a pointer kind by its text name.
func PtrKindByName(s string) (PtrKind, bool) {
	for k, n := range ptrKindNames {
		if n == s {
			return PtrKind(k), true
		}
	}
	return 0, false
}

// Empty reports whether no fact is known.
func (fa *Facts) Empty() bool {
	return fa == nil || (fa.U64 == nil && fa.S64 == nil && fa.U32 == nil && fa.S32 == nil &&
		fa.Tnum == nil && fa.Ptr == nil && fa.Map == nil && len(fa.Le) == 0)
}

// String is the facts in text syntax, canonical order, each preceded by a
// space: " !range[0,1500] !ptr(pkt,+14)".
func (fa *Facts) String() string {
	if fa.Empty() {
		return ""
	}
	var b strings.Builder
	if r := fa.U64; r != nil {
		fmt.Fprintf(&b, " !range[%d,%d]", r.Min, r.Max)
	}
	if r := fa.S64; r != nil {
		fmt.Fprintf(&b, " !srange[%d,%d]", r.Min, r.Max)
	}
	if r := fa.U32; r != nil {
		fmt.Fprintf(&b, " !range32[%d,%d]", r.Min, r.Max)
	}
	if r := fa.S32; r != nil {
		fmt.Fprintf(&b, " !srange32[%d,%d]", r.Min, r.Max)
	}
	if t := fa.Tnum; t != nil {
		fmt.Fprintf(&b, " !tnum(%#x,%#x)", t.Value, t.Mask)
	}
	if p := fa.Ptr; p != nil {
		if p.MinOff == p.MaxOff {
			fmt.Fprintf(&b, " !ptr(%s,%+d)", p.Kind, p.MinOff)
		} else {
			fmt.Fprintf(&b, " !ptr(%s,%+d,%+d)", p.Kind, p.MinOff, p.MaxOff)
		}
	}
	if fa.Map != nil {
		fmt.Fprintf(&b, " !map(%d)", *fa.Map)
	}
	for _, l := range fa.Le {
		fmt.Fprintf(&b, " !le(%+d,%s)", l.Off, l.Limit)
	}
	return b.String()
}

// check reports the first fact that contradicts itself or the value's type.
func (fa *Facts) check(t Type) error {
	if fa.Empty() {
		return nil
	}
	if fa.U64 != nil && fa.U64.Min > fa.U64.Max {
		return fmt.Errorf("!range[%d,%d] is empty", fa.U64.Min, fa.U64.Max)
	}
	if fa.S64 != nil && fa.S64.Min > fa.S64.Max {
		return fmt.Errorf("!srange[%d,%d] is empty", fa.S64.Min, fa.S64.Max)
	}
	if r := fa.U32; r != nil && (r.Min > r.Max || r.Max > 0xffffffff) {
		return fmt.Errorf("!range32[%d,%d] is empty or exceeds 32 bits", r.Min, r.Max)
	}
	if r := fa.S32; r != nil && (r.Min > r.Max || r.Min < -1<<31 || r.Max > 1<<31-1) {
		return fmt.Errorf("!srange32[%d,%d] is empty or exceeds 32 bits", r.Min, r.Max)
	}
	if tn := fa.Tnum; tn != nil {
		if tn.Value&tn.Mask != 0 {
			return fmt.Errorf("!tnum(%#x,%#x): value and mask overlap", tn.Value, tn.Mask)
		}
		if t == I32 && (tn.Value|tn.Mask)>>32 != 0 {
			return fmt.Errorf("!tnum(%#x,%#x) exceeds the 32 bits of an i32", tn.Value, tn.Mask)
		}
	}
	if t == I32 && (fa.U64 != nil || fa.S64 != nil) {
		return fmt.Errorf("64-bit range on an i32 value (use !range32/!srange32)")
	}
	if p := fa.Ptr; p != nil {
		if t != I64 {
			return fmt.Errorf("!ptr on a %s value: pointers are i64", t)
		}
		if p.MinOff > p.MaxOff {
			return fmt.Errorf("!ptr(%s,%+d,%+d): empty offset range", p.Kind, p.MinOff, p.MaxOff)
		}
	}
	if fa.Map != nil {
		if fa.Ptr == nil || (fa.Ptr.Kind != PtrMap && fa.Ptr.Kind != PtrMapVal && fa.Ptr.Kind != PtrMapValOrNull) {
			return fmt.Errorf("!map(%d) on a value that is not a map or map value pointer", *fa.Map)
		}
		if *fa.Map < 0 {
			return fmt.Errorf("!map(%d): negative map index", *fa.Map)
		}
	}
	for _, l := range fa.Le {
		if fa.Ptr == nil {
			return fmt.Errorf("!le(%+d,%s) on a value that is not a pointer (no !ptr)", l.Off, l.Limit)
		}
	}
	return nil
}

// holds reports whether the scalar facts of fa hold for the value x (an
// i32's 32-bit facts apply to its value, which is zero-extended).
func (fa *Facts) holds(x uint64) error {
	lo := uint64(uint32(x))
	switch {
	case fa.U64 != nil && (x < fa.U64.Min || x > fa.U64.Max):
		return fmt.Errorf("outside !range[%d,%d]", fa.U64.Min, fa.U64.Max)
	case fa.S64 != nil && (int64(x) < fa.S64.Min || int64(x) > fa.S64.Max):
		return fmt.Errorf("outside !srange[%d,%d]", fa.S64.Min, fa.S64.Max)
	case fa.U32 != nil && (lo < fa.U32.Min || lo > fa.U32.Max):
		return fmt.Errorf("outside !range32[%d,%d]", fa.U32.Min, fa.U32.Max)
	case fa.S32 != nil && (int64(int32(lo)) < fa.S32.Min || int64(int32(lo)) > fa.S32.Max):
		return fmt.Errorf("outside !srange32[%d,%d]", fa.S32.Min, fa.S32.Max)
	case fa.Tnum != nil && x&^fa.Tnum.Mask != fa.Tnum.Value:
		return fmt.Errorf("not in !tnum(%#x,%#x)", fa.Tnum.Value, fa.Tnum.Mask)
	}
	return nil
}
