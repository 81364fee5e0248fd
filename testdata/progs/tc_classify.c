// tc_classify: a tc (cls_bpf, direct-action) classifier for egress QoS.
// It sets skb->priority from the IPv4 precedence bits, marks TCP and UDP
// differently for later policy routing, and drops UDP to the discard port
// (9), a common reflection vector.
#include "common.h"
#include <linux/pkt_cls.h>

#define MARK_TCP 1
#define MARK_UDP 2
#define DISCARD_PORT 9

SEC("tc")
int tc_classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	skb->priority = ip->tos >> 5;
	if (ip->ihl != 5)
		return TC_ACT_OK;
	if (ip->protocol == IPPROTO_TCP) {
		skb->mark = MARK_TCP;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);
		skb->mark = MARK_UDP;
		if ((void *)(udp + 1) <= data_end && udp->dest == bpf_htons(DISCARD_PORT))
			return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
