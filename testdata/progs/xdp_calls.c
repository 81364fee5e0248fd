// xdp_calls: a ping-of-death filter built from BPF-to-BPF calls. Oversized
// ICMP echo requests (larger than MAX_PING bytes of IP payload) are
// dropped; the verdict of every frame is counted. The helpers are
// __noinline so that they stay real subprograms: parse_l3 finds the IPv4
// header, icmp_verdict inspects the ICMP header, account updates the map.
#include "common.h"

#define MAX_PING 1024
#define ICMP_ECHO 8

/* The ICMP header (linux/icmp.h would pull in libc headers). */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32); /* XDP action */
	__type(value, __u64);
} verdicts SEC(".maps");

/* parse_l3 returns the offset of the IPv4 header from the start of the
 * frame, or -1 when the frame is not IPv4. */
static __noinline int parse_l3(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	return sizeof(*eth);
}

/* icmp_verdict decides on the frame whose IPv4 header is at l3. */
static __noinline int icmp_verdict(struct xdp_md *ctx, int l3)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip;

	if (l3 != sizeof(struct ethhdr))
		return XDP_PASS;
	ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_ICMP || ip->ihl < 5)
		return XDP_PASS;
	struct icmphdr *icmp = (void *)ip + ip->ihl * 4;
	if ((void *)(icmp + 1) > data_end)
		return XDP_PASS;
	if (icmp->type != ICMP_ECHO)
		return XDP_PASS;
	if (bpf_ntohs(ip->tot_len) > ip->ihl * 4 + MAX_PING)
		return XDP_DROP;
	return XDP_PASS;
}

/* account counts one frame under its verdict and returns the verdict. */
static __noinline int account(int verdict)
{
	__u32 key = verdict;
	__u64 *n = bpf_map_lookup_elem(&verdicts, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return verdict;
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
	int l3 = parse_l3(ctx);

	if (l3 < 0)
		return account(XDP_PASS);
	return account(icmp_verdict(ctx, l3));
}

char LICENSE[] SEC("license") = "GPL";
