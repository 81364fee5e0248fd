package verifier

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Target is a device profile, the one capability table of a target: what
// the device and its firmware can run, checked on top of the kernel's
// rules. `nfpcc verify --target=nfp` and the compiler both verify with it,
// so a program compiles exactly when verify accepts it, with the same
// message (compiler/agreement_test.go checks this on the corpora and on
// generated programs). The rules come from the Linux NFP driver's verifier
// hook (drivers/net/ethernet/netronome/nfp/bpf/verifier.c) and from what
// nfpcc's backend can lower; where the backend refuses a form the kernel
// accepts, the rule here says so with the backend's words.
//
// Rejections carry the prefix "[nfp] " like the driver's. docs/verifier.md
// lists where nfpcc deliberately accepts more than the kernel's NFP
// offload and why that is safe.
type Target struct {
	Name string
	// MCPU is the --mcpu name: "corenic" (what the Linux nfp driver and
	// the CoreNIC firmware run: every image must load there) or
	// "emulator" (nfpcc's firmware model, which provides more).
	MCPU string
	// ProgTypes the firmware can run.
	ProgTypes []ebpf.ProgramType
	// Contexts replace the kernel's context layouts: the fields the
	// firmware provides.
	Contexts map[ebpf.ProgramType]*ContextLayout
	// Helpers the target implements, by the id of the verifier's helper
	// table (helpers.go), with the argument forms each accepts.
	Helpers map[int32]HelperCap
	// MapTypes the firmware can hold; OffloadNeutral maps stay on the host
	// (perf event arrays for perf_event_output).
	MapTypes, OffloadNeutral []ebpf.MapType
	// MaxKeySize, MaxValueSize, MaxEntrySize (round8(key)+round8(value)),
	// MaxMaps and MaxEntries (all maps together; 0: no bound) bound the
	// maps a program references.
	MaxKeySize, MaxValueSize, MaxEntrySize, MaxMaps, MaxEntries int
	// StackSize is the firmware's stack for the whole call chain; frames
	// are rounded to StackAlign and each call costs CallOverhead bytes.
	StackSize, StackAlign, CallOverhead int
	// PacketSplit is the number of packet bytes in CTM, where BPF can read
	// them (NFP_NET_CFG_BPF_INL_MTU×64−32); 0 when the device's value is
	// not known: the largest offset is then reported, not checked.
	PacketSplit int
	// CodeStore is the number of NFP instructions a program may have
	// (CoreNIC: NFD_BPF_MAX_LEN, 2560 per vNIC; 0: only the backend's
	// branch reach bounds it). Only code generation knows the size: the
	// compiler checks it after the backend (compiler.CodeSizeError), the
	// one rule `verify` cannot apply.
	CodeStore int
	// TCReturns are the constant return codes a tc program may give; nil
	// accepts every return value.
	TCReturns []int64
	// GlobalData: the target addresses global data (.data, .bss, and
	// .rodata beyond constant reads) as `mapvalue` memory. A frozen
	// .rodata read at a constant offset is a constant on every target.
	GlobalData bool
	// SkipBackendForms drops the rules that mirror what nfpcc's backend
	// cannot lower (target_forms.go: argument forms of csum_diff and
	// xdp_adjust_tail, map value loads and atomics, one map and stack
	// address per helper call, perf output data): the stale-rule test
	// compiles refused programs with it to find rules the backend has
	// outgrown. The driver's and the firmware's rules stay.
	SkipBackendForms bool
	// Lifts is the more permissive target that accepts what this one
	// refuses for want of firmware support (the emulator for CoreNIC);
	// refusals it would lift say so.
	Lifts *Target
}

// HelperCap is one helper's entry in the capability table.
type HelperCap struct {
	// Forms says which argument forms the target takes (docs, hints).
	Forms string
	// check refuses the call's unsupported argument forms (nil: any form
	// the kernel accepts).
	check func(t *Target, v *vm, st *State, pc int, h *helper) error
}

// nfpHelpers are the helpers of both NFP targets: the firmware's map
// helpers and perf_event_output, and those the backend lowers inline.
var nfpHelpers = map[int32]HelperCap{
	1:  {Forms: "key on the stack at a constant offset", check: checkMapHelper},
	2:  {Forms: "key and value on the stack at constant offsets", check: checkMapHelper},
	3:  {Forms: "key on the stack at a constant offset", check: checkMapHelper},
	7:  {Forms: "any"},
	25: {Forms: "flags BPF_F_CURRENT_CPU; data on the stack, in the packet or in a map value", check: checkPerfOutput},
	28: {Forms: "from and to in the packet or at word-aligned constant stack addresses, sizes constant multiples of 4 up to 512 bytes in all", check: checkCsumDiff},
	44: {Forms: "any (XDP)"},
	65: {Forms: "a delta proved <= 0 (XDP)", check: checkAdjustTail},
}

// nfpContexts are the context fields the firmware provides.
var nfpContexts = map[ebpf.ProgramType]*ContextLayout{
	ebpf.XDP: {Name: "xdp_md (nfp)", Size: 24, Fields: []CtxField{
		{Name: "data", Off: 0, Size: 4, Result: Packet},
		{Name: "data_end", Off: 4, Size: 4, Result: PacketEnd},
	}},
	ebpf.SchedCLS: {Name: "__sk_buff (nfp)", Size: 192, Fields: []CtxField{
		{Name: "len", Off: 0, Size: 4, Result: ScalarKind},
		{Name: "data", Off: 76, Size: 4, Result: Packet},
		{Name: "data_end", Off: 80, Size: 4, Result: PacketEnd},
	}},
}

// NFPTarget is the NFP-4000/6000 with the CoreNIC firmware (--mcpu=corenic),
// from the Linux NFP driver (drivers/net/ethernet/netronome/nfp/bpf) and the
// firmware's capability table (docs: /work/shared/ref/nfp-isa.md §5).
var NFPTarget = func() *Target {
	t := coreNIC()
	t.Lifts = EmulatorTarget
	return t
}()

// EmulatorTarget is nfpcc's firmware model (--mcpu=emulator, emulator/nfp):
// the CoreNIC rules without the firmware's limits the model does not have.
// It has global data (`mapvalue` memory), reports every tc return code,
// and holds maps of any total size; its images do not load on a CoreNIC
// card.
var EmulatorTarget = func() *Target {
	t := coreNIC()
	t.Name, t.MCPU = "nfp-emulator", "emulator"
	t.MaxEntries, t.TCReturns, t.GlobalData, t.CodeStore = 0, nil, true, 0
	return t
}()

// coreNIC is the CoreNIC table, the base of both targets.
func coreNIC() *Target {
	return &Target{
		Name:           "nfp-corenic",
		MCPU:           "corenic",
		ProgTypes:      []ebpf.ProgramType{ebpf.XDP, ebpf.SchedCLS},
		Contexts:       nfpContexts,
		Helpers:        nfpHelpers,
		MapTypes:       []ebpf.MapType{ebpf.Hash, ebpf.Array},
		OffloadNeutral: []ebpf.MapType{ebpf.PerfEventArray},
		MaxKeySize:     56, MaxValueSize: 56, MaxEntrySize: 64, MaxMaps: 128, MaxEntries: 2_048_000,
		StackSize: 512, StackAlign: 64, CallOverhead: 4 + 32,
		CodeStore: 2560,
		TCReturns: []int64{-1, 2, 4, 5},
	}
}

// MCPUs are the --mcpu names, the default first.
var MCPUs = []string{"corenic", "emulator"}

// TargetByName finds a profile: "nfp" (= "corenic", "nfp-corenic"),
// "emulator" ("nfp-emulator") or "host" (nil: kernel rules only).
func TargetByName(name string) (*Target, error) {
	switch name {
	case "nfp", "nfp-corenic", "corenic":
		return NFPTarget, nil
	case "emulator", "nfp-emulator":
		return EmulatorTarget, nil
	case "host", "":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown target %q (want nfp, emulator or host)", name)
}

// TargetForMCPU is the NFP target of an --mcpu name ("" is corenic).
func TargetForMCPU(mcpu string) (*Target, error) {
	switch mcpu {
	case "", "corenic":
		return NFPTarget, nil
	case "emulator":
		return EmulatorTarget, nil
	}
	return nil, fmt.Errorf("unknown --mcpu %q (want %s)", mcpu, strings.Join(MCPUs, " or "))
}

// errorf is a target rejection at pc: "[nfp] REASON", with the C source
// line as file:line when the object has BTF line info.
func (t *Target) errorf(v *vm, pc int, format string, a ...any) *Error {
	e := v.errorf(pc, "[nfp] "+format, a...)
	// clang gives line info to the first instruction of a statement only:
	// the line is the nearest one at or before pc.
	for i := pc; i >= 0 && i < len(v.insns); i-- {
		if v.insns[i] == nil {
			continue
		}
		if l, ok := v.insns[i].Source().(*btf.Line); ok && l.FileName() != "" {
			e.Source = fmt.Sprintf("%s:%d: %s", l.FileName(), l.LineNumber(), strings.TrimSpace(l.Line()))
			break
		}
		if i < pc && v.insns[i].Symbol() != "" {
			break // the start of pc's function
		}
	}
	return e
}

// liftable is a rejection the emulator target would accept: it says so.
func (t *Target) liftable(e *Error) *Error {
	if t.Lifts != nil {
		e.Reason += fmt.Sprintf(" (--mcpu=%s accepts this: nfpcc's firmware model only, not a CoreNIC card)", t.Lifts.MCPU)
	}
	return e
}

// isGlobalData says whether m is a global data section's map (.data,
// .bss, .rodata, …), which the loader gives initial contents.
func isGlobalData(m *loader.Map) bool {
	return m != nil && m.Contents != nil && strings.HasPrefix(m.Name, ".")
}

// checkProgram checks what is known before interpretation: the program
// type and the maps the program references (through any of its
// subprograms); maps it does not reference do not matter. A map rejection
// points at the first instruction that references the map.
func (t *Target) checkProgram(v *vm) error {
	if !slices.Contains(t.ProgTypes, v.progType) {
		return t.errorf(v, -1, "program type %s cannot be offloaded (only XDP and tc cls_bpf)", v.progType)
	}
	firstUse := map[int]int{}
	var used []int
	for pc, ins := range v.insns {
		if ins != nil && ins.OpCode.IsDWordLoad() && (ins.Src == asm.PseudoMapFD || ins.Src == asm.PseudoMapValue) {
			i := int(uint32(ins.Constant))
			if _, ok := firstUse[i]; !ok {
				firstUse[i] = pc
				used = append(used, i)
			}
		}
	}
	entries, n := 0, 0
	for _, i := range used {
		if i < 0 || i >= len(v.maps) || v.maps[i] == nil {
			continue
		}
		m := v.maps[i]
		if isGlobalData(m) {
			continue // checked where it is accessed (checkGlobalData)
		}
		if err := t.checkMap(v, firstUse[i], m); err != nil {
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
	if t.MaxEntries > 0 && entries > t.MaxEntries {
		return t.liftable(t.errorf(v, -1, "%d map entries in all, the firmware holds %d", entries, t.MaxEntries))
	}
	return nil
}

func (t *Target) checkMap(v *vm, pc int, m *loader.Map) error {
	if slices.Contains(t.OffloadNeutral, m.Type) {
		return nil
	}
	if !slices.Contains(t.MapTypes, m.Type) {
		return t.errorf(v, pc, "map %s: type %s not supported by the firmware (hash and array only)%s", m.Name, m.Type, mapHint(m))
	}
	if m.Flags != 0 && !m.ReadOnly {
		return t.errorf(v, pc, "map %s: map flags %#x not supported", m.Name, m.Flags)
	}
	k, val := int(m.KeySize), int(m.ValueSize)
	if k > t.MaxKeySize || val > t.MaxValueSize || roundUp(k, 8)+roundUp(val, 8) > t.MaxEntrySize {
		return t.errorf(v, pc, "map %s: key %d B / value %d B exceed the firmware's %d/%d B (%d B per entry)",
			m.Name, k, val, t.MaxKeySize, t.MaxValueSize, t.MaxEntrySize)
	}
	return nil
}

// checkInsn rejects instruction forms the target cannot run whatever the
// state.
func (t *Target) checkInsn(v *vm, st *State, pc int, ins *asm.Instruction) error {
	op := ins.OpCode
	if op.Class() == asm.LdClass && !op.IsDWordLoad() && op.Size() == asm.DWord {
		return t.errorf(v, pc, "instruction %#02x not supported", uint8(op))
	}
	return nil
}

// checkALU: the NFP has no divider; nfpcc lowers division and modulo by
// any divisor in software, so only operand widths matter here.
func (t *Target) checkALU(v *vm, pc int, ins *asm.Instruction, d, s Scalar) error { return nil }

// checkMem applies the offload's pointer rules: one pointer kind per
// instruction, constant stack offsets that agree modulo 4 across paths;
// and the backend's map value and global data forms (target_forms.go).
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
	switch a.ptr.Kind {
	case Stack:
		if !a.ptr.Value.IsConst() {
			return t.errorf(v, a.pc, "variable ptr stack access")
		}
		off := a.ptr.Off + a.off
		if prev, ok := v.stackOffAt[a.pc]; ok && (prev-off)%4 != 0 {
			return t.errorf(v, a.pc, "stack access changed location was:%d is:%d", prev, off)
		}
		v.stackOffAt[a.pc] = off
	case Packet:
		if t.PacketSplit > 0 {
			end := int64(a.ptr.Off) + int64(a.off) + int64(a.size) + int64(a.ptr.Value.UMax)
			if end > int64(t.PacketSplit) {
				return t.errorf(v, a.pc, "packet access up to byte %d is beyond the HW packet split boundary (%d)", end, t.PacketSplit)
			}
		}
	case MapValue:
		if a.ptr.Map >= 0 && int(a.ptr.Map) < len(v.maps) && isGlobalData(v.maps[a.ptr.Map]) {
			if err := t.checkGlobalData(v, a, isCall); err != nil {
				return err
			}
		}
		if !isCall {
			return t.checkMapValueAccess(v, a, ins)
		}
	}
	return nil
}

// checkHelper rejects helpers the target lacks and checks the argument
// forms it needs.
func (t *Target) checkHelper(v *vm, st *State, pc int, h *helper) error {
	c, ok := t.Helpers[h.id]
	if !ok {
		return t.errorf(v, pc, "unsupported function id: %d (bpf_%s)%s", h.id, h.name, helperHint(h.id))
	}
	if c.check != nil {
		return c.check(t, v, st, pc, h)
	}
	return nil
}

// checkExit: tc programs must return a constant the firmware can report.
func (t *Target) checkExit(v *vm, pc int, r0 *Reg) error {
	switch v.progType {
	case ebpf.SchedCLS:
		if t.TCReturns == nil {
			return nil
		}
		if !r0.IsConst() {
			return t.liftable(t.errorf(v, pc, "unsupported exit state: %s, var_off: %s", r0.Kind, r0.Value.Var))
		}
		c := int64(int32(r0.Value.ConstValue()))
		if !slices.Contains(t.TCReturns, c) && c <= 7 {
			return t.liftable(t.errorf(v, pc, "unsupported exit state: %d (TC_ACT OK, RECLASSIFY, PIPE, REPEAT and REDIRECT cannot be reported)", c))
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
