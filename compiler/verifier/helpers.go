package verifier

import (
	"github.com/cilium/ebpf"
)

// argKind is what a helper expects in one argument register (the kernel's
// enum bpf_arg_type).
type argKind uint8

const (
	argNone           argKind = iota
	argAnything               // any initialised value
	argScalar                 // a number
	argMap                    // a map (CONST_PTR_TO_MAP)
	argMapKey                 // pointer to map.KeySize readable bytes
	argMapValue               // pointer to map.ValueSize readable bytes
	argMem                    // pointer to readable memory, its size in the next argument
	argMemOrNull              // like argMem, or a null pointer with size 0
	argUninitMem              // pointer to writable memory the helper fills, size next
	argSize                   // the size of the previous memory argument, > 0
	argSizeOrZero             // the same, 0 allowed
	argCtx                    // the program's context
	argSock                   // a socket from a lookup, checked non-null (ARG_PTR_TO_BTF_ID_SOCK_COMMON)
	argUninitMapValue         // pointer to map.ValueSize bytes the helper writes
	argInt                    // pointer to 4 initialised bytes the helper may rewrite (ARG_PTR_TO_INT)
	argConstStr               // pointer into a read-only map value holding a NUL-terminated string
	argCallback               // a subprogram's address (ARG_PTR_TO_FUNC)
	argStackOrNull            // a stack pointer or null (ARG_PTR_TO_STACK_OR_NULL), passed to the callback
)

// retKind is what a helper returns in r0.
type retKind uint8

const (
	retInt retKind = iota
	retVoid
	retMapValueOrNull
	retSockOrNull // a socket reference, to be released (sk_release) before exit
)

// progSet says which program types may call a helper.
type progSet uint8

const (
	progAll    progSet = 0xff
	progXDP    progSet = 1 << 0
	progTC     progSet = 1 << 1
	progSocket progSet = 1 << 2
	progTrace  progSet = 1 << 3
	progSock   progSet = 1 << 4 // sockops, sk_msg, sk_skb, cgroup socket hooks
	progNet            = progXDP | progTC | progSocket | progSock
)

// helper is one prototype of the helper table (the kernel's
// bpf_func_proto), with the facts the checks need.
type helper struct {
	id    int32
	name  string
	args  [5]argKind
	ret   retKind
	progs progSet
	// pktData marks helpers that may move or resize the packet: every
	// packet pointer is invalid after them.
	pktData bool
	// mapTypes restricts the map argument (nil: any map the helper's
	// kind allows).
	mapTypes []ebpf.MapType
	// release marks sk_release: its argument's reference ends.
	release bool
	// perfmon marks helpers the kernel gives only with CAP_PERFMON
	// (refused with --unprivileged).
	perfmon bool
	// callback says how a callback argument is called (callback.go).
	callback callbackKind
}

// helpers is the prototype table; ids are the kernel's (enum bpf_func_id).
var helpers = []helper{
	{id: 1, name: "map_lookup_elem", args: [5]argKind{argMap, argMapKey}, ret: retMapValueOrNull, progs: progAll},
	{id: 2, name: "map_update_elem", args: [5]argKind{argMap, argMapKey, argMapValue, argScalar}, progs: progAll},
	{id: 3, name: "map_delete_elem", args: [5]argKind{argMap, argMapKey}, progs: progAll},
	{id: 4, name: "probe_read", args: [5]argKind{argUninitMem, argSizeOrZero, argAnything}, progs: progTrace},
	{id: 5, name: "ktime_get_ns", progs: progAll},
	{id: 6, name: "trace_printk", args: [5]argKind{argMem, argSize}, progs: progAll, perfmon: true},
	{id: 7, name: "get_prandom_u32", progs: progAll},
	{id: 8, name: "get_smp_processor_id", progs: progAll},
	{id: 9, name: "skb_store_bytes", args: [5]argKind{argCtx, argScalar, argMem, argSize, argScalar}, progs: progTC | progSock, pktData: true},
	{id: 10, name: "l3_csum_replace", args: [5]argKind{argCtx, argScalar, argScalar, argScalar, argScalar}, progs: progTC, pktData: true},
	{id: 11, name: "l4_csum_replace", args: [5]argKind{argCtx, argScalar, argScalar, argScalar, argScalar}, progs: progTC, pktData: true},
	{id: 12, name: "tail_call", args: [5]argKind{argCtx, argMap, argScalar}, ret: retVoid, progs: progAll, mapTypes: []ebpf.MapType{ebpf.ProgramArray}},
	{id: 13, name: "clone_redirect", args: [5]argKind{argCtx, argScalar, argScalar}, progs: progTC, pktData: true},
	{id: 14, name: "get_current_pid_tgid", progs: progTrace | progSock},
	{id: 15, name: "get_current_uid_gid", progs: progTrace | progSock},
	{id: 16, name: "get_current_comm", args: [5]argKind{argUninitMem, argSize}, progs: progTrace},
	{id: 17, name: "get_cgroup_classid", args: [5]argKind{argCtx}, progs: progTC},
	{id: 18, name: "skb_vlan_push", args: [5]argKind{argCtx, argScalar, argScalar}, progs: progTC, pktData: true},
	{id: 19, name: "skb_vlan_pop", args: [5]argKind{argCtx}, progs: progTC, pktData: true},
	{id: 20, name: "skb_get_tunnel_key", args: [5]argKind{argCtx, argUninitMem, argSize, argScalar}, progs: progTC},
	{id: 21, name: "skb_set_tunnel_key", args: [5]argKind{argCtx, argMem, argSize, argScalar}, progs: progTC},
	{id: 22, name: "perf_event_read", args: [5]argKind{argMap, argScalar}, progs: progTrace, mapTypes: []ebpf.MapType{ebpf.PerfEventArray}},
	{id: 23, name: "redirect", args: [5]argKind{argScalar, argScalar}, progs: progXDP | progTC},
	{id: 24, name: "get_route_realm", args: [5]argKind{argCtx}, progs: progTC},
	{id: 25, name: "perf_event_output", args: [5]argKind{argCtx, argMap, argScalar, argMem, argSize}, progs: progAll, mapTypes: []ebpf.MapType{ebpf.PerfEventArray}},
	{id: 26, name: "skb_load_bytes", args: [5]argKind{argCtx, argScalar, argUninitMem, argSize}, progs: progTC | progSocket | progSock},
	{id: 27, name: "get_stackid", args: [5]argKind{argCtx, argMap, argScalar}, progs: progTrace, mapTypes: []ebpf.MapType{ebpf.StackTrace}},
	{id: 28, name: "csum_diff", args: [5]argKind{argMemOrNull, argSizeOrZero, argMemOrNull, argSizeOrZero, argScalar}, progs: progNet},
	{id: 29, name: "skb_get_tunnel_opt", args: [5]argKind{argCtx, argUninitMem, argSize}, progs: progTC},
	{id: 30, name: "skb_set_tunnel_opt", args: [5]argKind{argCtx, argMem, argSize}, progs: progTC},
	{id: 31, name: "skb_change_proto", args: [5]argKind{argCtx, argScalar, argScalar}, progs: progTC, pktData: true},
	{id: 32, name: "skb_change_type", args: [5]argKind{argCtx, argScalar}, progs: progTC},
	{id: 33, name: "skb_under_cgroup", args: [5]argKind{argCtx, argMap, argScalar}, progs: progTC, mapTypes: []ebpf.MapType{ebpf.CGroupArray}},
	{id: 34, name: "get_hash_recalc", args: [5]argKind{argCtx}, progs: progTC},
	{id: 35, name: "get_current_task", progs: progTrace},
	{id: 36, name: "probe_write_user", args: [5]argKind{argAnything, argMem, argSize}, progs: progTrace},
	{id: 37, name: "current_task_under_cgroup", args: [5]argKind{argMap, argScalar}, progs: progTrace, mapTypes: []ebpf.MapType{ebpf.CGroupArray}},
	{id: 38, name: "skb_change_tail", args: [5]argKind{argCtx, argScalar, argScalar}, progs: progTC, pktData: true},
	{id: 39, name: "skb_pull_data", args: [5]argKind{argCtx, argScalar}, progs: progTC, pktData: true},
	{id: 40, name: "csum_update", args: [5]argKind{argCtx, argScalar}, progs: progTC},
	{id: 41, name: "set_hash_invalid", args: [5]argKind{argCtx}, progs: progTC},
	{id: 42, name: "get_numa_node_id", progs: progAll},
	{id: 43, name: "skb_change_head", args: [5]argKind{argCtx, argScalar, argScalar}, progs: progTC, pktData: true},
	{id: 44, name: "xdp_adjust_head", args: [5]argKind{argCtx, argScalar}, progs: progXDP, pktData: true},
	{id: 45, name: "probe_read_str", args: [5]argKind{argUninitMem, argSizeOrZero, argAnything}, progs: progTrace},
	{id: 46, name: "get_socket_cookie", args: [5]argKind{argCtx}, progs: progSocket | progSock},
	{id: 47, name: "get_socket_uid", args: [5]argKind{argCtx}, progs: progSocket | progTC},
	{id: 48, name: "set_hash", args: [5]argKind{argCtx, argScalar}, progs: progTC},
	{id: 50, name: "skb_adjust_room", args: [5]argKind{argCtx, argScalar, argScalar, argScalar}, progs: progTC, pktData: true},
	{id: 51, name: "redirect_map", args: [5]argKind{argMap, argScalar, argScalar}, progs: progXDP,
		mapTypes: []ebpf.MapType{ebpf.DevMap, ebpf.DevMapHash, ebpf.CPUMap, ebpf.XSKMap}},
	{id: 53, name: "sock_map_update", args: [5]argKind{argCtx, argMap, argMapKey, argScalar}, progs: progSock,
		mapTypes: []ebpf.MapType{ebpf.SockMap}},
	{id: 54, name: "xdp_adjust_meta", args: [5]argKind{argCtx, argScalar}, progs: progXDP, pktData: true},
	{id: 55, name: "perf_event_read_value", args: [5]argKind{argMap, argScalar, argUninitMem, argSize}, progs: progTrace, mapTypes: []ebpf.MapType{ebpf.PerfEventArray}},
	{id: 56, name: "perf_prog_read_value", args: [5]argKind{argCtx, argUninitMem, argSize}, progs: progTrace},
	{id: 58, name: "override_return", args: [5]argKind{argCtx, argScalar}, progs: progTrace},
	{id: 67, name: "get_stack", args: [5]argKind{argCtx, argUninitMem, argSizeOrZero, argScalar}, progs: progAll},
	{id: 65, name: "xdp_adjust_tail", args: [5]argKind{argCtx, argScalar}, progs: progXDP, pktData: true},
	{id: 69, name: "fib_lookup", args: [5]argKind{argCtx, argMem, argSize, argScalar}, progs: progXDP | progTC},
	{id: 80, name: "get_current_cgroup_id", progs: progTrace | progSock},
	{id: 112, name: "probe_read_user", args: [5]argKind{argUninitMem, argSizeOrZero, argAnything}, progs: progTrace},
	{id: 113, name: "probe_read_kernel", args: [5]argKind{argUninitMem, argSizeOrZero, argAnything}, progs: progTrace | progNet, perfmon: true},
	{id: 125, name: "ktime_get_boot_ns", progs: progAll},

	// The rest of what an XDP or tc program may call up to Linux 6.18:
	// bpf_base_func_proto, bpf_sk_base_func_proto, tc_cls_act_func_proto
	// and xdp_func_proto (net/core/filter.c, kernel/bpf/helpers.c).
	{id: 66, name: "skb_get_xfrm_state", args: [5]argKind{argCtx, argScalar, argUninitMem, argSize, argScalar}, progs: progTC},
	{id: 68, name: "skb_load_bytes_relative", args: [5]argKind{argCtx, argScalar, argUninitMem, argSize, argScalar}, progs: progTC | progSocket | progSock},
	{id: 79, name: "skb_cgroup_id", args: [5]argKind{argCtx}, progs: progTC},
	{id: 83, name: "skb_ancestor_cgroup_id", args: [5]argKind{argCtx, argScalar}, progs: progTC},
	{id: 84, name: "sk_lookup_tcp", args: [5]argKind{argCtx, argMem, argSize, argScalar, argScalar}, ret: retSockOrNull, progs: progXDP | progTC | progSock},
	{id: 85, name: "sk_lookup_udp", args: [5]argKind{argCtx, argMem, argSize, argScalar, argScalar}, ret: retSockOrNull, progs: progXDP | progTC | progSock},
	{id: 86, name: "sk_release", args: [5]argKind{argSock}, progs: progXDP | progTC | progSock, release: true},
	{id: 87, name: "map_push_elem", args: [5]argKind{argMap, argMapValue, argScalar}, progs: progAll,
		mapTypes: []ebpf.MapType{ebpf.Queue, ebpf.Stack, ebpf.BloomFilter}},
	{id: 88, name: "map_pop_elem", args: [5]argKind{argMap, argUninitMapValue}, progs: progAll, mapTypes: []ebpf.MapType{ebpf.Queue, ebpf.Stack}},
	{id: 89, name: "map_peek_elem", args: [5]argKind{argMap, argUninitMapValue}, progs: progAll,
		mapTypes: []ebpf.MapType{ebpf.Queue, ebpf.Stack, ebpf.BloomFilter}},
	{id: 97, name: "skb_ecn_set_ce", args: [5]argKind{argCtx}, progs: progTC},
	{id: 99, name: "skc_lookup_tcp", args: [5]argKind{argCtx, argMem, argSize, argScalar, argScalar}, ret: retSockOrNull, progs: progXDP | progTC | progSock},
	{id: 118, name: "jiffies64", progs: progAll},
	{id: 120, name: "get_ns_current_pid_tgid", args: [5]argKind{argScalar, argScalar, argUninitMem, argSize}, progs: progAll},
	{id: 130, name: "ringbuf_output", args: [5]argKind{argMap, argMem, argSizeOrZero, argScalar}, progs: progAll, mapTypes: []ebpf.MapType{ebpf.RingBuf}},
	{id: 134, name: "ringbuf_query", args: [5]argKind{argMap, argScalar}, progs: progAll, mapTypes: []ebpf.MapType{ebpf.RingBuf}},
	{id: 135, name: "csum_level", args: [5]argKind{argCtx, argScalar}, progs: progTC},
	{id: 151, name: "skb_cgroup_classid", args: [5]argKind{argCtx}, progs: progTC},
	{id: 152, name: "redirect_neigh", args: [5]argKind{argScalar, argMemOrNull, argSizeOrZero, argScalar}, progs: progTC},
	{id: 155, name: "redirect_peer", args: [5]argKind{argScalar, argScalar}, progs: progTC},
	{id: 160, name: "ktime_get_coarse_ns", progs: progAll},
	{id: 163, name: "check_mtu", args: [5]argKind{argCtx, argScalar, argInt, argScalar, argScalar}, progs: progXDP | progTC},
	{id: 177, name: "trace_vprintk", args: [5]argKind{argMem, argSize, argMemOrNull, argSizeOrZero}, progs: progAll, perfmon: true},
	{id: 182, name: "strncmp", args: [5]argKind{argMem, argSize, argConstStr}, progs: progAll},
	{id: 188, name: "xdp_get_buff_len", args: [5]argKind{argCtx}, progs: progXDP},
	{id: 189, name: "xdp_load_bytes", args: [5]argKind{argCtx, argScalar, argUninitMem, argSize}, progs: progXDP},
	{id: 190, name: "xdp_store_bytes", args: [5]argKind{argCtx, argScalar, argMem, argSize}, progs: progXDP, pktData: false},
	{id: 192, name: "skb_set_tstamp", args: [5]argKind{argCtx, argScalar, argScalar}, progs: progTC},
	{id: 195, name: "map_lookup_percpu_elem", args: [5]argKind{argMap, argMapKey, argScalar}, ret: retMapValueOrNull, progs: progAll,
		mapTypes: []ebpf.MapType{ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash}},
	{id: 208, name: "ktime_get_tai_ns", progs: progAll},
	{id: 164, name: "for_each_map_elem", args: [5]argKind{argMap, argCallback, argStackOrNull, argAnything}, progs: progAll,
		callback: cbForEachMapElem, mapTypes: []ebpf.MapType{ebpf.Hash, ebpf.LRUHash, ebpf.PerCPUHash, ebpf.LRUCPUHash, ebpf.Array, ebpf.PerCPUArray}},
	{id: 181, name: "loop", args: [5]argKind{argScalar, argCallback, argStackOrNull, argAnything}, progs: progAll, callback: cbLoop},
}

var helperIndex = func() map[int32]*helper {
	m := map[int32]*helper{}
	for i := range helpers {
		m[helpers[i].id] = &helpers[i]
	}
	return m
}()

func helperByID(id int32) *helper { return helperIndex[id] }

// progClass maps a program type to the helper availability class.
func progClass(t ebpf.ProgramType) progSet {
	switch t {
	case ebpf.XDP:
		return progXDP
	case ebpf.SchedCLS, ebpf.SchedACT:
		return progTC
	case ebpf.SocketFilter, ebpf.CGroupSKB:
		return progSocket
	case ebpf.Kprobe, ebpf.TracePoint, ebpf.PerfEvent, ebpf.RawTracepoint, ebpf.Tracing:
		return progTrace
	case ebpf.SockOps, ebpf.SkSKB, ebpf.SkMsg, ebpf.CGroupSock, ebpf.CGroupSockAddr:
		return progSock
	case ebpf.UnspecifiedProgram:
		return progAll
	}
	return progAll
}

// specialMaps are map types only some helpers may use, and which ones.
var specialMaps = map[ebpf.MapType][]int32{
	ebpf.ProgramArray:   {12},
	ebpf.PerfEventArray: {22, 25, 55},
	ebpf.StackTrace:     {27},
	ebpf.CGroupArray:    {33, 37},
	ebpf.CPUMap:         {51},
	ebpf.DevMap:         {1, 51},
	ebpf.DevMapHash:     {1, 51},
	ebpf.XSKMap:         {1, 51},
	ebpf.SockMap:        {1, 3, 52, 53, 60},
	ebpf.SockHash:       {1, 3, 70, 71, 72},
}

// HelperInfo is what the stages after the verifier need of a helper's
// prototype; the verifier's table is the one place that knows helpers.
type HelperInfo struct {
	ID   int32
	Name string // without the bpf_ prefix
	// Args is how many argument registers (r1…) the helper reads; a
	// variadic helper (trace_printk) reads all five.
	Args int
	// Void helpers leave r0 uninitialised.
	Void bool
	// MovesPacket: every packet pointer is invalid after the call.
	MovesPacket bool
}

// Helper returns helper id's prototype, false if the verifier does not
// know it (and therefore rejects every call to it).
func Helper(id int32) (HelperInfo, bool) {
	h := helperByID(id)
	if h == nil {
		return HelperInfo{}, false
	}
	n := 0
	for n < len(h.args) && h.args[n] != argNone {
		n++
	}
	if h.id == 6 { // trace_printk(fmt, fmt_size, ...)
		n = 5
	}
	return HelperInfo{ID: h.id, Name: h.name, Args: n, Void: h.ret == retVoid, MovesPacket: h.pktData}, true
}
