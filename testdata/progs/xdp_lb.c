// xdp_lb: an L4 load balancer in the style of Katran. TCP and UDP frames
// for the virtual IP are spread over the backends by a hash of their
// 5-tuple (so a flow always lands on the same backend), encapsulated in
// IPv4-in-IPv4 (bpf_xdp_adjust_head grows the frame by one IPv4 header) and
// bounced back out to the backend's MAC (XDP_TX). Everything else passes.
//
// It also shows global data: the configuration is .rodata (a control plane
// sets it before loading), the hash seed .data, the statistics .bss.
#include "common.h"

#define NBACKENDS 4 /* a power of two: the hash picks one with a mask */

struct backend {
	__be32 ip;          /* 0: slot unused */
	__u8 mac[ETH_ALEN]; /* next hop towards the backend */
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NBACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

/* Configuration (.rodata), host byte order. */
const volatile __u32 lb_vip = 0x0a0000fe;  /* 10.0.0.254, the service */
const volatile __u32 lb_self = 0x0a000001; /* 10.0.0.1, outer source */

/* Hash seed (.data) and statistics (.bss). */
__u32 lb_seed = 0x9e3779b9;
__u64 lb_packets;
__u64 lb_no_backend;

/* mix is a multiply-xorshift finaliser (as in MurmurHash3's fmix32). */
static __always_inline __u32 mix(__u32 h, __u32 v)
{
	h ^= v;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* ipv4_csum computes the header checksum of a 20-byte IPv4 header. */
static __always_inline __u16 ipv4_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u16 sport, dport;

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5)
		return XDP_PASS;
	if (bpf_ntohl(ip->daddr) != lb_vip)
		return XDP_PASS;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip + 1);
		if ((void *)(tcp + 1) > data_end)
			return XDP_PASS;
		sport = tcp->source;
		dport = tcp->dest;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > data_end)
			return XDP_PASS;
		sport = udp->source;
		dport = udp->dest;
	} else {
		return XDP_PASS;
	}

	__u32 h = mix(lb_seed, ip->saddr);
	h = mix(h, ip->daddr);
	h = mix(h, ((__u32)sport << 16) | dport);
	h = mix(h, ip->protocol);
	__u32 key = h & (NBACKENDS - 1);
	struct backend *be = bpf_map_lookup_elem(&backends, &key);
	if (!be || !be->ip) {
		__sync_fetch_and_add(&lb_no_backend, 1);
		return XDP_PASS;
	}

	/* Everything the new headers need, before the packet moves. */
	struct ethhdr old_eth = *eth;
	struct iphdr outer = {
		.version = 4,
		.ihl = 5,
		.tos = ip->tos,
		.tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + sizeof(struct iphdr)),
		.ttl = 64,
		.protocol = IPPROTO_IPIP,
		.saddr = bpf_htonl(lb_self),
		.daddr = be->ip,
	};
	outer.check = ipv4_csum(&outer);
	__u8 mac[ETH_ALEN];
	__builtin_memcpy(mac, be->mac, ETH_ALEN);

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	struct iphdr *oip = (void *)(eth + 1);
	if ((void *)(oip + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old_eth.h_dest, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);
	*oip = outer;
	__sync_fetch_and_add(&lb_packets, 1);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
