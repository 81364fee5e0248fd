package emulator

// The XDP buffer layout the emulator gives a frame, as a Linux driver in
// native XDP mode does: XDP_PACKET_HEADROOM bytes before the frame, of
// which the first sizeof(struct xdp_frame) are reserved, and room at the
// end for struct skb_shared_info. bpf_xdp_adjust_head/meta/tail move the
// data pointers within these bounds and fail with -EINVAL outside them.
const (
	XDPHeadroom   = 256  // XDP_PACKET_HEADROOM
	xdpFrameSize  = 40   // sizeof(struct xdp_frame) on 64-bit
	sharedInfo    = 320  // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
	frameSize     = 4096 // one page per frame
	ethHeaderLen  = 14   // ETH_HLEN: adjust_head/tail keep at least this much
	maxMetaLength = 255  // xdp_metalen_invalid: ≤ skb_shared_info.meta_len's range (u8), a multiple of 4
)

// Packet is a frame in its buffer. Meta, Data and End are offsets into Buf
// (data_meta, data, data_end); Meta == Data when there is no metadata.
type Packet struct {
	Buf             []byte
	Meta, Data, End int
	// SKB is the sk_buff state tc helpers change besides the bytes
	// (protocol, offloaded VLAN tag); NewPacket and Reset invalidate it,
	// so it lives exactly as long as the frame.
	SKB SKBMeta
	// headroomUsed is the lowest offset data_meta has had since the last
	// Reset: the headroom below it is still zero, so Reset clears only
	// [headroomUsed, XDPHeadroom). Zero (a Packet made by hand) clears it all.
	headroomUsed int
}

// NewPacket copies frame into a fresh buffer with XDP headroom and tailroom.
func NewPacket(frame []byte) *Packet {
	size := frameSize
	if n := XDPHeadroom + len(frame) + sharedInfo; n > size {
		size = n
	}
	buf := make([]byte, size)
	copy(buf[XDPHeadroom:], frame)
	return &Packet{Buf: buf, Meta: XDPHeadroom, Data: XDPHeadroom, End: XDPHeadroom + len(frame), headroomUsed: XDPHeadroom}
}

// Reset puts frame into p as NewPacket would, reusing p's buffer when it is
// large enough (the headroom is cleared: adjust_head may expose it).
func (p *Packet) Reset(frame []byte) {
	size := frameSize
	if n := XDPHeadroom + len(frame) + sharedInfo; n > size {
		size = n
	}
	if cap(p.Buf) < size {
		p.Buf = make([]byte, size)
		p.headroomUsed = XDPHeadroom
	}
	p.Buf = p.Buf[:size]
	// Only the part of the headroom that data_meta ever exposed can hold
	// anything but zeros (every write goes through [meta, end)).
	used := min(p.headroomUsed, p.Meta)
	if used < 0 || used > XDPHeadroom {
		used = 0
	}
	clear(p.Buf[used:XDPHeadroom])
	copy(p.Buf[XDPHeadroom:], frame)
	p.Meta, p.Data, p.End = XDPHeadroom, XDPHeadroom, XDPHeadroom+len(frame)
	p.headroomUsed = XDPHeadroom
	p.SKB = SKBMeta{}
}

// Bytes is the frame as it is now (data..data_end).
func (p *Packet) Bytes() []byte { return p.Buf[p.Data:p.End] }

// MetaBytes is the metadata area (data_meta..data).
func (p *Packet) MetaBytes() []byte { return p.Buf[p.Meta:p.Data] }

// Len is data_end - data.
func (p *Packet) Len() int { return p.End - p.Data }

// hardEnd is the last byte the frame may grow to.
func (p *Packet) hardEnd() int { return len(p.Buf) - sharedInfo }

// AdjustHead moves data by delta (bpf_xdp_adjust_head), carrying the
// metadata along.
func (p *Packet) AdjustHead(delta int32) error {
	metalen := p.Data - p.Meta
	data := p.Data + int(delta)
	if data < xdpFrameSize+metalen || data > p.End-ethHeaderLen {
		return EINVAL
	}
	if metalen > 0 {
		copy(p.Buf[p.Meta+int(delta):], p.Buf[p.Meta:p.Data])
	}
	p.Meta += int(delta)
	p.Data = data
	p.headroomUsed = min(p.headroomUsed, p.Meta)
	return nil
}

// AdjustMeta moves data_meta by delta (bpf_xdp_adjust_meta).
func (p *Packet) AdjustMeta(delta int32) error {
	meta := p.Meta + int(delta)
	if meta < xdpFrameSize || meta > p.Data {
		return EINVAL
	}
	if l := p.Data - meta; l > maxMetaLength || l%4 != 0 {
		return EACCES
	}
	p.Meta = meta
	p.headroomUsed = min(p.headroomUsed, p.Meta)
	return nil
}

// AdjustTail moves data_end by delta (bpf_xdp_adjust_tail); growth is
// zero-filled.
func (p *Packet) AdjustTail(delta int32) error {
	end := p.End + int(delta)
	if end > p.hardEnd() || end < p.Data+ethHeaderLen {
		return EINVAL
	}
	if delta > 0 {
		clear(p.Buf[p.End:end])
	}
	p.End = end
	return nil
}
