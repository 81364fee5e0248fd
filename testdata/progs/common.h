/* Shared definitions of the nfpcc test programs: the kernel's UAPI headers,
 * libbpf's helper declarations, and the few constants the samples need. */
#ifndef NFPCC_PROGS_COMMON_H
#define NFPCC_PROGS_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* 802.1Q / 802.1ad tag, as it follows the two MAC addresses. */
struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

#endif
