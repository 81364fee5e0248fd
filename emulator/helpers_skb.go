package emulator

import (
	"encoding/binary"
	"fmt"
)

// tc helpers that edit the packet and its checksums (net/core/filter.c).
// The skb is modelled with ip_summed = CHECKSUM_NONE, so the pseudo-header
// flag of l4_csum_replace changes nothing but is accepted.
const (
	FnSkbStoreBytes = 9
	FnL3CsumReplace = 10
	FnL4CsumReplace = 11
	FnFibLookup     = 69
	fHdrFieldMask   = 0xf
	fPseudoHdr      = 0x10
	fMarkMangled0   = 0x20
	fMarkEnforce    = 0x40
	fIPv6           = 0x80
	fRecomputeCsum  = 0x1
	fInvalidateHash = 0x2
	csumMangled0    = 0xffff
)

func init() {
	skbHelpers = []*Helper{
		{ID: FnFibLookup, Name: "bpf_fib_lookup", Fn: fibLookup},
		{ID: FnSkbStoreBytes, Name: "bpf_skb_store_bytes", Fn: skbStoreBytes},
		{ID: FnL3CsumReplace, Name: "bpf_l3_csum_replace", Fn: l3CsumReplace},
		{ID: FnL4CsumReplace, Name: "bpf_l4_csum_replace", Fn: l4CsumReplace},
	}
}

var skbHelpers []*Helper

func skbStoreBytes(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	off, n, flags := uint32(a[1]), uint32(a[3]), a[4]
	if flags&^(fRecomputeCsum|fInvalidateHash) != 0 {
		return EINVAL.Ret(), nil
	}
	from, err := mem.Bytes(a[2], uint64(n), false)
	if err != nil {
		return 0, fmt.Errorf("bpf_skb_store_bytes source: %w", err)
	}
	if e.Packet == nil || off > 0xffff || uint64(off)+uint64(n) > uint64(e.Packet.Len()) {
		return EFAULT.Ret(), nil
	}
	copy(e.Packet.Bytes()[off:], from)
	return 0, nil
}

// csumField returns the 16-bit checksum field at off of the packet.
func csumField(e *Env, off uint32) ([]byte, error) {
	if e.Packet == nil || off > 0xffff || off&1 != 0 || int(off)+2 > e.Packet.Len() {
		return nil, EFAULT
	}
	return e.Packet.Bytes()[off : off+2], nil
}

// One's complement arithmetic as include/net/checksum.h defines it, on
// values as they lie in memory (read little-endian, as on x86).
func csumAdd(a, b uint32) uint32 {
	s := a + b
	if s < b {
		s++
	}
	return s
}

func csumSub(a, b uint32) uint32 { return csumAdd(a, ^b) }

func csumFold(s uint32) uint16 {
	s = (s & 0xffff) + (s >> 16)
	s = (s & 0xffff) + (s >> 16)
	return ^uint16(s)
}

func csum16Add(a, b uint16) uint16 {
	s := a + b
	if s < b {
		s++
	}
	return s
}

func csumReplace4(field []byte, from, to uint32) {
	sum := uint32(binary.LittleEndian.Uint16(field))
	binary.LittleEndian.PutUint16(field, csumFold(csumAdd(csumSub(^sum, from), to)))
}

func csumReplace2(field []byte, from, to uint16) {
	sum := binary.LittleEndian.Uint16(field)
	binary.LittleEndian.PutUint16(field, ^csum16Add(csum16Add(^sum, ^from), to))
}

func csumReplaceByDiff(field []byte, diff uint32) {
	sum := uint32(binary.LittleEndian.Uint16(field))
	binary.LittleEndian.PutUint16(field, csumFold(csumAdd(diff, ^sum)))
}

func l3CsumReplace(e *Env, _ Memory, a *[5]uint64) (uint64, error) {
	off, from, to, flags := uint32(a[1]), a[2], a[3], a[4]
	if flags&^fHdrFieldMask != 0 {
		return EINVAL.Ret(), nil
	}
	field, err := csumField(e, off)
	if err != nil {
		return retOf(err), nil
	}
	switch flags & fHdrFieldMask {
	case 0:
		if from != 0 {
			return EINVAL.Ret(), nil
		}
		csumReplaceByDiff(field, uint32(to))
	case 2:
		csumReplace2(field, uint16(from), uint16(to))
	case 4:
		csumReplace4(field, uint32(from), uint32(to))
	default:
		return EINVAL.Ret(), nil
	}
	return 0, nil
}

func l4CsumReplace(e *Env, _ Memory, a *[5]uint64) (uint64, error) {
	off, from, to, flags := uint32(a[1]), a[2], a[3], a[4]
	if flags&^(fMarkMangled0|fMarkEnforce|fPseudoHdr|fHdrFieldMask|fIPv6) != 0 {
		return EINVAL.Ret(), nil
	}
	field, err := csumField(e, off)
	if err != nil {
		return retOf(err), nil
	}
	mmzero := flags&fMarkMangled0 != 0
	if mmzero && flags&fMarkEnforce == 0 && field[0] == 0 && field[1] == 0 {
		return 0, nil // UDP without checksum: leave it
	}
	switch flags & fHdrFieldMask {
	case 0:
		if from != 0 {
			return EINVAL.Ret(), nil
		}
		csumReplaceByDiff(field, uint32(to))
	case 2:
		csumReplace4(field, uint32(uint16(from)), uint32(uint16(to)))
	case 4:
		csumReplace4(field, uint32(from), uint32(to))
	default:
		return EINVAL.Ret(), nil
	}
	if mmzero && field[0] == 0 && field[1] == 0 {
		binary.LittleEndian.PutUint16(field, csumMangled0)
	}
	return 0, nil
}

// fibLookup is bpf_fib_lookup on a host whose FIB is empty: the arguments
// are checked as the kernel checks them, then the answer is always
// BPF_FIB_LKUP_RET_NOT_FWDED ("no route: let the stack handle it"), so
// forwarding programs take their pass-to-the-kernel path. Modelling routes
// and neighbours is left for when a test needs them.
func fibLookup(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	const (
		paramsSize = 64 // sizeof(struct bpf_fib_lookup)
		knownFlags = 1 | 2 | 4 | 8 | 16 | 32
		afInet     = 2
		afInet6    = 10
		notFwded   = 4 // BPF_FIB_LKUP_RET_NOT_FWDED
	)
	if uint32(a[2]) < paramsSize {
		return EINVAL.Ret(), nil
	}
	if a[3]&^knownFlags != 0 {
		return EINVAL.Ret(), nil
	}
	p, err := mem.Bytes(a[1], paramsSize, true)
	if err != nil {
		return 0, fmt.Errorf("bpf_fib_lookup params: %w", err)
	}
	switch p[0] {
	case afInet, afInet6:
		return notFwded, nil
	}
	return EAFNOSUPPORT.Ret(), nil
}
