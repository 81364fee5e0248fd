package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// describeFrame is a one-line summary of an Ethernet frame, as tcpdump
// prints one: the link layer (with VLAN tags), then IPv4/IPv6 or ARP, then
// TCP/UDP/ICMP ports or types. It decodes by hand what the run report
// needs rather than through gopacket/layers, whose package initialisation
// alone costs more start-up CPU than `nfpcc verify` may spend (issue 12).
// A frame cut short says where.
func describeFrame(b []byte) string {
	var parts []string
	if len(b) < 14 {
		return fmt.Sprintf("%d bytes: shorter than an Ethernet header", len(b))
	}
	parts = append(parts, fmt.Sprintf("Ethernet %s > %s", mac(b[6:12]), mac(b[0:6])))
	etype, off := binary.BigEndian.Uint16(b[12:]), 14
	for (etype == 0x8100 || etype == 0x88a8) && len(b) >= off+4 {
		parts = append(parts, fmt.Sprintf("VLAN %d", binary.BigEndian.Uint16(b[off:])&0xfff))
		etype, off = binary.BigEndian.Uint16(b[off+2:]), off+4
	}
	rest := b[off:]
	switch etype {
	case 0x0800:
		parts = append(parts, ipv4(rest)...)
	case 0x86dd:
		parts = append(parts, ipv6(rest)...)
	case 0x0806:
		parts = append(parts, arp(rest))
	default:
		parts = append(parts, fmt.Sprintf("ethertype %#04x, %d bytes", etype, len(rest)))
	}
	return strings.Join(parts, ", ")
}

func mac(b []byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

func ipv4(b []byte) []string {
	if len(b) < 20 {
		return []string{fmt.Sprintf("IPv4 cut short (%d bytes)", len(b))}
	}
	ihl := int(b[0]&0xf) * 4
	src, _ := netip.AddrFromSlice(b[12:16])
	dst, _ := netip.AddrFromSlice(b[16:20])
	s := fmt.Sprintf("IPv4 %s > %s ttl %d len %d", src, dst, b[8], binary.BigEndian.Uint16(b[2:]))
	if b[0]>>4 != 4 || ihl < 20 || ihl > len(b) {
		return []string{s + " (bad header)"}
	}
	if binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
		return []string{s + " fragment"}
	}
	return append([]string{s}, l4(b[9], b[ihl:]))
}

func ipv6(b []byte) []string {
	if len(b) < 40 {
		return []string{fmt.Sprintf("IPv6 cut short (%d bytes)", len(b))}
	}
	src, _ := netip.AddrFromSlice(b[8:24])
	dst, _ := netip.AddrFromSlice(b[24:40])
	return []string{fmt.Sprintf("IPv6 %s > %s hlim %d", src, dst, b[7]), l4(b[6], b[40:])}
}

func arp(b []byte) string {
	if len(b) < 28 {
		return fmt.Sprintf("ARP cut short (%d bytes)", len(b))
	}
	op := map[uint16]string{1: "request", 2: "reply"}[binary.BigEndian.Uint16(b[6:])]
	spa, _ := netip.AddrFromSlice(b[14:18])
	tpa, _ := netip.AddrFromSlice(b[24:28])
	return fmt.Sprintf("ARP %s %s > %s", op, spa, tpa)
}

// l4 names the transport protocol proto of payload b.
func l4(proto byte, b []byte) string {
	ports := func(name string, hdr int) string {
		if len(b) < hdr {
			return fmt.Sprintf("%s cut short (%d bytes)", name, len(b))
		}
		return fmt.Sprintf("%s %d > %d", name, binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:]))
	}
	switch proto {
	case 6:
		s := ports("TCP", 4)
		if len(b) >= 14 {
			var fl []string
			for i, n := range []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG"} {
				if b[13]&(1<<i) != 0 {
					fl = append(fl, n)
				}
			}
			s += " [" + strings.Join(fl, ",") + "]"
		}
		return s
	case 17:
		return ports("UDP", 4)
	case 1, 58:
		name := map[byte]string{1: "ICMP", 58: "ICMPv6"}[proto]
		if len(b) < 2 {
			return name + " cut short"
		}
		return fmt.Sprintf("%s type %d code %d", name, b[0], b[1])
	}
	return fmt.Sprintf("protocol %d, %d bytes", proto, len(b))
}

// changedMarks is a line to print under the hex of after ("%x", two
// columns a byte): ^^ under each byte that differs from before or is new.
// "" when nothing changed but the length.
func changedMarks(before, after []byte) string {
	var b strings.Builder
	any := false
	for i := range after {
		if i >= len(before) || before[i] != after[i] {
			b.WriteString("^^")
			any = true
		} else {
			b.WriteString("  ")
		}
	}
	if !any {
		return ""
	}
	return strings.TrimRight(b.String(), " ")
}
