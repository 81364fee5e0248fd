// xdp_loop: walks a stack of VLAN tags (802.1Q and 802.1ad) with a real,
// bounded loop (unrolling disabled, so the verifier's loop handling is
// exercised) and counts frames by tag depth. Frames with more than
// MAX_VLAN tags, or whose tags run past the end, are dropped: no
// legitimate network stacks that deep.
#include "common.h"

#define MAX_VLAN 4

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_VLAN + 1);
	__type(key, __u32); /* number of tags */
	__type(value, __u64);
} vlan_depth SEC(".maps");

static __always_inline int is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 depth;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__be16 proto = eth->h_proto;
	struct vlan_hdr *vh = (void *)(eth + 1);

#pragma clang loop unroll(disable)
	for (depth = 0; depth < MAX_VLAN; depth++) {
		if (!is_vlan(proto))
			break;
		if ((void *)(vh + 1) > data_end)
			return XDP_DROP;
		proto = vh->encapsulated_proto;
		vh++;
	}
	if (is_vlan(proto))
		return XDP_DROP; /* deeper than MAX_VLAN */

	__u64 *n = bpf_map_lookup_elem(&vlan_depth, &depth);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
