// xdp_router: a one-table IPv4 router. Destinations in 10.0.X.0/24 are
// routed by the next hop in routes[X]: the MAC addresses are rewritten, the
// TTL decremented with an incremental checksum update (RFC 1624, as the
// kernel's ip_decrease_ttl does) and the frame sent back out (XDP_TX).
// Frames it cannot route, or whose TTL would expire, go to the stack, which
// answers with ICMP.
#include "common.h"

struct next_hop {
	__u8 dmac[ETH_ALEN]; /* the neighbour's MAC */
	__u8 smac[ETH_ALEN]; /* our MAC on the egress port */
	__u32 valid;         /* 0: no route */
	__u64 packets;       /* frames routed via this hop */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32); /* third octet of the destination */
	__type(value, struct next_hop);
} routes SEC(".maps");

/* ip_decrease_ttl lowers the TTL by one and patches the checksum: the TTL
 * is the high byte of its 16-bit word, so the sum drops by 0x0100, which
 * in one's complement arithmetic is adding 0x0100 to the checksum. */
static __always_inline void ip_decrease_ttl(struct iphdr *ip)
{
	__u32 check = ip->check;
	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xffff));
	ip->ttl--;
}

SEC("xdp")
int xdp_router(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4)
		return XDP_PASS;

	__u32 daddr = bpf_ntohl(ip->daddr);
	if ((daddr >> 16) != ((10 << 8) | 0)) /* not 10.0.0.0/16 */
		return XDP_PASS;
	__u32 key = (daddr >> 8) & 0xff;
	struct next_hop *nh = bpf_map_lookup_elem(&routes, &key);
	if (!nh || !nh->valid)
		return XDP_PASS;
	if (ip->ttl <= 1)
		return XDP_PASS;

	ip_decrease_ttl(ip);
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	__sync_fetch_and_add(&nh->packets, 1);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
