package emulator

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Kernel helper numbers (enum bpf_func_id, include/uapi/linux/bpf.h) of the
// helpers the emulator implements.
const (
	FnMapLookupElem     = 1
	FnMapUpdateElem     = 2
	FnMapDeleteElem     = 3
	FnKtimeGetNs        = 5
	FnTracePrintk       = 6
	FnGetPrandomU32     = 7
	FnGetSmpProcessorID = 8
	FnTailCall          = 12
	FnRedirect          = 23
	FnPerfEventOutput   = 25
	FnSkbLoadBytes      = 26
	FnCsumDiff          = 28
	FnXdpAdjustHead     = 44
	FnRedirectMap       = 51
	FnXdpAdjustMeta     = 54
	FnXdpAdjustTail     = 65
	FnKtimeGetBootNs    = 125
)

// KernelHelpers is the set of Linux helpers the emulator implements, with
// the kernel's semantics (net/core/filter.c, kernel/bpf/helpers.c).
func KernelHelpers() HelperSet {
	s := HelperSet{}
	add := func(id int32, name string, fn HelperFunc, changesPacket bool) {
		s[id] = &Helper{ID: id, Name: name, Fn: fn, ChangesPacket: changesPacket}
	}
	add(FnMapLookupElem, "bpf_map_lookup_elem", mapLookup, false)
	add(FnMapUpdateElem, "bpf_map_update_elem", mapUpdate, false)
	add(FnMapDeleteElem, "bpf_map_delete_elem", mapDelete, false)
	add(FnKtimeGetNs, "bpf_ktime_get_ns", ktimeGetNs, false)
	add(FnKtimeGetBootNs, "bpf_ktime_get_boot_ns", ktimeGetNs, false)
	add(FnTracePrintk, "bpf_trace_printk", tracePrintk, false)
	add(FnGetPrandomU32, "bpf_get_prandom_u32", func(e *Env, _ Memory, _ *[5]uint64) (uint64, error) {
		return uint64(e.Random()), nil
	}, false)
	add(FnGetSmpProcessorID, "bpf_get_smp_processor_id", func(*Env, Memory, *[5]uint64) (uint64, error) {
		return 0, nil // one CPU
	}, false)
	add(FnTailCall, "bpf_tail_call", tailCall, false)
	add(FnRedirect, "bpf_redirect", redirect, false)
	add(FnRedirectMap, "bpf_redirect_map", redirectMap, false)
	add(FnPerfEventOutput, "bpf_perf_event_output", perfEventOutput, false)
	add(FnSkbLoadBytes, "bpf_skb_load_bytes", skbLoadBytes, false)
	add(FnCsumDiff, "bpf_csum_diff", csumDiff, false)
	add(FnXdpAdjustHead, "bpf_xdp_adjust_head", adjust((*Packet).AdjustHead), true)
	add(FnXdpAdjustMeta, "bpf_xdp_adjust_meta", adjust((*Packet).AdjustMeta), true)
	add(FnXdpAdjustTail, "bpf_xdp_adjust_tail", adjust((*Packet).AdjustTail), true)
	add(FnRingbufOutput, "bpf_ringbuf_output", ringbufOutput, false)
	add(FnRingbufReserve, "bpf_ringbuf_reserve", ringbufReserve, false)
	add(FnRingbufSubmit, "bpf_ringbuf_submit", ringbufCommit(true), false)
	add(FnRingbufDiscard, "bpf_ringbuf_discard", ringbufCommit(false), false)
	for _, h := range skbHelpers {
		s[h.ID] = &Helper{ID: h.ID, Name: h.Name, Fn: h.Fn, ChangesPacket: h.ID != FnFibLookup}
	}
	return s
}

// mapArg resolves a map pointer argument (an object's map, or an inner
// map a lookup returned).
func mapArg(e *Env, mem Memory, ptr uint64) (int, Map, error) {
	i, err := mem.MapIndex(ptr)
	if err != nil {
		return 0, nil, err
	}
	m := e.MapAt(i)
	if m == nil {
		return 0, nil, fmt.Errorf("map pointer %#x: no map %d", ptr, i)
	}
	return i, m, nil
}

func mapLookup(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	i, m, err := mapArg(e, mem, a[0])
	if err != nil {
		return 0, err
	}
	key, err := mem.Bytes(a[1], uint64(m.Spec().KeySize), false)
	if err != nil {
		return 0, fmt.Errorf("key of %s: %w", m.Spec().Name, err)
	}
	if om, ok := m.(OuterMap); ok {
		return lookupInner(e, mem, om, key)
	}
	v := m.Lookup(key)
	if v == nil {
		return 0, nil
	}
	return mem.ValueAddr(i, v), nil
}

func mapUpdate(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	_, m, err := mapArg(e, mem, a[0])
	if err != nil {
		return 0, err
	}
	spec := m.Spec()
	key, err := mem.Bytes(a[1], uint64(spec.KeySize), false)
	if err != nil {
		return 0, fmt.Errorf("key of %s: %w", spec.Name, err)
	}
	val, err := mem.Bytes(a[2], uint64(spec.ValueSize), false)
	if err != nil {
		return 0, fmt.Errorf("value of %s: %w", spec.Name, err)
	}
	return retOf(m.Update(key, val, a[3])), nil
}

func mapDelete(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	_, m, err := mapArg(e, mem, a[0])
	if err != nil {
		return 0, err
	}
	key, err := mem.Bytes(a[1], uint64(m.Spec().KeySize), false)
	if err != nil {
		return 0, fmt.Errorf("key of %s: %w", m.Spec().Name, err)
	}
	return retOf(m.Delete(key)), nil
}

func ktimeGetNs(e *Env, _ Memory, _ *[5]uint64) (uint64, error) {
	t := e.Clock
	e.Clock += e.ClockStep
	return t, nil
}

// tracePrintk records the format with its (up to three) arguments
// substituted for %d %i %u %x %p %s-free conversions; the kernel writes
// to the trace pipe, we keep the line in Env.Printk.
func tracePrintk(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	raw, err := mem.Bytes(a[0], a[1], false)
	if err != nil {
		return 0, fmt.Errorf("bpf_trace_printk format: %w", err)
	}
	format := string(raw)
	if i := strings.IndexByte(format, 0); i >= 0 {
		format = format[:i]
	}
	args := []uint64{a[2], a[3], a[4]}
	var b strings.Builder
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && (format[j] == 'l' || format[j] == 'h') {
			j++
		}
		if j >= len(format) {
			b.WriteString(format[i:])
			break
		}
		long := j-i > 1 && format[j-1] == 'l'
		var arg uint64
		if n < len(args) {
			arg = args[n]
		}
		if !long {
			arg = uint64(uint32(arg))
		}
		switch format[j] {
		case '%':
			b.WriteByte('%')
			i = j
			continue
		case 'd', 'i':
			if long {
				fmt.Fprintf(&b, "%d", int64(arg))
			} else {
				fmt.Fprintf(&b, "%d", int32(arg))
			}
		case 'u':
			fmt.Fprintf(&b, "%d", arg)
		case 'x':
			fmt.Fprintf(&b, "%x", arg)
		case 'p':
			fmt.Fprintf(&b, "%#x", args[min(n, 2)])
		default:
			b.WriteString(format[i : j+1])
		}
		n++
		i = j
	}
	line := b.String()
	e.Printk = append(e.Printk, strings.TrimRight(line, "\n"))
	return uint64(len(line)), nil
}

// tailCall looks the program up in a PROG_ARRAY; a missing entry makes the
// helper return -ENOENT and the program continue, as in the kernel.
func tailCall(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	i, m, err := mapArg(e, mem, a[1])
	if err != nil {
		return 0, err
	}
	if m.Spec().Type != MapProgArray {
		return 0, fmt.Errorf("bpf_tail_call on %s map %s", m.Spec().Type, m.Spec().Name)
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], uint32(a[2]))
	v := m.Lookup(key[:])
	if v == nil {
		return ENOENT.Ret(), nil
	}
	e.TailCall = &TailCall{Map: i, Prog: binary.LittleEndian.Uint32(v)}
	return 0, ErrTailCall
}

// redirect is bpf_redirect: XDP and tc have different versions under the
// same number (bpf_xdp_redirect, bpf_redirect).
func redirect(e *Env, _ Memory, a *[5]uint64) (uint64, error) {
	ifindex, flags := uint32(a[0]), a[1]
	if e.Hook == HookTC {
		const ingress = 1 // BPF_F_INGRESS
		if flags&^ingress != 0 {
			return TCActShot, nil
		}
		e.Redirect = &Redirect{Ifindex: ifindex, Flags: flags}
		return TCActRedirect, nil
	}
	if flags != 0 {
		return XDPAborted, nil
	}
	e.Redirect = &Redirect{Ifindex: ifindex}
	return XDPRedirect, nil
}

// redirectMap is bpf_redirect_map: the key must be present; otherwise the
// lower two bits of flags are the action returned. A DEVMAP or
// DEVMAP_HASH also takes BPF_F_BROADCAST and BPF_F_EXCLUDE_INGRESS (a
// broadcast redirects whatever the key); other flags give XDP_ABORTED.
func redirectMap(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	_, m, err := mapArg(e, mem, a[0])
	if err != nil {
		return 0, err
	}
	const (
		actionMask     = 3
		broadcast      = 8
		excludeIngress = 16
	)
	key, flags := uint32(a[1]), a[2]
	allowed := uint64(actionMask)
	if t := m.Spec().Type; t == MapDevMap || t == MapDevMapHash {
		allowed |= broadcast | excludeIngress
	}
	if flags&^allowed != 0 {
		return XDPAborted, nil
	}
	if flags&broadcast != 0 {
		e.Redirect = &Redirect{Map: m.Spec().Name, Key: key, Flags: flags}
		return XDPRedirect, nil
	}
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], key)
	if m.Lookup(k[:]) == nil {
		return flags & actionMask, nil
	}
	e.Redirect = &Redirect{Map: m.Spec().Name, Key: key}
	return XDPRedirect, nil
}

// perfEventOutput records data (and, for XDP/tc, the first
// BPF_F_CTXLEN_MASK bytes of the packet) as an event.
func perfEventOutput(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	_, m, err := mapArg(e, mem, a[1])
	if err != nil {
		return 0, err
	}
	if m.Spec().Type != MapPerfEventArray {
		return 0, fmt.Errorf("bpf_perf_event_output on %s map %s", m.Spec().Type, m.Spec().Name)
	}
	const currentCPU = 0xffffffff
	flags := a[2]
	cpu := uint32(flags)
	if cpu == currentCPU {
		cpu = 0
	}
	ctxLen := (flags >> 32) & 0xfffff
	if flags&^(0xffffffff|0xfffff<<32) != 0 {
		return EINVAL.Ret(), nil
	}
	data, err := mem.Bytes(a[3], a[4], false)
	if err != nil {
		return 0, fmt.Errorf("bpf_perf_event_output data: %w", err)
	}
	ev := Event{Map: m.Spec().Name, CPU: cpu, Data: append(HexBytes(nil), data...)}
	if ctxLen > 0 {
		if e.Packet == nil || ctxLen > uint64(e.Packet.Len()) {
			return EFAULT.Ret(), nil
		}
		ev.Data = append(ev.Data, e.Packet.Bytes()[:ctxLen]...)
	}
	e.Events = append(e.Events, ev)
	return 0, nil
}

func skbLoadBytes(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	off, n := uint32(a[1]), uint32(a[3])
	to, err := mem.Bytes(a[2], uint64(n), true)
	if err != nil {
		return 0, fmt.Errorf("bpf_skb_load_bytes destination: %w", err)
	}
	if e.Packet == nil || uint64(off)+uint64(n) > uint64(e.Packet.Len()) {
		clear(to)
		return EFAULT.Ret(), nil
	}
	copy(to, e.Packet.Bytes()[off:])
	return 0, nil
}

func csumDiff(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	fromSize, toSize := uint32(a[1]), uint32(a[3])
	var from, to []byte
	var err error
	if fromSize > 0 {
		if from, err = mem.Bytes(a[0], uint64(fromSize), false); err != nil {
			return 0, fmt.Errorf("bpf_csum_diff from: %w", err)
		}
	}
	if toSize > 0 {
		if to, err = mem.Bytes(a[2], uint64(toSize), false); err != nil {
			return 0, fmt.Errorf("bpf_csum_diff to: %w", err)
		}
	}
	v, err := CsumDiff(from, to, uint32(a[4]))
	if err != nil {
		return retOf(err), nil
	}
	return uint64(v), nil
}

// CsumDiff is bpf_csum_diff as Linux computes it since 6.12 (the kernel
// the oracle tests run on): the one's complement sum of to, minus that of
// from, started at seed, folded to 16 bits (csum_from32to16), whatever the
// architecture. Sums are of the buffers' 32-bit words as they lie in
// memory, read little-endian as on x86-64. Sizes must be multiples of 4 and
// together at most 512 bytes (-EINVAL otherwise). (Older kernels returned
// the unfolded 32-bit sum on x86-64; folded, the two agree.)
func CsumDiff(from, to []byte, seed uint32) (uint32, error) {
	if (len(from)|len(to))&3 != 0 || len(from)+len(to) > 512 {
		return 0, EINVAL
	}
	ret := seed
	switch {
	case len(from) > 0 && len(to) > 0:
		ret = csumSub(csumPartial(to, ret), csumPartial(from, 0))
	case len(to) > 0:
		ret = csumPartial(to, ret)
	case len(from) > 0:
		ret = ^csumPartial(from, ^ret)
	}
	return uint32(csumFrom32to16(ret)), nil
}

// csumPartial is the 32-bit one's complement sum of buf's little-endian
// 32-bit words and seed.
func csumPartial(buf []byte, seed uint32) uint32 {
	sum := uint64(seed)
	for i := 0; i+4 <= len(buf); i += 4 {
		sum += uint64(binary.LittleEndian.Uint32(buf[i:]))
	}
	for sum>>32 != 0 {
		sum = sum&0xffffffff + sum>>32
	}
	return uint32(sum)
}

// csumFrom32to16 folds a 32-bit sum to 16 bits (include/net/checksum.h).
func csumFrom32to16(sum uint32) uint16 {
	sum += sum>>16 | sum<<16
	return uint16(sum >> 16)
}

func adjust(f func(*Packet, int32) error) HelperFunc {
	return func(e *Env, _ Memory, a *[5]uint64) (uint64, error) {
		if e.Packet == nil {
			return EINVAL.Ret(), nil
		}
		return retOf(f(e.Packet, int32(a[1]))), nil
	}
}
