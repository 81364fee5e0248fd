// xdp_fw: a port firewall. It parses Ethernet, IPv4 (with options) or IPv6
// (fixed header only), then TCP or UDP, and drops the frame when its
// destination port is in blocked_ports, counting the hit in the map value.
// Everything it cannot parse passes: a firewall in front of a host should
// not eat ARP or fragments it does not understand.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);   /* destination port, host byte order */
	__type(value, __u64); /* frames dropped for that port */
} blocked_ports SEC(".maps");

/* l4_dport returns the destination port (host order) of the TCP or UDP
 * header at l4, or 0 when there is none within the packet. */
static __always_inline __u16 l4_dport(void *l4, void *data_end, __u8 proto)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return 0;
		return bpf_ntohs(tcp->dest);
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return 0;
		return bpf_ntohs(udp->dest);
	}
	return 0;
}

SEC("xdp")
int xdp_fw(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u16 port = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return XDP_PASS;
		/* Only the first fragment carries the ports. */
		if (ip->frag_off & bpf_htons(0x1fff))
			return XDP_PASS;
		port = l4_dport((void *)ip + ip->ihl * 4, data_end, ip->protocol);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		port = l4_dport(ip6 + 1, data_end, ip6->nexthdr);
	}
	if (port == 0)
		return XDP_PASS;

	__u64 *hits = bpf_map_lookup_elem(&blocked_ports, &port);
	if (!hits)
		return XDP_PASS;
	__sync_fetch_and_add(hits, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
