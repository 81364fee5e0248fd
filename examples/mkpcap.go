//go:build ignore

// mkpcap writes examples/router/packets.pcap, the frames the README's
// bundled example runs through testdata/progs/xdp_router.o: routed IPv4
// traffic, a TTL about to expire, destinations without a route, IPv6, ARP
// and a truncated frame. Run: go run examples/mkpcap.go
package main

import (
	"log"
	"net"
	"os"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

var (
	srcMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x10}
	dstMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
)

func ipv4(dst string, ttl uint8, payload string) []byte {
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: ttl, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.ParseIP(dst).To4()}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(eth, ip, udp, gopacket.Payload(payload))
}

func ipv6() []byte {
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv6}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP,
		SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(eth, ip, udp, gopacket.Payload("v6"))
}

func arp() []byte {
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	a := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6,
		ProtAddressSize: 4, Operation: layers.ARPRequest, SourceHwAddress: srcMAC,
		SourceProtAddress: []byte{192, 0, 2, 1}, DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 1, 1}}
	return serialize(eth, a)
}

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

func main() {
	frames := [][]byte{
		ipv4("10.0.1.5", 64, "routed"),
		ipv4("10.0.1.6", 1, "ttl expires"),
		ipv4("10.0.2.7", 64, "no route"),
		ipv4("198.51.100.9", 64, "not ours"),
		ipv6(),
		arp(),
		ipv4("10.0.1.5", 64, "routed")[:20], // truncated inside the IPv4 header
		ipv4("10.0.1.200", 17, "routed again"),
	}
	f, err := os.Create("examples/router/packets.pcap")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		log.Fatal(err)
	}
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // fixed: the file is byte-identical on every run
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: t.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			log.Fatal(err)
		}
	}
}
