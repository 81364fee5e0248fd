package verifier

import (
	"fmt"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Target is a device profile: what the device and its firmware can run,
// checked on top of the kernel's rules. Its rejections carry the prefix
// "[nfp] " like the Linux NFP driver's verifier hook. docs/verifier.md
// lists where nfpcc deliberately accepts more than the kernel's NFP
// offload and why that is safe.
type Target struct {
	Name string
	// ProgTypes the firmware can run.
	ProgTypes []ebpf.ProgramType
	// Contexts replace the kernel's context layouts: the fields the
	// firmware provides.
	Contexts map[ebpf.ProgramType]*ContextLayout
	// Helpers the firmware implements, by id.
	Helpers map[int32]string
	// MapTypes the firmware can hold; OffloadNeutral maps stay on the host
	// (perf event arrays for perf_event_output).
	MapTypes, OffloadNeutral []ebpf.MapType
	// MaxKeySize, MaxValueSize, MaxEntrySize (round8(key)+round8(value)),
	// MaxMaps and MaxEntries (all maps together) bound the maps.
	MaxKeySize, MaxValueSize, MaxEntrySize, MaxMaps, MaxEntries int
	// StackSize is the firmware's stack for the whole call chain; frames
	// are rounded to StackAlign and each call costs CallOverhead bytes.
	StackSize, StackAlign, CallOverhead int
	// PacketSplit is the number of packet bytes in CTM, where BPF can read
	// them (NFP_NET_CFG_BPF_INL_MTU×64−32); 0 when the device's value is
	// not known: the largest offset is then reported, not checked.
	PacketSplit int
	// CodeStore is the number of NFP instructions available (checked by
	// the backend, which knows the final size).
	CodeStore int
	// TCReturns are the constant return codes a tc program may give.
	TCReturns []int64
}

// NFPTarget is the NFP-4000/6000 with the CoreNIC firmware, from the
// Linux NFP driver (drivers/net/ethernet/netronome/nfp/bpf) and the
// firmware's capability table (docs: /work/shared/ref/nfp-isa.md §5).
var NFPTarget = &Target{
	Name:      "nfp-corenic",
	ProgTypes: []ebpf.ProgramType{ebpf.XDP, ebpf.SchedCLS},
	Contexts: map[ebpf.ProgramType]*ContextLayout{
		ebpf.XDP: {Name: "xdp_md (nfp)", Size: 24, Fields: []CtxField{
			{Name: "data", Off: 0, Size: 4, Result: Packet},
			{Name: "data_end", Off: 4, Size: 4, Result: PacketEnd},
			{Name: "rx_queue_index", Off: 16, Size: 4, Result: ScalarKind, Write: true},
		}},
		ebpf.SchedCLS: {Name: "__sk_buff (nfp)", Size: 192, Fields: []CtxField{
			{Name: "len", Off: 0, Size: 4, Result: ScalarKind},
			{Name: "data", Off: 76, Size: 4, Result: Packet},
			{Name: "data_end", Off: 80, Size: 4, Result: PacketEnd},
		}},
	},
	Helpers: map[int32]string{1: "map_lookup_elem", 2: "map_update_elem", 3: "map_delete_elem",
		7: "get_prandom_u32", 25: "perf_event_output", 44: "xdp_adjust_head", 65: "xdp_adjust_tail"},
	MapTypes:       []ebpf.MapType{ebpf.Hash, ebpf.Array},
	OffloadNeutral: []ebpf.MapType{ebpf.PerfEventArray},
	MaxKeySize:     56, MaxValueSize: 56, MaxEntrySize: 64, MaxMaps: 128, MaxEntries: 2_048_000,
	StackSize: 512, StackAlign: 64, CallOverhead: 4 + 32,
	CodeStore: 2560,
	TCReturns: []int64{-1, 2, 4, 5},
}

// TargetByName finds a profile: "nfp" or "host" (nil: kernel rules only).
func TargetByName(name string) (*Target, error) {
	switch name {
	case "nfp", "nfp-corenic":
		return NFPTarget, nil
	case "host", "":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown target %q (want nfp or host)", name)
}

func (t *Target) errorf(v *vm, pc int, format string, a ...any) *Error {
	return v.errorf(pc, "[nfp] "+format, a...)
}

// checkProgram checks what is known before interpretation: program type
// and maps.
func (t *Target) checkProgram(v *vm) error {
	if !slices.Contains(t.ProgTypes, v.progType) {
		return t.errorf(v, -1, "program type %s cannot be offloaded (only XDP and tc cls_bpf)", v.progType)
	}
	used := map[int]bool{}
	for _, ins := range v.insns {
		if ins != nil && ins.OpCode.IsDWordLoad() && (ins.Src == asm.PseudoMapFD || ins.Src == asm.PseudoMapValue) {
			used[int(uint32(ins.Constant))] = true
		}
	}
	entries, n := 0, 0
	for i, m := range v.maps {
		if !used[i] || m == nil {
			continue
		}
		if err := t.checkMap(v, m); err != nil {
			return err
		}
		if !slices.Contains(t.OffloadNeutral, m.Type) {
			entries += int(m.MaxEntries)
			n++
		}
	}
	if n > t.MaxMaps {
		return t.errorf(v, -1, "%d maps, the firmware holds %d", n, t.MaxMaps)
	}
	if entries > t.MaxEntries {
		return t.errorf(v, -1, "%d map entries in all, the firmware holds %d", entries, t.MaxEntries)
	}
	return nil
}

func (t *Target) checkMap(v *vm, m *loader.Map) error {
	if slices.Contains(t.OffloadNeutral, m.Type) {
		return nil
	}
	if !slices.Contains(t.MapTypes, m.Type) {
		return t.errorf(v, -1, "map %s: type %s not supported by the firmware (hash and array only)", m.Name, m.Type)
	}
	if m.Flags != 0 && !m.ReadOnly {
		return t.errorf(v, -1, "map %s: map flags %#x not supported", m.Name, m.Flags)
	}
	k, val := int(m.KeySize), int(m.ValueSize)
	if k > t.MaxKeySize || val > t.MaxValueSize || roundUp(k, 8)+roundUp(val, 8) > t.MaxEntrySize {
		return t.errorf(v, -1, "map %s: key %d B / value %d B exceed the firmware's %d/%d B (%d B per entry)",
			m.Name, k, val, t.MaxKeySize, t.MaxValueSize, t.MaxEntrySize)
	}
	return nil
}

// checkInsn rejects instruction forms the target cannot run whatever the
// state.
func (t *Target) checkInsn(v *vm, st *State, pc int, ins *asm.Instruction) error {
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls == asm.LdClass && !op.IsDWordLoad() && op.Size() == asm.DWord:
		return t.errorf(v, pc, "instruction %#02x not supported", uint8(op))
	case cls == asm.LdXClass && op.Mode() == asm.MemMode:
	}
	return nil
}

// checkALU: the NFP has no divider; nfpcc lowers division and modulo by
// any divisor in software, so only operand widths matter here.
func (t *Target) checkALU(v *vm, pc int, ins *asm.Instruction, d, s Scalar) error { return nil }

// checkMem applies the offload's pointer rules: one pointer kind per
// instruction, constant stack offsets that agree modulo 4 across paths.
func (t *Target) checkMem(v *vm, a *access) error {
	ins := v.insns[a.pc]
	isCall := ins.OpCode.JumpOp() == asm.Call && ins.OpCode.Class().IsJump()
	if !isCall {
		k := region(a.ptr.Kind)
		if prev, ok := v.typeAt[a.pc]; ok && prev != k {
			return t.errorf(v, a.pc, "ptr type changed for instruction %s -> %s", prev, k)
		}
		v.typeAt[a.pc] = k
	}
	if a.ptr.Kind == Stack {
		if !a.ptr.Value.IsConst() {
			return t.errorf(v, a.pc, "variable ptr stack access")
		}
		off := a.ptr.Off + a.off
		if prev, ok := v.stackOffAt[a.pc]; ok && (prev-off)%4 != 0 {
			return t.errorf(v, a.pc, "stack access changed location was:%d is:%d", prev, off)
		}
		v.stackOffAt[a.pc] = off
	}
	if a.ptr.Kind == Packet && t.PacketSplit > 0 {
		end := int64(a.ptr.Off) + int64(a.off) + int64(a.size) + int64(a.ptr.Value.UMax)
		if end > int64(t.PacketSplit) {
			return t.errorf(v, a.pc, "packet access up to byte %d is beyond the HW packet split boundary (%d)", end, t.PacketSplit)
		}
	}
	return nil
}

// checkHelper rejects helpers the firmware lacks and checks the argument
// forms it needs.
func (t *Target) checkHelper(v *vm, st *State, pc int, h *helper) error {
	if _, ok := t.Helpers[h.id]; !ok {
		return t.errorf(v, pc, "unsupported function id: %d (bpf_%s)", h.id, h.name)
	}
	fr := st.cur()
	switch h.id {
	case 1, 2, 3: // the firmware's map helpers read key and value from the stack
		for i, k := range h.args {
			if k != argMapKey && k != argMapValue {
				continue
			}
			r := &fr.regs[asm.R1+asm.Register(i)]
			if r.Kind != Stack {
				return t.errorf(v, pc, "bpf_%s: unsupported ptr type %s", h.name, r.Kind)
			}
			if !r.Value.IsConst() {
				return t.errorf(v, pc, "bpf_%s: variable pointer", h.name)
			}
			if (r.Off+int32(r.Value.ConstValue()))%4 != 0 {
				return t.errorf(v, pc, "bpf_%s: unaligned stack pointer %d", h.name, r.Off)
			}
		}
	case 25:
		r3 := &fr.regs[asm.R3]
		// Only the index bits matter: the size may ride in the upper half.
		if r3.Kind != ScalarKind || !r3.Value.Var.Subreg().IsConst() || uint32(r3.Value.Var.Value) != 0xffffffff {
			return t.errorf(v, pc, "event_output: must use BPF_F_CURRENT_CPU, var_off: %s", r3.Value.Var)
		}
		v.warn("[nfp] return codes and behavior of event_output helper differ for offload")
	}
	return nil
}

// checkExit: tc programs must return a constant the firmware can report.
func (t *Target) checkExit(v *vm, pc int, r0 *Reg) error {
	switch v.progType {
	case ebpf.SchedCLS:
		if !r0.IsConst() {
			return t.errorf(v, pc, "unsupported exit state: %s, var_off: %s", r0.Kind, r0.Value.Var)
		}
		c := int64(int32(r0.Value.ConstValue()))
		if !slices.Contains(t.TCReturns, c) && c <= 7 {
			return t.errorf(v, pc, "unsupported exit state: %d (TC_ACT OK, RECLASSIFY, PIPE, REPEAT and REDIRECT cannot be reported)", c)
		}
	case ebpf.XDP:
		if r0.Value.UMax > 3 {
			v.warn("[nfp] pc %d: R0 may be %s; return codes above XDP_TX (3) drop the packet on the NFP", pc, r0.Value)
		}
	}
	return nil
}

// stackChain is the target's accounting of a call chain's stack.
func (t *Target) stackChain(v *vm, st *State) int {
	total := 0
	for i, f := range st.frames {
		total += roundUp(v.stackDepth[f.fn], t.StackAlign)
		if i > 0 {
			total += t.CallOverhead
		}
	}
	return total
}
