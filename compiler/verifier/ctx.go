package verifier

import (
	"github.com/cilium/ebpf"
)

// CtxField is one field of a program type's context structure.
type CtxField struct {
	Name   string
	Off    int32
	Size   int32 // the field's full size
	Result Kind  // what a full-size load yields: ScalarKind, Packet, PacketEnd or PacketMeta
	Write  bool  // programs may store to it
	Narrow bool  // loads of 1, 2 or 4 bytes inside it are allowed (scalars only)
	// Any: a read-only area where every aligned load of 1, 2, 4 or 8 bytes
	// is allowed (tracing contexts: registers, tracepoint records).
	Any bool
}

// ContextLayout is what a program type's context allows (the kernel's
// is_valid_access callbacks, as tables).
type ContextLayout struct {
	Name   string
	Size   int32
	Fields []CtxField
}

// find returns the field containing [off, off+size).
func (c *ContextLayout) find(off, size int32) *CtxField {
	for i := range c.Fields {
		f := &c.Fields[i]
		if off >= f.Off && off+size <= f.Off+f.Size {
			return f
		}
	}
	return nil
}

// xdpMD is struct xdp_md (include/uapi/linux/bpf.h); xdp_is_valid_access
// allows only 4-byte reads and no writes. egress_ifindex (offset 20) is
// left out: the kernel allows it only to programs attached to a devmap
// (expected_attach_type BPF_XDP_DEVMAP), which nfpcc does not model; the
// kernel rejects it for every other XDP program.
var xdpMD = &ContextLayout{Name: "xdp_md", Size: 24, Fields: []CtxField{
	{Name: "data", Off: 0, Size: 4, Result: Packet},
	{Name: "data_end", Off: 4, Size: 4, Result: PacketEnd},
	{Name: "data_meta", Off: 8, Size: 4, Result: PacketMeta},
	{Name: "ingress_ifindex", Off: 12, Size: 4, Result: ScalarKind},
	{Name: "rx_queue_index", Off: 16, Size: 4, Result: ScalarKind},
}}

// skBuffTC is struct __sk_buff as tc (cls_bpf, act_bpf) programs see it
// (tc_cls_act_is_valid_access).
var skBuffTC = &ContextLayout{Name: "__sk_buff", Size: 192, Fields: []CtxField{
	{Name: "len", Off: 0, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "pkt_type", Off: 4, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "mark", Off: 8, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "queue_mapping", Off: 12, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "protocol", Off: 16, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "vlan_present", Off: 20, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "vlan_tci", Off: 24, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "vlan_proto", Off: 28, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "priority", Off: 32, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "ingress_ifindex", Off: 36, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "ifindex", Off: 40, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "tc_index", Off: 44, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "cb[0]", Off: 48, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "cb[1]", Off: 52, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "cb[2]", Off: 56, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "cb[3]", Off: 60, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "cb[4]", Off: 64, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "hash", Off: 68, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "tc_classid", Off: 72, Size: 4, Result: ScalarKind, Narrow: true, Write: true},
	{Name: "data", Off: 76, Size: 4, Result: Packet},
	{Name: "data_end", Off: 80, Size: 4, Result: PacketEnd},
	{Name: "napi_id", Off: 84, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "data_meta", Off: 140, Size: 4, Result: PacketMeta},
	{Name: "tstamp", Off: 152, Size: 8, Result: ScalarKind, Write: true},
	{Name: "wire_len", Off: 160, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "gso_segs", Off: 164, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "gso_size", Off: 176, Size: 4, Result: ScalarKind, Narrow: true},
	{Name: "hwtstamp", Off: 184, Size: 8, Result: ScalarKind},
}}

// skBuffSocket is __sk_buff for socket filters: no direct packet access,
// only cb[] writable.
var skBuffSocket = func() *ContextLayout {
	c := &ContextLayout{Name: "__sk_buff", Size: 192}
	for _, f := range skBuffTC.Fields {
		switch f.Result {
		case Packet, PacketEnd, PacketMeta:
			continue
		}
		f.Write = f.Name[:2] == "cb"
		c.Fields = append(c.Fields, f)
	}
	return c
}()

// ptRegs is struct pt_regs of x86-64 (21 registers), the kprobe context.
var ptRegs = &ContextLayout{Name: "pt_regs", Size: 168, Fields: []CtxField{
	{Name: "regs", Off: 0, Size: 168, Result: ScalarKind, Any: true},
}}

// tracepointCtx is a tracepoint record: the first 8 bytes (common fields)
// are hidden, the rest up to PERF_MAX_TRACE_SIZE is readable.
var tracepointCtx = &ContextLayout{Name: "tracepoint record", Size: 2048, Fields: []CtxField{
	{Name: "record", Off: 8, Size: 2040, Result: ScalarKind, Any: true},
}}

// perfEventData is struct bpf_perf_event_data: pt_regs, sample_period, addr.
var perfEventData = &ContextLayout{Name: "bpf_perf_event_data", Size: 184, Fields: []CtxField{
	{Name: "regs", Off: 0, Size: 168, Result: ScalarKind, Any: true},
	{Name: "sample_period", Off: 168, Size: 8, Result: ScalarKind, Narrow: true},
	{Name: "addr", Off: 176, Size: 8, Result: ScalarKind, Narrow: true},
}}

// rawTracepointCtx is the u64 argument array of raw tracepoints.
var rawTracepointCtx = &ContextLayout{Name: "raw tracepoint args", Size: 96, Fields: []CtxField{
	{Name: "args", Off: 0, Size: 96, Result: ScalarKind, Any: true},
}}

// contextLayouts maps program types to their contexts; a type not listed
// has no context field nfpcc knows, so context loads are rejected.
var contextLayouts = map[ebpf.ProgramType]*ContextLayout{
	ebpf.XDP:           xdpMD,
	ebpf.SchedCLS:      skBuffTC,
	ebpf.SchedACT:      skBuffTC,
	ebpf.SocketFilter:  skBuffSocket,
	ebpf.CGroupSKB:     skBuffSocket,
	ebpf.Kprobe:        ptRegs,
	ebpf.TracePoint:    tracepointCtx,
	ebpf.PerfEvent:     perfEventData,
	ebpf.RawTracepoint: rawTracepointCtx,
}

func contextFor(t ebpf.ProgramType) *ContextLayout {
	if c, ok := contextLayouts[t]; ok {
		return c
	}
	return &ContextLayout{Name: "unknown context"}
}

// packetAccess lists the program types with direct packet access, and
// whether they may write (may_access_direct_pkt_data).
var packetAccess = map[ebpf.ProgramType]bool{
	ebpf.XDP: true, ebpf.SchedCLS: true, ebpf.SchedACT: true, ebpf.LWTXmit: true, ebpf.SkSKB: true,
	ebpf.LWTIn: false, ebpf.LWTOut: false, ebpf.CGroupSKB: false, ebpf.SkMsg: true, ebpf.FlowDissector: false,
}

// ldAbsTypes may use the legacy LD_ABS/LD_IND packet loads.
var ldAbsTypes = map[ebpf.ProgramType]bool{
	ebpf.SocketFilter: true, ebpf.SchedCLS: true, ebpf.SchedACT: true, ebpf.CGroupSKB: true,
}
