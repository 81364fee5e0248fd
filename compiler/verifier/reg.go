package verifier

import (
	"fmt"
	"strings"
)

// Kind is what a register (or a spilled stack slot) holds, as the kernel's
// enum bpf_reg_type.
type Kind uint8

const (
	// Uninit is a register never written on this path: reading it is an
	// error ("!read_ok").
	Uninit Kind = iota
	// ScalarKind is a number (Reg.Value holds its abstract value).
	ScalarKind
	// Ctx is the program's context (xdp_md, __sk_buff) at offset Off.
	Ctx
	// Stack points into the stack frame Frame at Off (negative, from the top).
	Stack
	// Packet points into packet data: data + Value + Off. Range bytes from
	// data + Value are proven below data_end (see Reg.Range).
	Packet
	// PacketEnd is data_end.
	PacketEnd
	// PacketMeta points into the metadata area before data.
	PacketMeta
	// MapPtr is a map itself (LD_IMM64 of a map): an argument to helpers.
	MapPtr
	// MapValue points into a value of map Map at Off + Value.
	MapValue
	// MapValueOrNull is a lookup result not yet compared with zero.
	MapValueOrNull
	// SockOrNull is a socket lookup's result (sk_lookup_tcp, skc_lookup_tcp)
	// not yet compared with zero; ID names the reference, which must be
	// released (sk_release) on every path that finds a socket.
	SockOrNull
	// Sock is a socket reference checked non-null.
	Sock
	// Func is the address of a subprogram (a LD_IMM64 of BPF_PSEUDO_FUNC),
	// the callback of bpf_loop or bpf_for_each_map_elem; Off is its first
	// slot.
	Func
	// Mixed is only found in joined facts: different paths disagree on the kind.
	Mixed
)

var kindNames = [...]string{
	Uninit: "?", ScalarKind: "scalar", Ctx: "ctx", Stack: "fp", Packet: "pkt", PacketEnd: "pkt_end",
	PacketMeta: "pkt_meta", MapPtr: "map_ptr", MapValue: "map_value", MapValueOrNull: "map_value_or_null",
	SockOrNull: "sock_common_or_null", Sock: "sock_common", Func: "func", Mixed: "mixed",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsPointer reports whether the kind is some pointer.
func (k Kind) IsPointer() bool { return k >= Ctx && k < Mixed }

// Reg is the abstract value of one register on one path.
//
// Its fields are packed (88 bytes): states are copied at every checkpoint
// and two-way branch and compared at every prune point, eleven registers
// per frame and one per spilled stack slot.
type Reg struct {
	Kind Kind
	// EndDiff marks a scalar known to equal data_end − (data + EndOff):
	// a bound learnt on it is a packet range ("if (data_end - data < 14)").
	EndDiff bool
	// Frame is the call frame a stack pointer points into (0 = main).
	Frame int8
	// Off is the constant part of a pointer's offset.
	Off int32
	// Value is a scalar's value, or the variable part of a pointer's offset.
	Value Scalar
	// ID links registers that hold the same value: copies of one scalar
	// (a bound learnt for one applies to all), pointers with the same
	// variable packet offset (a packet range proven for one applies to
	// all), and copies of one lookup result (a null check of one applies to
	// all). 0 means unlinked.
	ID uint32
	// Range (Packet, PacketMeta): data + Value + k is proven ≤ data_end
	// (≤ data for metadata) for every k ≤ Range. The access [Off+o,
	// Off+o+size) is allowed when Off+o+size ≤ Range.
	Range int32
	// Map is the index of the map (MapPtr, MapValue, MapValueOrNull) in the
	// program's map list (its maps, then inner-map templates). For
	// MapValueOrNull it is the map looked up: for a map of maps the outer
	// one, which the null check turns into a MapPtr of the inner template.
	Map    int32
	EndOff int32
}

func scalarReg(s Scalar) Reg { return Reg{Kind: ScalarKind, Value: s} }

func constReg(v uint64) Reg { return scalarReg(Const(v)) }

func unknownReg() Reg { return scalarReg(Unknown()) }

// pointerReg is a pointer with constant offset off.
func pointerReg(k Kind, off int32) Reg { return Reg{Kind: k, Off: off, Value: Const(0)} }

// IsConst reports a scalar with one known value.
func (r Reg) IsConst() bool { return r.Kind == ScalarKind && r.Value.IsConst() }

// String prints the register as the kernel's log does (without the "R1="
// prefix): "scalar(umax=255,var_off=(0x0; 0xff))", "pkt(off=14,r=34)", "fp-8".
func (r Reg) String() string {
	switch r.Kind {
	case Uninit:
		return "?"
	case ScalarKind:
		if r.Value.IsConst() {
			return fmt.Sprintf("%d", int64(r.Value.ConstValue()))
		}
		if r.ID != 0 {
			if v := r.Value.String(); v != "" {
				return fmt.Sprintf("scalar(id=%d,%s)", r.ID, v)
			}
			return fmt.Sprintf("scalar(id=%d)", r.ID)
		}
		return "scalar(" + r.Value.String() + ")"
	case Stack:
		if r.Value.IsConst() && r.Value.ConstValue() == 0 {
			if r.Frame != 0 {
				return fmt.Sprintf("fp%d@%d", r.Off, r.Frame)
			}
			return fmt.Sprintf("fp%d", r.Off)
		}
	}
	var parts []string
	if r.ID != 0 {
		parts = append(parts, fmt.Sprintf("id=%d", r.ID))
	}
	if r.Kind == MapValue || r.Kind == MapValueOrNull || r.Kind == MapPtr {
		parts = append(parts, fmt.Sprintf("map=%d", r.Map))
	}
	if r.Off != 0 || r.Kind == Stack {
		parts = append(parts, fmt.Sprintf("off=%d", r.Off))
	}
	if r.Kind == Packet || r.Kind == PacketMeta {
		parts = append(parts, fmt.Sprintf("r=%d", r.Range))
	}
	if !(r.Value.IsConst() && r.Value.ConstValue() == 0) {
		parts = append(parts, r.Value.String())
	}
	if len(parts) == 0 {
		return r.Kind.String()
	}
	return r.Kind.String() + "(" + strings.Join(parts, ",") + ")"
}
