package oracle

import "encoding/binary"

// fixEntry is one map entry set before every packet, in the kernel and in
// the interpreter alike. Per-CPU maps get the value on every CPU.
type fixEntry struct {
	Map        string
	Key, Value []byte
}

type fixture []fixEntry

func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func pad(b []byte, n int) []byte { return append(b, make([]byte, n-len(b))...) }

// fixtures give the programs that only act on configured traffic
// something to act on; every other program starts from empty maps (and
// its global data). Keys are object paths relative to their corpus.
var fixtures = map[string]fixture{
	// Ports 80, 53 and 9 blocked (keys in host order).
	"progs/xdp_fw.o": {
		{"blocked_ports", u16(80), u64(0)},
		{"blocked_ports", u16(53), u64(0)},
		{"blocked_ports", u16(9), u64(0)},
	},
	// Routes for 10.0.1.0/24 and 10.0.2.0/24; 10.0.3.0/24 present but invalid.
	"progs/xdp_router.o": {
		// struct next_hop: dmac[6], smac[6], valid, (4 bytes of padding,) packets.
		{"routes", u32(1), cat([]byte{2, 0, 0, 0, 1, 1}, macB, u32(1), u64(0))},
		{"routes", u32(2), cat([]byte{2, 0, 0, 0, 2, 2}, macB, u32(1), u64(0))},
		{"routes", u32(3), cat([]byte{2, 0, 0, 0, 3, 3}, macB, u32(0), u64(0))},
	},
	// Three backends; slot 3 empty, so some flows find no backend.
	"progs/xdp_lb.o": {
		{"backends", u32(0), cat([]byte{192, 168, 100, 10}, []byte{2, 0, 0, 0, 0x64, 10}, u16(0))},
		{"backends", u32(1), cat([]byte{192, 168, 100, 11}, []byte{2, 0, 0, 0, 0x64, 11}, u16(0))},
		{"backends", u32(2), cat([]byte{192, 168, 100, 12}, []byte{2, 0, 0, 0, 0x64, 12}, u16(0))},
	},
	// TCP to the VIP on port 80 is tunnelled (struct vip → struct iptnl_info).
	"linux/xdp_tx_iptunnel_kern.o": {
		{"vip2tnl",
			pad(cat(vip, make([]byte, 12), []byte{0, 80}, u16(2), []byte{6}), 24),
			pad(cat([]byte{10, 0, 0, 1}, make([]byte, 12), []byte{192, 168, 100, 10}, make([]byte, 12), u16(2), macB), 40)},
	},
	// One blacklisted source; ports 80 (TCP and UDP) and 53 (UDP) blocked.
	"prototype-kernel/xdp_ddos01_blacklist_kern.o": {
		{"blacklist", blacklist, u64(0)},
		{"port_blacklist", u32(80), u32(3)},
		{"port_blacklist", u32(53), u32(2)},
	},
	// struct config {action XDP_PASS, ifindex 1 (lo, where test runs
	// happen), options 0}.
	"linux/xdp_rxq_info_kern.o": {
		{"config_map", u32(0), cat(u32(2), u32(1), u32(0))},
	},
}
