package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// pcapng block types.
const (
	blockSection   = 0x0A0D0D0A
	blockInterface = 1
	blockPacketOld = 2 // obsolete Packet Block
	blockSimple    = 3
	blockEnhanced  = 6
)

// maxBlock bounds a block's length (a packet block holds at most
// MaxPacket bytes of data; other blocks carry short options).
const maxBlock = MaxPacket + 1<<16

// sectionHeader reads a Section Header Block whose type (4 bytes) has been
// consumed: it fixes the byte order and starts a new interface list.
func (pr *Reader) sectionHeader() error {
	start := pr.off - 4
	h, err := pr.read(8, "a section header")
	if err != nil {
		return err
	}
	switch binary.LittleEndian.Uint32(h[4:]) {
	case 0x1A2B3C4D:
		pr.order = binary.LittleEndian
	case 0x4D3C2B1A:
		pr.order = binary.BigEndian
	default:
		return fmt.Errorf("pcapng section header at byte %d: bad byte-order magic % x", start, h[4:])
	}
	length := pr.order.Uint32(h)
	if length < 28 || length%4 != 0 || length > maxBlock {
		return fmt.Errorf("pcapng section header at byte %d: bad block length %d", start, length)
	}
	if _, err := pr.read(int(length)-12, "a section header"); err != nil {
		return err
	}
	pr.ifaces = nil
	return nil
}

// nextNG reads blocks until a packet block.
func (pr *Reader) nextNG() (Packet, error) {
	for {
		if _, err := pr.r.Peek(1); err == io.EOF {
			return Packet{}, io.EOF
		}
		start := pr.off
		h, err := pr.read(4, "a block header")
		if err != nil {
			return Packet{}, err
		}
		typ := pr.order.Uint32(h)
		if typ == blockSection {
			if err := pr.sectionHeader(); err != nil {
				return Packet{}, err
			}
			continue
		}
		lb, err := pr.read(4, "a block header")
		if err != nil {
			return Packet{}, err
		}
		length := pr.order.Uint32(lb)
		if length < 12 || length%4 != 0 || length > maxBlock {
			return Packet{}, fmt.Errorf("pcapng block at byte %d: bad block length %d", start, length)
		}
		body, err := pr.read(int(length)-8, fmt.Sprintf("the block at byte %d (%d bytes)", start, length))
		if err != nil {
			return Packet{}, err
		}
		if trail := pr.order.Uint32(body[len(body)-4:]); trail != length {
			return Packet{}, fmt.Errorf("pcapng block at byte %d: trailing length %d differs from %d: a corrupt capture", start, trail, length)
		}
		body = body[:len(body)-4]
		p, ok, err := pr.block(typ, body)
		if err != nil {
			return Packet{}, fmt.Errorf("pcapng block at byte %d: %v", start, err)
		}
		if ok {
			pr.n++
			return p, nil
		}
	}
}

// block interprets one block's body; ok says it was a packet.
func (pr *Reader) block(typ uint32, b []byte) (p Packet, ok bool, err error) {
	o := pr.order
	need := func(n int) error {
		if len(b) < n {
			return fmt.Errorf("block type %d: body of %d bytes, want at least %d", typ, len(b), n)
		}
		return nil
	}
	switch typ {
	case blockInterface:
		if err := need(8); err != nil {
			return p, false, err
		}
		pr.ifaces = append(pr.ifaces, iface{link: uint32(o.Uint16(b)), snaplen: o.Uint32(b[4:]), perSec: pr.tsresol(b[8:])})
		return p, false, nil
	case blockEnhanced, blockPacketOld:
		if err := need(20); err != nil {
			return p, false, err
		}
		id := o.Uint32(b)
		if typ == blockPacketOld {
			id = uint32(o.Uint16(b))
		}
		if int(id) >= len(pr.ifaces) {
			return p, false, fmt.Errorf("packet on interface %d, but the section describes %d interfaces", id, len(pr.ifaces))
		}
		ifc := pr.ifaces[id]
		ts := uint64(o.Uint32(b[4:]))<<32 | uint64(o.Uint32(b[8:]))
		capLen, origLen := o.Uint32(b[12:]), o.Uint32(b[16:])
		if uint64(capLen) > uint64(len(b)-20) {
			return p, false, fmt.Errorf("captured length %d is more than the block's %d bytes of data", capLen, len(b)-20)
		}
		p = Packet{Data: b[20 : 20+capLen], Length: int(max(origLen, capLen)), LinkType: ifc.link, Timestamp: ifc.time(ts)}
		return p, true, nil
	case blockSimple:
		if err := need(4); err != nil {
			return p, false, err
		}
		if len(pr.ifaces) == 0 {
			return p, false, fmt.Errorf("simple packet block before any interface description")
		}
		origLen := o.Uint32(b)
		capLen := min(uint64(origLen), uint64(len(b)-4))
		if s := pr.ifaces[0].snaplen; s != 0 {
			capLen = min(capLen, uint64(s))
		}
		return Packet{Data: b[4 : 4+capLen], Length: int(max(uint64(origLen), capLen)), LinkType: pr.ifaces[0].link}, true, nil
	}
	return p, false, nil // name resolution, statistics, custom blocks: not packets
}

// time converts a timestamp in ticks (exactly: no floating point).
func (ifc iface) time(ticks uint64) time.Time {
	sec, rem := ticks/ifc.perSec, ticks%ifc.perSec
	hi, lo := bits.Mul64(rem, 1e9)
	ns, _ := bits.Div64(hi, lo, ifc.perSec) // rem < perSec: no overflow
	return time.Unix(int64(sec), int64(ns)).UTC()
}

// tsresol reads an interface's if_tsresol option (code 9): timestamp ticks
// per second, 10^6 when absent (resolutions finer than 2^-63 or 10^-19 s
// do not fit and are read as nanoseconds).
func (pr *Reader) tsresol(opts []byte) uint64 {
	for len(opts) >= 4 {
		code, n := pr.order.Uint16(opts), int(pr.order.Uint16(opts[2:]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		if code == 9 && n >= 1 {
			v := opts[4]
			if v&0x80 != 0 {
				if v&0x7f > 63 {
					return 1e9
				}
				return 1 << (v & 0x7f)
			}
			if v > 19 {
				return 1e9
			}
			t := uint64(1)
			for range v {
				t *= 10
			}
			return t
		}
		opts = opts[4+(n+3)&^3:]
	}
	return 1e6
}
