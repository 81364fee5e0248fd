package ebpf

import (
	"encoding/binary"
	"fmt"

	"github.com/nfpcc/nfpcc/emulator"
)

// Context layouts from include/uapi/linux/bpf.h. Programs read them with
// 32-bit loads; the kernel rewrites loads of data, data_end and data_meta
// into loads of the real 64-bit pointers, which is what ctxLoad does.
const (
	// struct xdp_md
	xdpData           = 0
	xdpDataEnd        = 4
	xdpDataMeta       = 8
	xdpIngressIfindex = 12
	xdpRxQueueIndex   = 16
	xdpEgressIfindex  = 20
	xdpSize           = 24

	// struct __sk_buff
	skbLen            = 0
	skbPktType        = 4
	skbMark           = 8
	skbQueueMapping   = 12
	skbProtocol       = 16
	skbVlanPresent    = 20
	skbVlanTCI        = 24
	skbVlanProto      = 28
	skbPriority       = 32
	skbIngressIfindex = 36
	skbIfindex        = 40
	skbTCIndex        = 44
	skbCB             = 48 // __u32 cb[5]
	skbHash           = 68
	skbTCClassid      = 72
	skbData           = 76
	skbDataEnd        = 80
	skbNapiID         = 84
	skbDataMeta       = 140
	skbTstamp         = 152 // __u64
	skbWireLen        = 160
	skbGSOSegs        = 164
	skbGSOSize        = 176
	skbSize           = 192
)

// skbWritable lists the __sk_buff byte ranges a tc program may store to
// (tc_cls_act_is_valid_access).
var skbWritable = [][2]uint64{
	{skbMark, skbMark + 4}, {skbQueueMapping, skbQueueMapping + 4}, {skbPriority, skbPriority + 4},
	{skbTCIndex, skbTCIndex + 4}, {skbCB, skbCB + 20}, {skbTCClassid, skbTCClassid + 4},
	{skbTstamp, skbTstamp + 8},
}

// skbFieldNames names the writable __sk_buff fields, for Result.Context.
var skbFieldNames = []struct {
	name      string
	off, size int
}{
	{"mark", skbMark, 4}, {"queue_mapping", skbQueueMapping, 4}, {"priority", skbPriority, 4},
	{"tc_index", skbTCIndex, 4}, {"cb[0]", skbCB, 4}, {"cb[1]", skbCB + 4, 4}, {"cb[2]", skbCB + 8, 4},
	{"cb[3]", skbCB + 12, 4}, {"cb[4]", skbCB + 16, 4}, {"tc_classid", skbTCClassid, 4}, {"tstamp", skbTstamp, 8},
}

// changedContext lists the writable context fields that differ from what
// the run started with.
func (m *Machine) changedContext() map[string]uint64 {
	if m.hook != emulator.HookTC {
		return nil
	}
	var out map[string]uint64
	for _, f := range skbFieldNames {
		now, before := m.ctx[f.off:f.off+f.size], m.ctx0[f.off:f.off+f.size]
		if string(now) == string(before) {
			continue
		}
		if out == nil {
			out = map[string]uint64{}
		}
		if f.size == 8 {
			out[f.name] = binary.LittleEndian.Uint64(now)
		} else {
			out[f.name] = uint64(binary.LittleEndian.Uint32(now))
		}
	}
	return out
}

func (m *Machine) put32(off int, v uint32) { binary.LittleEndian.PutUint32(m.ctx[off:], v) }

func (m *Machine) fillXDP(in Input) {
	m.put32(xdpIngressIfindex, in.IngressIfindex)
	m.put32(xdpRxQueueIndex, in.RxQueueIndex)
}

// fillSKB fills __sk_buff from the frame: len, protocol (the EtherType as
// the kernel stores skb->protocol, network byte order), pkt_type (from the
// destination address, see pktType), and the fields the input sets.
func (m *Machine) fillSKB(in Input) {
	frame := in.Packet
	m.put32(skbLen, uint32(len(frame)))
	m.put32(skbWireLen, uint32(len(frame)))
	if len(frame) >= 14 {
		m.put32(skbProtocol, uint32(frame[12])|uint32(frame[13])<<8)
	}
	m.put32(skbPktType, pktType(frame, in.DeviceMAC))
	m.put32(skbMark, in.Mark)
	m.put32(skbPriority, in.Priority)
	m.put32(skbIngressIfindex, in.IngressIfindex)
	m.put32(skbIfindex, in.IngressIfindex)
	m.put32(skbQueueMapping, in.RxQueueIndex)
	m.put32(skbGSOSegs, 1)
}

// syncSKB brings the __sk_buff fields a tc helper may change up to date:
// len (the frame may have grown or shrunk), and protocol and the VLAN
// fields when a helper touched them (emulator.Packet.SKB). protocol and
// vlan_proto hold the wire bytes of the big-endian value, as in the kernel.
func (m *Machine) syncSKB() {
	pk := m.env.Packet
	if pk == nil {
		return
	}
	m.put32(skbLen, uint32(pk.Len()))
	s := &pk.SKB
	if !s.Valid {
		return
	}
	be := func(v uint16) uint32 { return uint32(v>>8 | v<<8) }
	m.put32(skbProtocol, be(s.Protocol))
	present := uint32(0)
	if s.VlanPresent {
		present = 1
	}
	m.put32(skbVlanPresent, present)
	m.put32(skbVlanTCI, uint32(s.VlanTCI))
	m.put32(skbVlanProto, be(s.VlanProto))
}

// pktType classifies a frame as eth_type_trans does for a device whose
// address is mac: PACKET_HOST (0) when addressed to it, PACKET_BROADCAST
// (1), PACKET_MULTICAST (2), else PACKET_OTHERHOST (3).
func pktType(frame []byte, mac [6]byte) uint32 {
	if len(frame) < 6 {
		return 0
	}
	switch {
	case string(frame[:6]) == "\xff\xff\xff\xff\xff\xff":
		return 1
	case frame[0]&1 != 0:
		return 2
	case string(frame[:6]) != string(mac[:]):
		return 3
	}
	return 0
}

// ctxLoad is a load from the context region.
func (m *Machine) ctxLoad(off, n uint64) (uint64, error) {
	pk := m.env.Packet
	var size, data, end, meta uint64
	switch m.hook {
	case emulator.HookXDP:
		size, data, end, meta = xdpSize, xdpData, xdpDataEnd, xdpDataMeta
	case emulator.HookTC:
		size, data, end, meta = skbSize, skbData, skbDataEnd, skbDataMeta
	default:
		return 0, fmt.Errorf("no context in a %s program", m.hook)
	}
	if off+n > size || off+n < off {
		return 0, fmt.Errorf("context access at offset %d size %d is outside the %d-byte %s context", off, n, size, m.hook)
	}
	for _, f := range [3]uint64{data, end, meta} {
		if off+n > f && off < f+4 {
			if off != f || n != 4 {
				return 0, fmt.Errorf("context pointer field at offset %d must be read with a 4-byte load at its start (got offset %d size %d)", f, off, n)
			}
			switch {
			case f == data:
				return addr(regionPacket, uint64(pk.Data)), nil
			case f == end:
				return addr(regionPacket, uint64(pk.End)), nil
			case m.hook == emulator.HookTC: // no metadata before a tc program
				return addr(regionPacket, uint64(pk.Data)), nil
			}
			return addr(regionPacket, uint64(pk.Meta)), nil
		}
	}
	switch n {
	case 1:
		return uint64(m.ctx[off]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(m.ctx[off:])), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(m.ctx[off:])), nil
	}
	return binary.LittleEndian.Uint64(m.ctx[off:]), nil
}

// ctxStore is a store to the context region: tc programs may write a few
// __sk_buff fields, XDP programs nothing.
func (m *Machine) ctxStore(off, n, v uint64) error {
	if m.hook != emulator.HookTC {
		return fmt.Errorf("a %s program may not write its context (offset %d)", m.hook, off)
	}
	for _, w := range skbWritable {
		if off >= w[0] && off+n <= w[1] {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], v)
			copy(m.ctx[off:off+n], b[:n])
			return nil
		}
	}
	return fmt.Errorf("__sk_buff field at offset %d (size %d) is read-only", off, n)
}
