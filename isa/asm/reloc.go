package asm

import (
	"fmt"
	"strconv"
	"strings"
)

// RelocKind says how a loader patches a word. The numbers are the Linux
// kernel's enum nfp_relo_type, the same as isa/image's RelocKind.
type RelocKind uint8

const (
	RelocBrRel            RelocKind = 1 // a branch inside the code: target += load offset
	RelocBrGoOut          RelocKind = 2 // a branch to the outro at Value
	RelocBrGoAbort        RelocKind = 3 // a branch to the abort path at Value
	RelocBrGoCallPushRegs RelocKind = 4 // a branch to the register-push subroutine at Value
	RelocBrGoCallPopRegs  RelocKind = 5 // a branch to the register-pop subroutine at Value
	RelocBrNextPkt        RelocKind = 6 // a branch to the firmware's next-packet code
	RelocBrHelper         RelocKind = 7 // a call of firmware helper Value (eBPF helper id)
	RelocImmedRel         RelocKind = 8 // an immed holding a code address: += load offset
)

// Reloc is one word a loader patches.
type Reloc struct {
	Word  int
	Kind  RelocKind
	Value int // the target word for kinds 2–5, the helper id for 7, else 0
}

// branchRelocBase is the kernel's BR_OFF_RELO: the placeholder target the
// JIT writes in branches fixed at load; helper calls add the helper id.
const branchRelocBase = 15000

// relocTargets are the load-time branch targets the assembler accepts in
// place of an address, written as the kernel's relocation kinds:
//
//	br[@out(label)]       RELO_BR_GO_OUT to the outro at label
//	br[@abort(label)]     RELO_BR_GO_ABORT
//	br[@push_regs(label)] RELO_BR_GO_CALL_PUSH_REGS
//	br[@pop_regs(label)]  RELO_BR_GO_CALL_POP_REGS
//	br[@next_pkt]         RELO_BR_NEXT_PKT (firmware address)
//	br[@helper(1)]        RELO_BR_HELPER: helper id or name (bpf_map_lookup_elem, …)
//
// The word holds the JIT's placeholder (.15000, .15000+id for helpers), so
// the code is what the kernel JIT would hand to its relocation pass.
var relocTargets = map[string]RelocKind{
	"out": RelocBrGoOut, "abort": RelocBrGoAbort, "push_regs": RelocBrGoCallPushRegs,
	"pop_regs": RelocBrGoCallPopRegs, "next_pkt": RelocBrNextPkt, "helper": RelocBrHelper,
}

// helperIDs are the firmware helpers (kernel nfp_bpf_relo_for_vnic).
var helperIDs = map[string]int{
	"bpf_map_lookup_elem": 1, "bpf_map_update_elem": 2, "bpf_map_delete_elem": 3, "bpf_perf_event_output": 25,
}

// splitCall splits "@name(arg)" into name and arg; "@name" has no arg.
func splitCall(s string) (name, arg string, hasArg, ok bool) {
	if !strings.HasPrefix(s, "@") {
		return "", "", false, false
	}
	s = s[1:]
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return "", "", false, false
		}
		return s[:i], s[i+1 : len(s)-1], true, true
	}
	return s, "", false, true
}

// relocTarget resolves a `@kind(…)` branch target: the placeholder address
// the word holds, and the relocation.
func (e *encoder) relocTarget(a *arg, labels map[string]int) (int, *Reloc, error) {
	name, argText, hasArg, ok := splitCall(a.Text)
	kind, known := relocTargets[name]
	if !ok || !known {
		return 0, nil, e.errAt(a, "%q: load-time targets are @out(label), @abort(label), @push_regs(label), @pop_regs(label), @next_pkt, @helper(id)", a.Text)
	}
	switch kind {
	case RelocBrNextPkt:
		if hasArg {
			return 0, nil, e.errAt(a, "@next_pkt takes no argument")
		}
		return branchRelocBase, &Reloc{Kind: kind}, nil
	case RelocBrHelper:
		id, isName := helperIDs[argText]
		if !isName {
			v, err := strconv.Atoi(argText)
			if err != nil || !hasArg {
				return 0, nil, e.errAt(a, "@helper(%s): want a helper id or name (bpf_map_lookup_elem, bpf_map_update_elem, bpf_map_delete_elem, bpf_perf_event_output)", argText)
			}
			id = v
		}
		known := false
		for _, v := range helperIDs {
			known = known || v == id
		}
		if !known {
			return 0, nil, e.errAt(a, "@helper(%s): the firmware has no helper %d", argText, id)
		}
		return branchRelocBase + id, &Reloc{Kind: kind, Value: id}, nil
	}
	t, ok := labels[argText]
	if !hasArg || !ok {
		return 0, nil, e.errAt(a, "@%s(%s): want a label of this code", name, argText)
	}
	return branchRelocBase, &Reloc{Kind: kind, Value: t}, nil
}

// immedReloc resolves `@rel(label)`, the value of an immed that holds a
// code address (RELO_IMMED_REL).
func (e *encoder) immedReloc(a *arg, labels map[string]int) (uint32, *Reloc, error) {
	name, argText, hasArg, ok := splitCall(a.Text)
	t, isLabel := labels[argText]
	if !ok || name != "rel" || !hasArg || !isLabel {
		return 0, nil, e.errAt(a, "%q: an immed's code address is written @rel(label)", a.Text)
	}
	return uint32(t), &Reloc{Kind: RelocImmedRel}, nil
}

func (k RelocKind) String() string {
	for n, kk := range relocTargets {
		if kk == k {
			return "@" + n
		}
	}
	switch k {
	case RelocBrRel:
		return "branch"
	case RelocImmedRel:
		return "@rel"
	}
	return fmt.Sprintf("reloc(%d)", uint8(k))
}
