// xdp_drop: the smallest useful XDP program. It drops every frame, the
// baseline of any drop-rate benchmark.
#include "common.h"

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
