package oracle

import (
	"fmt"
	"math/rand"
	"net"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// packet is one generated test frame.
type packet struct {
	name string
	data []byte
}

// Addresses the fixtures know: the router's 10.0.X.0/24 routes, the load
// balancer's virtual IP, the DDoS sample's blacklisted source.
var (
	macA      = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB      = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	vip       = net.IPv4(10, 0, 0, 254).To4()
	blacklist = net.IPv4(192, 168, 66, 6).To4()
)

// genPackets builds n frames from a fixed seed: Ethernet with IPv4 (with
// and without options, fragments, TTL 1), IPv6, TCP, UDP, ICMP echo of
// several sizes, ICMPv6, ARP, one to five VLAN tags, and random bytes.
// The same seed gives the same frames.
func genPackets(n int, seed int64) []packet {
	rng := rand.New(rand.NewSource(seed))
	kinds := []func(*rand.Rand) packet{
		ipv4TCP, ipv4UDP, ipv4ICMP, ipv6TCP, ipv6UDP, ipv6ICMP, arp,
		vlanIPv4, ipv4Options, ipv4Fragment, randomBytes,
	}
	out := make([]packet, 0, n)
	for i := 0; len(out) < n; i++ {
		p := kinds[i%len(kinds)](rng)
		p.name = fmt.Sprintf("%03d-%s", len(out), p.name)
		out = append(out, p)
	}
	return out
}

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		panic(fmt.Sprintf("BUG: serialising a generated packet: %v", err))
	}
	return buf.Bytes()
}

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

// dst4 picks a destination the fixtures care about most of the time.
func dst4(rng *rand.Rand) net.IP {
	switch rng.Intn(4) {
	case 0:
		return vip
	case 1:
		return net.IPv4(10, 0, byte(rng.Intn(4)), byte(1+rng.Intn(250))).To4()
	case 2:
		return net.IPv4(192, 168, 1, byte(rng.Intn(256))).To4()
	}
	return net.IPv4(byte(rng.Intn(224)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))).To4()
}

func src4(rng *rand.Rand) net.IP {
	if rng.Intn(5) == 0 {
		return blacklist
	}
	return net.IPv4(172, 16, byte(rng.Intn(256)), byte(rng.Intn(256))).To4()
}

func ip4(rng *rand.Rand, proto layers.IPProtocol) *layers.IPv4 {
	ttl := uint8(64)
	if rng.Intn(8) == 0 {
		ttl = 1
	}
	return &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Protocol: proto, SrcIP: src4(rng), DstIP: dst4(rng),
		TOS: uint8(rng.Intn(8)) << 5, Id: uint16(rng.Intn(65536))}
}

var ports = []layers.TCPPort{80, 443, 22, 53, 9, 8080, 1, 65535}

func port(rng *rand.Rand) uint16 {
	if rng.Intn(3) == 0 {
		return uint16(1 + rng.Intn(65535))
	}
	return uint16(ports[rng.Intn(len(ports))])
}

func payload(rng *rand.Rand, max int) gopacket.Payload {
	sizes := []int{0, 1, 18, 64, 200, max}
	b := make([]byte, sizes[rng.Intn(len(sizes))])
	rng.Read(b)
	return b
}

func ipv4TCP(rng *rand.Rand) packet {
	ip := ip4(rng, layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(port(rng)), DstPort: layers.TCPPort(port(rng)), Seq: rng.Uint32(), SYN: rng.Intn(2) == 0, ACK: true, Window: 512}
	tcp.SetNetworkLayerForChecksum(ip)
	return packet{"ipv4-tcp", serialize(eth(layers.EthernetTypeIPv4), ip, tcp, payload(rng, 1400))}
}

func ipv4UDP(rng *rand.Rand) packet {
	ip := ip4(rng, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(port(rng)), DstPort: layers.UDPPort(port(rng))}
	udp.SetNetworkLayerForChecksum(ip)
	return packet{"ipv4-udp", serialize(eth(layers.EthernetTypeIPv4), ip, udp, payload(rng, 1400))}
}

func ipv4ICMP(rng *rand.Rand) packet {
	ip := ip4(rng, layers.IPProtocolICMPv4)
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: uint16(rng.Intn(100))}
	if rng.Intn(4) == 0 {
		icmp.TypeCode = layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0)
	}
	return packet{"ipv4-icmp", serialize(eth(layers.EthernetTypeIPv4), ip, icmp, payload(rng, 1400))}
}

func ip6(rng *rand.Rand, next layers.IPProtocol) *layers.IPv6 {
	src := make(net.IP, 16)
	dst := make(net.IP, 16)
	rng.Read(src)
	rng.Read(dst)
	src[0], dst[0] = 0x20, 0x20
	return &layers.IPv6{Version: 6, NextHeader: next, HopLimit: uint8(1 + rng.Intn(255)), SrcIP: src, DstIP: dst}
}

func ipv6TCP(rng *rand.Rand) packet {
	ip := ip6(rng, layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(port(rng)), DstPort: layers.TCPPort(port(rng)), Seq: rng.Uint32(), SYN: true, Window: 512}
	tcp.SetNetworkLayerForChecksum(ip)
	return packet{"ipv6-tcp", serialize(eth(layers.EthernetTypeIPv6), ip, tcp, payload(rng, 1300))}
}

func ipv6UDP(rng *rand.Rand) packet {
	ip := ip6(rng, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(port(rng)), DstPort: layers.UDPPort(port(rng))}
	udp.SetNetworkLayerForChecksum(ip)
	return packet{"ipv6-udp", serialize(eth(layers.EthernetTypeIPv6), ip, udp, payload(rng, 1300))}
}

func ipv6ICMP(rng *rand.Rand) packet {
	ip := ip6(rng, layers.IPProtocolICMPv6)
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	icmp.SetNetworkLayerForChecksum(ip)
	return packet{"ipv6-icmp", serialize(eth(layers.EthernetTypeIPv6), ip, icmp, payload(rng, 200))}
}

func arp(rng *rand.Rand) packet {
	a := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: macA, SourceProtAddress: src4(rng),
		DstHwAddress: make([]byte, 6), DstProtAddress: dst4(rng)}
	return packet{"arp", serialize(eth(layers.EthernetTypeARP), a)}
}

// vlanIPv4 stacks one to five tags (802.1Q, and 802.1ad outside when more
// than one), VLAN 4011 now and then (xdp_vlan01 drops it).
func vlanIPv4(rng *rand.Rand) packet {
	depth := 1 + rng.Intn(5)
	ls := []gopacket.SerializableLayer{}
	outer := layers.EthernetTypeDot1Q
	if depth > 1 {
		outer = layers.EthernetTypeQinQ
	}
	ls = append(ls, eth(outer))
	for d := 0; d < depth; d++ {
		next := layers.EthernetTypeDot1Q
		if d == depth-1 {
			next = layers.EthernetTypeIPv4
		}
		id := uint16(1 + rng.Intn(4094))
		if rng.Intn(4) == 0 {
			id = 4011
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: id, Type: next})
	}
	ip := ip4(rng, layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(port(rng)), DstPort: layers.UDPPort(port(rng))}
	udp.SetNetworkLayerForChecksum(ip)
	ls = append(ls, ip, udp, payload(rng, 200))
	return packet{fmt.Sprintf("vlan%d-ipv4-udp", depth), serialize(ls...)}
}

func ipv4Options(rng *rand.Rand) packet {
	ip := ip4(rng, layers.IPProtocolTCP)
	ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}} // NOP NOP NOP EOL
	tcp := &layers.TCP{SrcPort: layers.TCPPort(port(rng)), DstPort: layers.TCPPort(port(rng)), SYN: true, Window: 512}
	tcp.SetNetworkLayerForChecksum(ip)
	return packet{"ipv4opts-tcp", serialize(eth(layers.EthernetTypeIPv4), ip, tcp, payload(rng, 200))}
}

func ipv4Fragment(rng *rand.Rand) packet {
	ip := ip4(rng, layers.IPProtocolUDP)
	ip.Flags = layers.IPv4MoreFragments
	ip.FragOffset = uint16(rng.Intn(100))
	return packet{"ipv4-frag", serialize(eth(layers.EthernetTypeIPv4), ip, payload(rng, 1000))}
}

// randomBytes are frames of random content, from the 14-byte minimum the
// kernel accepts up to a full MTU.
func randomBytes(rng *rand.Rand) packet {
	sizes := []int{14, 15, 33, 60, 61, 100, 577, 1514}
	b := make([]byte, sizes[rng.Intn(len(sizes))])
	rng.Read(b)
	if rng.Intn(2) == 0 && len(b) >= 14 {
		// An IPv4 EtherType over random bytes: parsers go further in.
		b[12], b[13] = 0x08, 0x00
	}
	return packet{fmt.Sprintf("random%d", len(b)), b}
}
