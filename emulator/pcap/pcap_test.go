package pcap

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

func frames() []Packet {
	var ps []Packet
	for i := range 5 {
		d := bytes.Repeat([]byte{byte(i + 1)}, 14+i*7)
		ps = append(ps, Packet{Data: d, Length: len(d), LinkType: LinkEthernet,
			Timestamp: time.Unix(1700000000+int64(i), int64(i)*1000).UTC()})
	}
	return ps
}

// captures writes frames() as pcap by this package and as pcap and
// pcapng by gopacket (an independent writer).
func captures(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	var b bytes.Buffer
	w, err := NewWriter(&b, LinkEthernet, 65536)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range frames() {
		if err := w.Write(p.Timestamp, p.Data, p.Length); err != nil {
			t.Fatal(err)
		}
	}
	out["pcap (ours)"] = b.Bytes()
	var g bytes.Buffer
	gw := pcapgo.NewWriterNanos(&g)
	gw.WriteFileHeader(65536, layers.LinkTypeEthernet)
	var ng bytes.Buffer
	nw, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range frames() {
		ci := gopacket.CaptureInfo{Timestamp: p.Timestamp, CaptureLength: len(p.Data), Length: p.Length}
		gw.WritePacket(ci, p.Data)
		nw.WritePacket(ci, p.Data)
	}
	nw.Flush()
	out["pcap (gopacket, ns)"] = g.Bytes()
	out["pcapng (gopacket)"] = ng.Bytes()
	return out
}

func TestReadsWhatWasWritten(t *testing.T) {
	for name, data := range captures(t) {
		got, err := ReadAll(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := frames()
		if len(got) != len(want) {
			t.Fatalf("%s: %d packets, want %d", name, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i].Data, want[i].Data) || got[i].Length != want[i].Length ||
				!got[i].Timestamp.Equal(want[i].Timestamp) || got[i].LinkType != LinkEthernet {
				t.Errorf("%s: packet %d: %+v, want %+v", name, i+1, got[i], want[i])
			}
		}
	}
}

// TestTruncatedIsAnError: a capture cut at any byte after its header is an
// error naming where it ends, never fewer packets and no error (except
// cuts exactly between packets, which are valid shorter captures).
func TestTruncatedIsAnError(t *testing.T) {
	for name, data := range captures(t) {
		whole, _ := ReadAll(bytes.NewReader(data))
		boundaries := map[int]bool{}
		for n := 0; n <= len(data); n++ {
			ps, err := ReadAll(bytes.NewReader(data[:n]))
			if err == nil {
				boundaries[n] = true
				if n < len(data) && len(ps) == len(whole) {
					t.Errorf("%s cut at %d: all %d packets and no error", name, n, len(ps))
				}
				continue
			}
			if n > 24 && !strings.Contains(err.Error(), "truncated capture: the file ends at byte") {
				t.Errorf("%s cut at %d: %v", name, n, err)
			}
		}
		// pcap: after the header and each packet; pcapng also after the
		// interface block.
		if len(boundaries) > len(whole)+2 {
			t.Errorf("%s: %d cuts read without error, want at most %d (one per block boundary)", name, len(boundaries), len(whole)+2)
		}
	}
}

func TestCorrupt(t *testing.T) {
	data := captures(t)["pcap (ours)"]
	bad := append([]byte(nil), data...)
	bad[24+8] = 0xff // packet 1's captured length
	bad[24+9] = 0xff
	bad[24+10] = 0xff
	if _, err := ReadAll(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("huge captured length: %v", err)
	}
	ng := append([]byte(nil), captures(t)["pcapng (gopacket)"]...)
	ng[len(ng)-1] ^= 0x40 // the last block's trailing length
	if _, err := ReadAll(bytes.NewReader(ng)); err == nil {
		t.Error("pcapng with a wrong trailing length read without error")
	}
	for _, in := range []string{"", "abc", "GIF89a......................"} {
		if _, err := ReadAll(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "not a pcap or pcapng file") {
			t.Errorf("%q: %v", in, err)
		}
	}
	// An endless input stops at the first header.
	if _, err := ReadAll(io.LimitReader(zeros{}, 1<<40)); err == nil {
		t.Error("zeros read as a capture")
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

func ExampleReadAll() {
	var b bytes.Buffer
	w, _ := NewWriter(&b, LinkEthernet, 65536)
	w.Write(time.Unix(0, 0), []byte{1, 2, 3}, 0)
	ps, err := ReadAll(&b)
	fmt.Println(len(ps), ps[0].Data, err)
	// Output: 1 [1 2 3] <nil>
}
