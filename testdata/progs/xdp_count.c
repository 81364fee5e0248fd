// xdp_count: per-protocol traffic accounting. Every frame is counted, with
// its length, under its IP protocol number (IPv4 protocol or IPv6 next
// header); frames that are not IP go to slot 255 (reserved by IANA). The
// counters live in a plain ARRAY, shared by all CPUs, hence the atomic
// adds. Every frame passes.
#include "common.h"

#define SLOT_NOT_IP 255

struct counters {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counters);
} proto_stats SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 slot = SLOT_NOT_IP;

	if ((void *)(eth + 1) <= data_end) {
		if (eth->h_proto == bpf_htons(ETH_P_IP)) {
			struct iphdr *ip = (void *)(eth + 1);
			if ((void *)(ip + 1) <= data_end)
				slot = ip->protocol;
		} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
			struct ipv6hdr *ip6 = (void *)(eth + 1);
			if ((void *)(ip6 + 1) <= data_end)
				slot = ip6->nexthdr;
		}
	}

	struct counters *c = bpf_map_lookup_elem(&proto_stats, &slot);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, data_end - data);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
