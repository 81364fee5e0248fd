// legacy_maps: pre-BTF map definitions as iproute2's tc and old XDP
// loaders read them from the `maps` section (struct bpf_elf_map, 36 bytes),
// including a map-in-map whose template is named by id. The loader must
// read the 20 generic bytes, keep the rest, and find the inner map through
// inner_id; the program itself is a plain per-CPU packet counter that
// also looks a flow table up through the outer map.
#include "common.h"

/* iproute2's include/bpf_elf.h */
struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

#define FLOWS_ID 7

struct bpf_elf_map SEC("maps") pkt_count = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
};

/* The inner map template: flow hash → verdict. */
struct bpf_elf_map SEC("maps") flows = {
	.type = BPF_MAP_TYPE_HASH,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u32),
	.max_elem = 128,
	.id = FLOWS_ID,
};

struct bpf_elf_map SEC("maps") flow_tables = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u32),
	.max_elem = 4,
	.inner_id = FLOWS_ID,
	.inner_idx = 0, /* slot iproute2 would fill with flows */
};

SEC("xdp")
int legacy_maps(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&pkt_count, &zero);

	if (n)
		*n += 1;
	void *table = bpf_map_lookup_elem(&flow_tables, &zero);
	if (!table)
		return XDP_PASS;
	__u32 *verdict = bpf_map_lookup_elem(table, &zero);
	return verdict && *verdict == XDP_DROP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
