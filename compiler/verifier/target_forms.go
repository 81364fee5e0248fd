package verifier

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// The argument and instruction forms of the NFP capability table: the
// forms the kernel accepts but the NFP (its firmware, or nfpcc's backend)
// cannot run. Each message is the backend's own, so that a program the
// table refuses fails `verify --target=nfp` and the compiler with the same
// words, and a program it accepts never reaches a backend refusal
// (compiler/agreement_test.go).

// checkMapHelper: the firmware's map helpers read the key and value from
// the stack, at an offset the program fixes (the backend stages an
// unaligned one into an aligned copy).
func checkMapHelper(t *Target, v *vm, st *State, pc int, h *helper) error {
	fr := st.cur()
	for i, k := range h.args {
		if k != argMapKey && k != argMapValue {
			continue
		}
		r := &fr.regs[asm.R1+asm.Register(i)]
		if r.Kind != Stack {
			return t.errorf(v, pc, "bpf_%s: unsupported ptr type %s (the firmware reads keys and values from the stack: copy it to a stack variable first)", h.name, r.Kind)
		}
		if !r.Value.IsConst() {
			return t.errorf(v, pc, "bpf_%s: variable pointer", h.name)
		}
		what := map[argKind]string{argMapKey: "key", argMapValue: "value"}[k]
		if off := int64(r.Off) + int64(r.Value.ConstValue()); !t.SkipBackendForms && !fixed(v, fixedKey{pc, 1 + i}, off) {
			return t.errorf(v, pc, "bpf_%s: the %s is at a different stack address on another path (the NFP needs one address per call: copy it to one stack variable)", h.name, what)
		}
	}
	if h.id == 2 {
		t.noteUpdate(v, st, pc)
	}
	return t.checkMapArg(v, st, pc, h)
}

// checkMapArg: a helper call site works on one map, the same on every
// path (its id is part of the code).
func (t *Target) checkMapArg(v *vm, st *State, pc int, h *helper) error {
	if t.SkipBackendForms {
		return nil
	}
	r1 := &st.cur().regs[asm.R1]
	if h.id == 25 {
		r1 = &st.cur().regs[asm.R2]
	}
	if r1.Kind == MapPtr && !fixed(v, fixedKey{pc, 0}, int64(r1.Map)) {
		return t.errorf(v, pc, "bpf_%s: the map differs between paths (the NFP needs one map per call: call the helper once per map)", h.name)
	}
	return nil
}

// nfpState is what the NFP rules that span paths record during one
// verification.
type nfpState struct {
	// fixedAt: per instruction, what must be the same on every path (a map
	// value load's offset, a helper's map and stack arguments).
	fixedAt map[fixedKey]int64
	// wordUse: how map value words are used, atomically or plainly.
	wordUse map[wordKey]wordUse
	// updates: per bpf_map_update_elem call, its map and which value
	// words were known zero on every path (checked at the end against
	// the atomic words: checkEnd).
	updates map[int]*updateSite
}

type updateSite struct {
	m    int
	zero []bool // per 32-bit word of the value
}

func (n *nfpState) init() {
	if n.fixedAt == nil {
		n.fixedAt, n.wordUse, n.updates = map[fixedKey]int64{}, map[wordKey]wordUse{}, map[int]*updateSite{}
	}
}

// noteUpdate records which words of the value a bpf_map_update_elem at pc
// writes as known zeros on this path.
func (t *Target) noteUpdate(v *vm, st *State, pc int) {
	v.nfp.init()
	r1, r3 := &st.cur().regs[asm.R1], &st.cur().regs[asm.R3]
	if r1.Kind != MapPtr || r3.Kind != Stack || !r3.Value.IsConst() || int(r3.Frame) >= len(st.frames) || int(r1.Map) >= len(v.maps) {
		return
	}
	size := int(v.maps[r1.Map].ValueSize)
	u := v.nfp.updates[pc]
	if u == nil {
		u = &updateSite{m: int(r1.Map), zero: make([]bool, (size+3)/4)}
		for i := range u.zero {
			u.zero[i] = true
		}
		v.nfp.updates[pc] = u
	}
	f := st.frames[r3.Frame]
	base := int(r3.Off) + int(r3.Value.ConstValue())
	for b := 0; b < size; b++ {
		if !zeroByte(f, base+b) {
			u.zero[b/4] = false
		}
	}
}

// zeroByte says whether stack byte off of f is known to be zero.
func zeroByte(f *frame, off int) bool {
	k, s := f.byteAt(off)
	switch {
	case k == byteZero:
		return true
	case k == byteSpill && s.spill.Kind == ScalarKind && s.spill.IsConst():
		return s.spill.Value.ConstValue()>>(8*((off+StackSize)%8))&0xff == 0
	}
	return false
}

// checkEnd applies the rules that need the whole program: an update of a
// map whose value has atomic words must write zeros there (the firmware
// writes the value as it is, little-endian, where the atomic engine keeps
// big-endian words; the kernel's nfp verifier: "bpf_map_update_elem() is
// required to initialize atomic counters to zero").
func (t *Target) checkEnd(v *vm) error {
	if t.SkipBackendForms {
		return nil
	}
	pcs := make([]int, 0, len(v.nfp.updates))
	for pc := range v.nfp.updates {
		pcs = append(pcs, pc)
	}
	slices.Sort(pcs)
	for _, pc := range pcs {
		u := v.nfp.updates[pc]
		for w, zero := range u.zero {
			use, ok := v.nfp.wordUse[wordKey{u.m, int64(w)}]
			if ok && use.atomic && !zero {
				return t.errorf(v, pc, "bpf_map_update_elem may write a non-zero value to a word of map %s's value that %s (eBPF slot %d) uses atomically; the NFP keeps atomic words big-endian, so the update must write zeros there",
					v.maps[u.m].Name, use.what, use.pc)
			}
		}
	}
	return nil
}

// fixedKey is an instruction and which of its operands.
type fixedKey struct{ pc, what int }

// fixed records val for k and says whether it is the value every path
// seen so far had there.
func fixed(v *vm, k fixedKey, val int64) bool {
	v.nfp.init()
	if prev, ok := v.nfp.fixedAt[k]; ok {
		return prev == val
	}
	v.nfp.fixedAt[k] = val
	return true
}

// checkPerfOutput: BPF_F_CURRENT_CPU (the driver's rule), and data the
// firmware can copy: stack, packet or map value.
func checkPerfOutput(t *Target, v *vm, st *State, pc int, h *helper) error {
	fr := st.cur()
	r3 := &fr.regs[asm.R3]
	// Only the index bits matter: the size may ride in the upper half.
	if r3.Kind != ScalarKind || !r3.Value.Var.Subreg().IsConst() || uint32(r3.Value.Var.Value) != 0xffffffff {
		return t.errorf(v, pc, "event_output: must use BPF_F_CURRENT_CPU, var_off: %s", r3.Value.Var)
	}
	switch r4 := &fr.regs[asm.R4]; region(r4.Kind) {
	case Stack, Packet, MapValue, MapValueOrNull:
	default:
		if t.SkipBackendForms {
			break
		}
		return t.errorf(v, pc, "bpf_perf_event_output: data in %s memory is not supported", r4.Kind)
	}
	if err := t.checkMapArg(v, st, pc, h); err != nil {
		return err
	}
	v.warn("[nfp] return codes and behavior of event_output helper differ for offload")
	return nil
}

// checkCsumDiff: the backend's inline bpf_csum_diff sums constant-size
// ranges (multiples of 4, at most 512 bytes in all) in the packet or at
// word-aligned constant stack addresses (backend/csum.go).
func checkCsumDiff(t *Target, v *vm, st *State, pc int, h *helper) error {
	if t.SkipBackendForms {
		return nil
	}
	fr := st.cur()
	var total uint32
	for _, r := range []struct {
		ptr, size asm.Register
		what      string
	}{{asm.R1, asm.R2, "from_size"}, {asm.R3, asm.R4, "to_size"}} {
		sz := &fr.regs[r.size]
		n := uint32(sz.Value.ConstValue())
		if !sz.IsConst() || n%4 != 0 || n > 512 {
			return t.errorf(v, pc, "bpf_csum_diff: %s must be a constant multiple of 4 up to 512", r.what)
		}
		total += n
		if n == 0 {
			continue
		}
		switch p := &fr.regs[r.ptr]; p.Kind {
		case Packet:
		case Stack:
			if !p.Value.IsConst() {
				return t.errorf(v, pc, "bpf_csum_diff: a range must be in the packet or at a constant stack address")
			}
			if (int64(p.Off)+int64(p.Value.ConstValue()))%4 != 0 {
				return t.errorf(v, pc, "bpf_csum_diff: a stack range must start at a 4-byte boundary")
			}
		default:
			return t.errorf(v, pc, "bpf_csum_diff: a range must be in the packet or at a constant stack address")
		}
	}
	if total == 0 || total > 512 {
		return t.errorf(v, pc, "bpf_csum_diff: from_size + to_size must be from 4 to 512")
	}
	return nil
}

// checkAdjustTail: the NFP cannot grow a frame.
func checkAdjustTail(t *Target, v *vm, st *State, pc int, h *helper) error {
	if t.SkipBackendForms {
		return nil
	}
	r2 := &st.cur().regs[asm.R2]
	if r2.IsConst() {
		if c := int32(r2.Value.ConstValue()); c > 0 {
			return t.errorf(v, pc, "bpf_xdp_adjust_tail by +%d: the NFP cannot grow a frame", c)
		}
		return nil
	}
	// The delta is an int: its low 32 bits decide (r2 = -2^32 + 3 grows
	// the frame by 3), so a 64-bit bound alone proves nothing.
	if r2.Value.S32Max > 0 {
		return t.errorf(v, pc, "bpf_xdp_adjust_tail by a delta the verifier did not prove <= 0: the NFP cannot grow a frame")
	}
	return nil
}

// atomicNames are the IR's names of the atomic operations (the backend's
// messages use them).
var atomicNames = map[asm.AtomicOp]string{
	asm.AddAtomic: "atomic_add", asm.OrAtomic: "atomic_or", asm.AndAtomic: "atomic_and", asm.XorAtomic: "atomic_xor",
	asm.FetchAdd: "atomic_fetch_add", asm.FetchOr: "atomic_fetch_or", asm.FetchAnd: "atomic_fetch_and",
	asm.FetchXor: "atomic_fetch_xor", asm.Xchg: "xchg", asm.CmpXchg: "cmpxchg",
}

// checkMapValueAccess: map values live in EMEM, read as whole aligned
// words, so a load needs the pointer's offset fixed (the same on every
// path); atomics go to the memory engine (no cmpxchg), on naturally
// aligned words.
func (t *Target) checkMapValueAccess(v *vm, a *access, ins *asm.Instruction) error {
	if t.SkipBackendForms {
		return nil
	}
	if ins.OpCode.Class() == asm.StXClass && ins.OpCode.Mode() == asm.AtomicMode {
		if a.write {
			return nil // the read half was checked
		}
		aop := ins.OpCode.AtomicOp()
		name := fmt.Sprintf("%s%d", atomicNames[aop], 8*a.size)
		if err := t.useWords(v, a, true, name); err != nil {
			return err
		}
		if aop == asm.CmpXchg {
			// The memory engine swaps, sets, clears, toggles and adds
			// (with or without the old value back), but does not compare.
			return t.errorf(v, a.pc, "%s on a map value is not supported (the NFP's memory engine has no compare-and-exchange)", name)
		}
		if a.ptr.Value.IsConst() {
			off := int64(a.ptr.Off) + int64(a.ptr.Value.ConstValue()) + int64(a.off)
			if off%int64(a.size) != 0 {
				return t.errorf(v, a.pc, "%s at map value offset %d is not %d-byte aligned (the kernel refuses misaligned atomics)", name, off, a.size)
			}
		}
		return nil
	}
	if a.write {
		return t.useWords(v, a, false, fmt.Sprintf("store%d", 8*a.size))
	}
	if ins.OpCode.Class() != asm.LdXClass {
		return nil
	}
	load := "load"
	if ins.OpCode.Mode() == asm.MemSXMode {
		load = "loadsx"
	}
	if err := t.useWords(v, a, false, fmt.Sprintf("%s%d", load, 8*a.size)); err != nil {
		return err
	}
	if !a.ptr.Value.IsConst() {
		return t.errorf(v, a.pc, "map value load at an offset the verifier did not fix")
	}
	poff := int64(a.ptr.Off) + int64(a.ptr.Value.ConstValue())
	if !fixed(v, fixedKey{a.pc, 0}, poff) {
		return t.errorf(v, a.pc, "map value load at an offset the verifier did not fix")
	}
	// Loads at any lane read the words they cross (backend extract).
	return nil
}

// wordKey is one 32-bit word of a map's value.
type wordKey struct {
	m    int
	word int64
}

// wordUse is the first use of a map value word: atomic or plain, where.
type wordUse struct {
	atomic bool
	pc     int
	what   string
}

// useWords records the words access a touches and refuses a word used
// both atomically and plainly anywhere in the program: the NFP's atomic
// engine keeps its words big-endian, plain accesses are little-endian
// (the kernel's nfp verifier: "map value use type conflict"). An access at
// a variable offset may touch every word of the value.
func (t *Target) useWords(v *vm, a *access, atomic bool, what string) error {
	v.nfp.init()
	m := v.maps[a.ptr.Map]
	lo, hi := int64(0), int64(m.ValueSize)
	if a.ptr.Value.IsConst() {
		lo = int64(a.ptr.Off) + int64(a.ptr.Value.ConstValue()) + int64(a.off)
		hi = lo + int64(a.size)
	}
	for w := lo >> 2; w <= (hi-1)>>2; w++ {
		k := wordKey{int(a.ptr.Map), w}
		u, ok := v.nfp.wordUse[k]
		if !ok {
			v.nfp.wordUse[k] = wordUse{atomic: atomic, pc: a.pc, what: what}
			continue
		}
		if u.atomic != atomic {
			return t.errorf(v, a.pc, "%s and %s (eBPF slot %d) use a word of map %s's value both atomically and plainly; the NFP keeps atomic words big-endian (use the word only through __sync_fetch_and_add, or move the plain data to another word)",
				what, u.what, u.pc, m.Name)
		}
	}
	return nil
}

// checkGlobalData: global data lives in memory only nfpcc's firmware model
// has. A read at a constant offset of a frozen .rodata map is a constant
// (the verifier folds it, as the kernel does for BPF_F_RDONLY_PROG maps)
// and needs no map on the NFP.
func (t *Target) checkGlobalData(v *vm, a *access, isCall bool) error {
	if t.GlobalData {
		return nil
	}
	m := v.maps[a.ptr.Map]
	off := int64(a.ptr.Off) + int64(a.off)
	if !a.write && !isCall && m.ReadOnly && a.ptr.Value.IsConst() {
		hi := off + int64(a.ptr.Value.ConstValue()) + int64(a.size)
		if hi <= int64(len(m.Contents)) {
			return nil
		}
	}
	what := "write"
	switch ins := v.insns[a.pc]; {
	case ins.OpCode.Class() == asm.StXClass && ins.OpCode.Mode() == asm.AtomicMode:
		what = "atomic update"
	case isCall:
		what = "helper argument"
	case !a.write:
		what = "read"
	}
	hint := "only constant-offset reads of a const (.rodata) global become constants"
	switch {
	case what == "atomic update" || a.write:
		hint = "keep a counter or state in a BPF_MAP_TYPE_ARRAY map of one entry: look it up, then update it (__sync_fetch_and_add for counters)"
	case m.ReadOnly:
		hint = "only reads at constant offsets of .rodata become constants: make the index a constant"
	}
	return t.liftable(t.errorf(v, a.pc, "global data %s: %s at offset %d needs memory the CoreNIC firmware does not have (%s)", m.Name, what, off, hint))
}

// mapHint says what to change for a map type the NFP cannot hold.
func mapHint(m *loader.Map) string {
	switch m.Type {
	case ebpf.PerCPUArray:
		return ": the NFP has no per-CPU maps; a BPF_MAP_TYPE_ARRAY updated with __sync_fetch_and_add offloads"
	case ebpf.PerCPUHash:
		return ": the NFP has no per-CPU maps; a BPF_MAP_TYPE_HASH updated with __sync_fetch_and_add offloads"
	case ebpf.LRUHash, ebpf.LRUCPUHash:
		return ": the firmware does not evict; a BPF_MAP_TYPE_HASH offloads (updates fail when it is full)"
	case ebpf.ProgramArray:
		return ": the NFP has no tail calls; call the other program as a function (BPF-to-BPF calls are inlined) or load it separately"
	case ebpf.DevMap, ebpf.DevMapHash, ebpf.CPUMap, ebpf.XSKMap:
		return ": the NFP cannot redirect to other devices, CPUs or sockets; XDP_TX sends the frame back out of its port"
	case ebpf.LPMTrie:
		return ": the NFP has no longest-prefix match; use one BPF_MAP_TYPE_HASH per prefix length"
	case ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		return ": the NFP has no map-in-map; flatten it into one BPF_MAP_TYPE_HASH with a compound key"
	}
	return ""
}

// helperHint says what to do instead of a helper the NFP lacks.
func helperHint(id int32) string {
	switch id {
	case 12:
		return ": the NFP has no tail calls; call the other program as a function (BPF-to-BPF calls are inlined) or load it as a separate program"
	case 6:
		return ": the NFP has no trace pipe; count events in an ARRAY map or send them with bpf_perf_event_output"
	case 8:
		return ": the NFP has no per-CPU state; key by something else (the RX queue: ctx->rx_queue_index)"
	case 5:
		return ": the NFP has no clock a program can read"
	case 23, 51:
		return ": the NFP cannot redirect to another device; return XDP_TX to send the frame back out of its port"
	case 9, 10, 11:
		return ": write the packet through direct packet access (ctx->data) and fix checksums with arithmetic"
	case 18, 19, 38, 39, 43, 50:
		return ": the NFP cannot change a tc frame's size; in XDP, bpf_xdp_adjust_head and bpf_xdp_adjust_tail (shrinking) are offloaded"
	case 54:
		return ": the NFP has no metadata area in front of the frame"
	case 34:
		return ": compute a hash of the header fields in the program (the NFP has no skb hash)"
	case 69:
		return ": the NIC has no kernel routing table; keep next hops in a BPF_MAP_TYPE_HASH keyed by prefix"
	}
	return ""
}

// ctxRefusal is an access to a context field the firmware does not
// provide; it lists the fields it does.
func (t *Target) ctxRefusal(v *vm, a *access, off int32) *Error {
	var fields []string
	for _, f := range v.ctx.Fields {
		acc := "read"
		if f.Write {
			acc = "read/write"
		}
		fields = append(fields, fmt.Sprintf("%s (%s)", f.Name, acc))
	}
	note := ""
	if v.progType == ebpf.XDP && off == 16 {
		note = "; rx_queue_index: CoreNIC can select the queue, nfpcc's backend does not lower it yet"
	}
	return t.errorf(v, a.pc, "unsupported %s of %s at off=%d size=%d (the NFP provides %s%s)",
		a.verb(), v.ctx.Name, off, a.size, strings.Join(fields, ", "), note)
}
