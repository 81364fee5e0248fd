package verifier

import (
	"fmt"
	"strings"
)

// InsnFacts is what holds before one instruction on every path that
// reaches it: the join of the states the verifier saw there. A path cut by
// pruning continues as an already explored path whose state includes it in
// every register that is live (read before written), so facts are exact for
// live registers; a dead register's fact may leave out pruned paths.
type InsnFacts struct {
	// Reachable is false for instructions no path reaches (dead code, or a
	// LD_IMM64's second slot); the other fields are then zero.
	Reachable bool
	// Regs are r0–r10 of the current frame.
	Regs [11]RegFact
	// Depth is the call depth (0 in the entry function); -1 if paths
	// disagree.
	Depth int
	// PacketMin is the number of packet bytes proven present on every path:
	// data + PacketMin ≤ data_end holds here. 0 when nothing is proven.
	PacketMin int32
}

// RegFact is the joined abstract value of one register at one
// instruction.
type RegFact struct {
	// Kind is the register's kind on every path, Mixed if paths disagree,
	// Uninit if some path has not written it.
	Kind Kind
	// OffMin and OffMax bound a pointer's constant offset over the paths
	// (equal when every path agrees).
	OffMin, OffMax int32
	// Value is a scalar's value, or a pointer's variable offset.
	Value Scalar
	// Map is the map index for MapPtr, MapValue and MapValueOrNull, -1 if
	// paths disagree.
	Map int
	// InBounds, for packet pointers, is the number of bytes from the
	// register's own address proven inside the packet on every path: an
	// access [reg+o, reg+o+size) needs o ≥ 0 and o+size ≤ InBounds. In
	// the kernel's terms it is Range − Off; ≤ 0 when nothing is proven.
	InBounds int32
	// Frame is the stack frame a stack pointer points into.
	Frame int
}

// IsConst reports a scalar known to hold one value on every path.
func (f RegFact) IsConst() bool { return f.Kind == ScalarKind && f.Value.IsConst() }

// Fact returns the fact of register r before slot pc.
func (r *Result) Fact(pc int, reg int) RegFact { return r.Facts[pc].Regs[reg] }

func factOf(r *Reg) RegFact {
	f := RegFact{Kind: r.Kind, OffMin: r.Off, OffMax: r.Off, Value: r.Value, Map: int(r.Map), Frame: int(r.Frame)}
	if r.Kind == Packet || r.Kind == PacketMeta {
		f.InBounds = r.Range - r.Off
	}
	if r.Kind == Uninit {
		f.Value = Unknown()
	}
	return f
}

// joinKind is the kind of a register that has kind a on some paths and b
// on others. A map value is a map value or null: lookups that cannot fail
// (arrays with a constant key) meet the others of the same instruction.
func joinKind(a, b Kind) Kind {
	switch {
	case a == b:
		return a
	case a == Uninit || b == Uninit:
		return Uninit
	case a == MapValue && b == MapValueOrNull, a == MapValueOrNull && b == MapValue:
		return MapValueOrNull
	}
	return Mixed
}

// record joins the state of one path into the facts of pc.
func (v *vm) record(pc int, st *State) {
	fr := st.cur()
	f := &v.facts[pc]
	pmin := packetMin(fr)
	if !f.Reachable {
		f.Reachable = true
		f.Depth = len(st.frames) - 1
		f.PacketMin = pmin
		for i := range fr.regs {
			f.Regs[i] = factOf(&fr.regs[i])
		}
		return
	}
	if f.Depth != len(st.frames)-1 {
		f.Depth = -1
	}
	f.PacketMin = min(f.PacketMin, pmin)
	for i := range fr.regs {
		f.Regs[i].joinReg(&fr.regs[i])
	}
}

// joinReg joins the fact of r (factOf) into f without building it: record runs on
// every processed instruction.
func (f *RegFact) joinReg(r *Reg) {
	f.Kind = joinKind(f.Kind, r.Kind)
	if r.Kind == Uninit {
		f.Value = Unknown()
	} else {
		f.Value.joinIn(&r.Value)
	}
	f.OffMin, f.OffMax = min(f.OffMin, r.Off), max(f.OffMax, r.Off)
	if f.Map != int(r.Map) {
		f.Map = -1
	}
	if f.Frame != int(r.Frame) {
		f.Frame = -1
	}
	in := int32(0)
	if r.Kind == Packet || r.Kind == PacketMeta {
		in = r.Range - r.Off
	}
	f.InBounds = min(f.InBounds, in)
}

// packetMin is the packet length proven by constant-offset packet pointers.
func packetMin(fr *frame) int32 {
	var m int32
	for i := range fr.regs {
		r := &fr.regs[i]
		if r.Kind == Packet && r.ID == 0 && r.Range > m {
			m = r.Range
		}
	}
	return m
}

// String prints a fact in the log's style.
func (f RegFact) String() string {
	switch f.Kind {
	case Uninit:
		return "?"
	case Mixed:
		return "mixed"
	case ScalarKind:
		return scalarReg(f.Value).String()
	}
	var b strings.Builder
	b.WriteString(f.Kind.String())
	b.WriteString("(")
	if f.OffMin == f.OffMax {
		fmt.Fprintf(&b, "off=%d", f.OffMin)
	} else {
		fmt.Fprintf(&b, "off=[%d,%d]", f.OffMin, f.OffMax)
	}
	if f.Kind == Packet || f.Kind == PacketMeta {
		fmt.Fprintf(&b, ",in_bounds=%d", f.InBounds)
	}
	if f.Kind == Stack && f.Frame != 0 {
		fmt.Fprintf(&b, ",frame=%d", f.Frame)
	}
	if f.Kind == MapValue || f.Kind == MapValueOrNull || f.Kind == MapPtr {
		fmt.Fprintf(&b, ",map=%d", f.Map)
	}
	if !(f.Value.IsConst() && f.Value.ConstValue() == 0) {
		b.WriteString("," + f.Value.String())
	}
	b.WriteString(")")
	return b.String()
}

// String prints the facts of one instruction: "R1=ctx() R10=fp0 pkt≥34".
func (f InsnFacts) String() string {
	if !f.Reachable {
		return "unreachable"
	}
	var parts []string
	for i, r := range f.Regs {
		if r.Kind != Uninit {
			parts = append(parts, fmt.Sprintf("R%d=%s", i, r))
		}
	}
	if f.PacketMin > 0 {
		parts = append(parts, fmt.Sprintf("pkt_len>=%d", f.PacketMin))
	}
	return strings.Join(parts, " ")
}

// logState writes the kernel's log_level 2 line for one instruction.
func (v *vm) logState(pc int, st *State) {
	fr := st.cur()
	var parts []string
	for i := range fr.regs {
		if fr.regs[i].Kind != Uninit {
			parts = append(parts, fmt.Sprintf("R%d=%s", i, fr.regs[i].String()))
		}
	}
	for i := 0; i < StackSize/8; i++ {
		s := fr.slot(i)
		if s == nil {
			continue
		}
		off := -(i + 1) * 8
		if s.isSpill() {
			parts = append(parts, fmt.Sprintf("fp%d=%s", off, s.spill.String()))
			continue
		}
		var m [8]byte
		any := false
		for b, k := range s.kinds {
			m[b] = "?mz*"[k]
			any = any || k != byteInvalid
		}
		if any {
			parts = append(parts, fmt.Sprintf("fp%d=%s", off, string(m[:])))
		}
	}
	fmt.Fprintf(v.opts.Log, "%d: %s\n", pc, strings.Join(parts, " "))
	src := ""
	if s := v.insns[pc].Source(); s != nil {
		src = strings.TrimSpace(s.String())
		fmt.Fprintf(v.opts.Log, "; %s\n", src)
	}
	fmt.Fprintf(v.opts.Log, "%d: (%s) %s\n", pc, opcodeHex(v.insns[pc]), Disasm(*v.insns[pc]))
}
