package emulator

import "encoding/binary"

// bpf_skb_vlan_push and bpf_skb_vlan_pop (net/core/filter.c, on
// skb_vlan_push/skb_vlan_pop of net/core/skbuff.c). An sk_buff carries at
// most one VLAN tag outside its bytes, as offload metadata (vlan_all:
// vlan_proto and vlan_tci; __sk_buff.vlan_present says whether it is set).
// A push sets that metadata; only when a tag was already there does the
// old tag go into the packet, after the MAC addresses. A pop clears the
// metadata tag, or removes the outer tag from the packet when there was
// none, and then moves the next tag of the packet, if any, into the
// metadata. BPF_PROG_TEST_RUN returns the bytes only: a tag left in the
// metadata is not in its output packet.
const (
	FnSkbVlanPush = 18
	FnSkbVlanPop  = 19

	ethP8021Q  = 0x8100
	ethP8021AD = 0x88a8
	ethP8023   = 0x0001 // ETH_P_802_3: Novell raw 802.3 (0xffff after the tag)
	ethP8022   = 0x0004 // ETH_P_802_2: an 802.3 length, LLC follows
	vlanHLen   = 4
	vlanEthLen = 18 // VLAN_ETH_HLEN
	ethAddrs   = 12 // 2 * ETH_ALEN
)

func init() {
	skbHelpers = append(skbHelpers,
		&Helper{ID: FnSkbVlanPush, Name: "bpf_skb_vlan_push", Fn: skbVlanPush},
		&Helper{ID: FnSkbVlanPop, Name: "bpf_skb_vlan_pop", Fn: skbVlanPop},
	)
}

// SKBMeta is the sk_buff state, other than its bytes, that tc helpers
// change: skb->protocol and the offloaded VLAN tag. Values are host-order
// numbers (0x8100, not its wire bytes). Valid is false until an executor
// or a helper fills it for the run; helpers fill it from the frame then
// (EtherType at offset 12, no offloaded tag), as BPF_PROG_TEST_RUN builds
// an skb.
type SKBMeta struct {
	Valid              bool
	Protocol           uint16
	VlanPresent        bool
	VlanProto, VlanTCI uint16
}

// skbMeta returns the packet's SKBMeta, filled from the frame on first
// use; e.Packet must not be nil.
func (e *Env) skbMeta() *SKBMeta {
	pk := e.Packet
	if !pk.SKB.Valid {
		pk.SKB = SKBMeta{Valid: true}
		if pk.Len() >= ethHeaderLen {
			pk.SKB.Protocol = binary.BigEndian.Uint16(pk.Bytes()[12:])
		}
	}
	return &pk.SKB
}

func ethTypeVLAN(p uint16) bool { return p == ethP8021Q || p == ethP8021AD }

// skbVlanPush is bpf_skb_vlan_push(skb, __be16 vlan_proto, u16 vlan_tci):
// a protocol other than 802.1Q/802.1ad becomes 802.1Q.
func skbVlanPush(e *Env, _ Memory, a *[5]uint64) (uint64, error) {
	if e.Packet == nil {
		return EINVAL.Ret(), nil
	}
	s := e.skbMeta()
	proto := uint16(a[1])>>8 | uint16(a[1])<<8 // __be16 as the register holds it
	if !ethTypeVLAN(proto) {
		proto = ethP8021Q
	}
	if s.VlanPresent {
		pk := e.Packet
		if pk.Data-vlanHLen < 0 || pk.Len() < ethAddrs {
			return ENOMEM.Ret(), nil
		}
		pk.Data -= vlanHLen
		if pk.Meta > pk.Data {
			pk.Meta = pk.Data
		}
		b := pk.Buf[pk.Data:]
		copy(b, b[vlanHLen:vlanHLen+ethAddrs])
		binary.BigEndian.PutUint16(b[ethAddrs:], s.VlanProto)
		binary.BigEndian.PutUint16(b[ethAddrs+2:], s.VlanTCI)
		s.Protocol = s.VlanProto
	}
	s.VlanPresent, s.VlanProto, s.VlanTCI = true, proto, uint16(a[2])
	return 0, nil
}

// skbVlanPop is bpf_skb_vlan_pop(skb).
func skbVlanPop(e *Env, _ Memory, _ *[5]uint64) (uint64, error) {
	if e.Packet == nil {
		return EINVAL.Ret(), nil
	}
	s := e.skbMeta()
	if s.VlanPresent {
		s.VlanPresent, s.VlanProto, s.VlanTCI = false, 0, 0 // vlan_all = 0
	} else {
		if !ethTypeVLAN(s.Protocol) {
			return 0, nil
		}
		if _, err := popTag(e.Packet, s); err != 0 {
			return err.Ret(), nil
		}
	}
	// The next tag, if any, becomes the offloaded one.
	if !ethTypeVLAN(s.Protocol) {
		return 0, nil
	}
	proto := s.Protocol
	tci, err := popTag(e.Packet, s)
	if err != 0 {
		return err.Ret(), nil
	}
	s.VlanPresent, s.VlanProto, s.VlanTCI = true, proto, tci
	return 0, nil
}

// popTag removes the tag after the MAC addresses (__skb_vlan_pop) and sets
// skb->protocol from the EtherType behind it (vlan_set_encap_proto).
func popTag(pk *Packet, s *SKBMeta) (uint16, Errno) {
	if pk.Len() < vlanEthLen {
		return 0, ENOMEM // skb_ensure_writable(skb, VLAN_ETH_HLEN)
	}
	b := pk.Bytes()
	tci := binary.BigEndian.Uint16(b[14:])
	inner := binary.BigEndian.Uint16(b[16:])
	switch {
	case inner >= 0x600: // eth_proto_is_802_3
		s.Protocol = inner
	case len(b) >= vlanEthLen+2 && b[18] == 0xff && b[19] == 0xff:
		s.Protocol = ethP8023
	default:
		s.Protocol = ethP8022
	}
	copy(b[vlanHLen:vlanHLen+ethAddrs], b[:ethAddrs])
	pk.Data += vlanHLen
	if pk.Meta < pk.Data {
		pk.Meta = pk.Data
	}
	return tci, 0
}
