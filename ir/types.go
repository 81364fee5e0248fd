package ir

import "fmt"

// Type is the type of an SSA value. eBPF registers are 64 bits wide, but the
// NFP is a 32-bit machine, so the IR keeps 32-bit arithmetic (eBPF's ALU32
// class, 8/16/32-bit loads) in i32 values and makes every widening explicit
// (zext, sext). Pointer-ness is not a type: a pointer is an i64 whose Facts
// say what it points to, which is how the eBPF verifier sees it too.
type Type uint8

const (
	// Void is the "type" of instructions without a result (stores,
	// terminators, atomics without fetch).
	Void Type = iota
	I32
	I64
)

var typeNames = [...]string{Void: "void", I32: "i32", I64: "i64"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Bits is the width of the type in bits (0 for Void).
func (t Type) Bits() int {
	switch t {
	case I32:
		return 32
	case I64:
		return 64
	}
	return 0
}

func typeByName(s string) (Type, bool) {
	for t, n := range typeNames {
		if n == s && Type(t) != Void {
			return Type(t), true
		}
	}
	return Void, false
}

// Region says which memory a load, store or atomic touches. The verifier
// knows it for every access of an accepted program; the lifter copies it so
// that the backend can pick the NFP memory (CLS, CTM, EMEM, LM) per access
// without re-deriving pointer provenance.
type Region uint8

const (
	RegionAny    Region = iota // not known: the backend must dispatch at run time
	RegionCtx                  // the program context (struct xdp_md, __sk_buff)
	RegionPkt                  // packet data (including the metadata area)
	RegionStack                // the function's stack frame
	RegionMapVal               // a map value (including global data)
)

var regionNames = [...]string{RegionAny: "any", RegionCtx: "ctx", RegionPkt: "pkt", RegionStack: "stack", RegionMapVal: "mapval"}

func (r Region) String() string {
	if int(r) < len(regionNames) {
		return regionNames[r]
	}
	return fmt.Sprintf("region(%d)", uint8(r))
}

func regionByName(s string) (Region, bool) {
	for r, n := range regionNames {
		if n == s {
			return Region(r), true
		}
	}
	return 0, false
}
