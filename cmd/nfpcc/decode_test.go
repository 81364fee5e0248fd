package main

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestDescribeFrame(t *testing.T) {
	eth := "020000000002" + "020000000001"
	for _, c := range []struct{ hex, want string }{
		{eth + "0800" + "45000028000100004006" + "0000" + "c0a80001" + "c0a80002" + "1f9000500000000000000000" + "5012" + "0000",
			"Ethernet 02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4 192.168.0.1 > 192.168.0.2 ttl 64 len 40, TCP 8080 > 80 [SYN,ACK]"},
		{eth + "8100" + "0064" + "86dd" + "60000000000811ff" + strings.Repeat("00", 15) + "01" + strings.Repeat("00", 15) + "02" + "0035003500080000",
			"Ethernet 02:00:00:00:00:01 > 02:00:00:00:00:02, VLAN 100, IPv6 ::1 > ::2 hlim 255, UDP 53 > 53"},
		{eth + "0806" + "0001080006040001" + "020000000001" + "0a000001" + "000000000000" + "0a000002",
			"Ethernet 02:00:00:00:00:01 > 02:00:00:00:00:02, ARP request 10.0.0.1 > 10.0.0.2"},
		{eth + "0800" + "4500", "IPv4 cut short (2 bytes)"},
		{"0102", "2 bytes: shorter than an Ethernet header"},
		{eth + "88b5" + "00", "ethertype 0x88b5, 1 bytes"},
	} {
		b, err := hex.DecodeString(c.hex)
		if err != nil {
			t.Fatal(err)
		}
		if got := describeFrame(b); !strings.HasSuffix(got, c.want) {
			t.Errorf("%s:\n got %s\nwant …%s", c.hex, got, c.want)
		}
	}
	if got := changedMarks([]byte{1, 2, 3}, []byte{1, 9, 3, 4}); got != "  ^^  ^^" {
		t.Errorf("changedMarks: %q", got)
	}
	if got := changedMarks([]byte{1, 2}, []byte{1}); got != "" {
		t.Errorf("changedMarks of a shortened packet: %q", got)
	}
}
