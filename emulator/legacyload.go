package emulator

import "encoding/binary"

// Legacy packet loads (BPF_LD_ABS, BPF_LD_IND) of tc programs. The kernel
// rewrites each into a call of bpf_skb_load_helper_{8,16,32}
// (net/core/filter.c, bpf_gen_ld_abs) with the offset as a signed 32-bit
// int: imm for ABS, the low 32 bits of src + imm for IND. Since Linux 6.15
// the helpers map it with bpf_skb_load_helper_convert_offset:
//
//	offset >= 0                      offset from skb->data
//	SKF_NET_OFF <= offset < 0        offset - SKF_NET_OFF + skb_network_offset(skb)
//	SKF_LL_OFF <= offset < SKF_NET_OFF
//	                                 offset - SKF_LL_OFF + skb_mac_offset(skb)
//	                                 (if skb_mac_header_was_set)
//	else                             -EFAULT
//
// and read the bytes big endian if headlen - offset >= size (else through
// skb_copy_bits, which fails past skb->len); -EFAULT ends the program with
// r0 = 0. Classic BPF's ancillary offsets (SKF_AD_OFF = -0x1000 and up)
// are only rewritten for classic programs; in eBPF they are NET offsets
// about a megabyte past the header, so they fail.
//
// For a tc program under BPF_PROG_TEST_RUN data is the Ethernet header
// (mac offset 0, always set) and the network header is ETH_HLEN bytes in
// (eth_type_trans, skb_reset_network_header). The tc helpers the
// emulator has keep both offsets: bpf_skb_vlan_push moving a tag into the
// frame moves data and both headers 4 bytes back, __skb_vlan_pop moves
// data and the mac header 4 bytes forward and the network header to
// ETH_HLEN (TestKernelVlan reads both headers after every sequence).
const (
	SKFNetOff = -0x100000 // SKF_NET_OFF
	SKFLLOff  = -0x200000 // SKF_LL_OFF
)

// legacyNetOffset is skb_network_offset of a tc program's skb.
const legacyNetOffset = ethHeaderLen

// LegacyOffset is bpf_skb_load_helper_convert_offset for a tc program's
// skb: the offset from data that a legacy load at off reads, and false for
// the offsets that fail whatever the packet (below SKF_LL_OFF).
func LegacyOffset(off int32) (int64, bool) {
	switch {
	case off >= 0:
		return int64(off), true
	case off >= SKFNetOff:
		return int64(off) - SKFNetOff + legacyNetOffset, true
	case off >= SKFLLOff:
		return int64(off) - SKFLLOff, true // the mac header is data
	}
	return 0, false
}

// LegacyLoad is LD_ABS/LD_IND of size 1, 2 or 4 at the kernel's 32-bit
// offset off: the bytes big endian, or false when they are outside the
// packet (the program ends with r0 = 0).
func (p *Packet) LegacyLoad(off int32, size int) (uint64, bool) {
	o, ok := LegacyOffset(off)
	if !ok || o < 0 || o+int64(size) > int64(p.Len()) {
		return 0, false
	}
	b := p.Bytes()[o:]
	switch size {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), true
	}
	return uint64(binary.BigEndian.Uint32(b)), true
}
