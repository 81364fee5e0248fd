// Package pcap reads packet captures (libpcap's pcap format, both byte
// orders, micro- and nanosecond timestamps; and pcapng: section header,
// interface description, enhanced, simple and obsolete packet blocks) and
// writes pcap files, for the packets `nfpcc run` feeds programs.
//
// It exists, rather than gopacket's pcapgo, for two reasons. pcapgo imports
// gopacket/layers, whose package initialisation costs more CPU than the
// whole of `nfpcc verify` may spend (issue 12: start-up ≤ 5 ms); and a
// capture cut short must be an error naming the byte where it ends, not a
// silent "0 packets". The formats: https://www.tcpdump.org/manpages/pcap-savefile.5.html
// and draft-ietf-opsawg-pcapng.
package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// LinkEthernet is LINKTYPE_ETHERNET, the only link type XDP and tc
// programs see.
const LinkEthernet = 1

// MaxPacket bounds one captured packet (a corrupt length must not make
// the reader allocate gigabytes); 256 KiB is above any jumbo frame or
// GSO super-packet a capture holds.
const MaxPacket = 256 << 10

// Packet is one captured frame.
type Packet struct {
	Data      []byte
	Timestamp time.Time
	Length    int    // the frame's length on the wire (≥ len(Data) when the capture truncated it)
	LinkType  uint32 // LINKTYPE_* of the interface it was captured on
}

// Reader reads the packets of a pcap or pcapng stream in order.
type Reader struct {
	r      *bufio.Reader
	off    int64 // bytes consumed so far, for error messages
	ng     bool
	order  binary.ByteOrder
	n      int // packets returned
	pcapTS time.Duration
	link   uint32
	ifaces []iface // pcapng: the interfaces of the current section
}

type iface struct {
	link    uint32
	snaplen uint32
	perSec  uint64 // timestamp ticks per second
}

// NewReader reads the file header (pcap) or first section header
// (pcapng) and returns a reader positioned at the first packet.
func NewReader(r io.Reader) (*Reader, error) {
	pr := &Reader{r: bufio.NewReaderSize(r, 64<<10)}
	var magic [4]byte
	if _, err := io.ReadFull(pr.r, magic[:]); err != nil {
		return nil, errors.New("not a pcap or pcapng file: shorter than a file header")
	}
	pr.off = 4
	le, be := binary.LittleEndian.Uint32(magic[:]), binary.BigEndian.Uint32(magic[:])
	switch {
	case le == 0x0A0D0D0A:
		pr.ng = true
		return pr, pr.sectionHeader()
	case le == 0xa1b2c3d4 || be == 0xa1b2c3d4:
		pr.pcapTS = time.Microsecond
	case le == 0xa1b23c4d || be == 0xa1b23c4d:
		pr.pcapTS = time.Nanosecond
	default:
		return nil, fmt.Errorf("not a pcap or pcapng file (it starts with % x)", magic)
	}
	pr.order = binary.LittleEndian
	if be == 0xa1b2c3d4 || be == 0xa1b23c4d {
		pr.order = binary.BigEndian
	}
	h, err := pr.read(20, "the pcap file header")
	if err != nil {
		return nil, err
	}
	pr.link = pr.order.Uint32(h[16:]) & 0x0fffffff // the upper bits carry FCS flags
	return pr, nil
}

// read reads exactly n bytes; a short read is an error saying what was cut.
func (pr *Reader) read(n int, what string) ([]byte, error) {
	b := make([]byte, n)
	k, err := io.ReadFull(pr.r, b)
	pr.off += int64(k)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("truncated capture: the file ends at byte %d, inside %s", pr.off, what)
		}
		return nil, err
	}
	return b, nil
}

// Next returns the next packet, or io.EOF after the last one.
func (pr *Reader) Next() (Packet, error) {
	if pr.ng {
		return pr.nextNG()
	}
	if _, err := pr.r.Peek(1); err == io.EOF {
		return Packet{}, io.EOF
	}
	what := fmt.Sprintf("the header of packet %d", pr.n+1)
	h, err := pr.read(16, what)
	if err != nil {
		return Packet{}, err
	}
	sec, frac := pr.order.Uint32(h), pr.order.Uint32(h[4:])
	capLen, origLen := pr.order.Uint32(h[8:]), pr.order.Uint32(h[12:])
	if capLen > MaxPacket {
		return Packet{}, fmt.Errorf("packet %d (byte %d): captured length %d is more than %d: a corrupt capture", pr.n+1, pr.off-16, capLen, MaxPacket)
	}
	data, err := pr.read(int(capLen), fmt.Sprintf("packet %d (%d bytes)", pr.n+1, capLen))
	if err != nil {
		return Packet{}, err
	}
	pr.n++
	ts := time.Unix(int64(sec), 0).Add(time.Duration(frac) * pr.pcapTS).UTC()
	return Packet{Data: data, Timestamp: ts, Length: int(max(origLen, capLen)), LinkType: pr.link}, nil
}

// ReadAll reads every packet of r.
func ReadAll(r io.Reader) ([]Packet, error) {
	pr, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	var out []Packet
	for {
		p, err := pr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
}

// Writer writes a pcap file (microsecond timestamps, little-endian).
type Writer struct {
	w       io.Writer
	snaplen uint32
}

// NewWriter writes the file header.
func NewWriter(w io.Writer, linkType, snaplen uint32) (*Writer, error) {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], linkType)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{w: w, snaplen: snaplen}, nil
}

// Write appends one packet; length is its length on the wire (0: len(data)).
func (pw *Writer) Write(ts time.Time, data []byte, length int) error {
	if len(data) > int(pw.snaplen) {
		data = data[:pw.snaplen]
	}
	length = max(length, len(data))
	if length > math.MaxUint32 {
		return fmt.Errorf("packet of %d bytes is too long for pcap", length)
	}
	var h [16]byte
	if !ts.IsZero() {
		binary.LittleEndian.PutUint32(h[0:], uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(h[4:], uint32(ts.Nanosecond()/1000))
	}
	binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:], uint32(length))
	if _, err := pw.w.Write(h[:]); err != nil {
		return err
	}
	_, err := pw.w.Write(data)
	return err
}
