package gen

import (
	"encoding/binary"

	"github.com/cilium/ebpf/asm"
)

// Context offsets of data and data_end: struct xdp_md and struct __sk_buff.
func (g *gen) dataOff() int16 {
	if g.tc {
		return 76
	}
	return 0
}

func (g *gen) endOff() int16 {
	if g.tc {
		return 80
	}
	return 4
}

// ladder is the frame lengths bounds checks ask for: header boundaries
// (Ethernet 14, IPv4 34, UDP 42, TCP 54, IPv6 54/62) and round sizes.
var ladder = [...]int{8, 14, 16, 20, 24, 34, 38, 42, 46, 54, 60, 64, 74, 90, 128, 160, 200}

// maxPacketLen bounds what programs access.
const maxPacketLen = 200

// nextLen is the length a new bounds check proves: at least n and more than
// the current range, on the ladder.
func (g *gen) nextLen(n int) int {
	cur := g.st.maxRange(0)
	for i, l := range ladder {
		if l >= n && l > cur {
			i += g.intn(3)
			if i >= len(ladder) {
				i = len(ladder) - 1
			}
			return ladder[i]
		}
	}
	return max(n, cur)
}

// dataReg returns a register holding data (base 0, offset 0), loading it
// from the context when needed (not in loops).
func (g *gen) dataReg(avoid uint16) (asm.Register, bool) {
	if r, ok := g.findReg(kPkt, func(r *reg) bool { return r.base == 0 && r.off == 0 }); ok && avoid&(1<<r) == 0 && g.intn(4) != 0 {
		return r, true
	}
	if g.inLoop {
		return 0, false
	}
	d := g.pickDstExcept(avoid)
	g.emit(asm.LoadMem(d, asm.R6, g.dataOff(), asm.Word))
	g.set(d, reg{k: kPkt})
	if g.adjusted {
		g.sem.add(FReloadAfterAdjust)
	}
	return d, true
}

// endReg returns a register holding data_end.
func (g *gen) endReg(avoid uint16) asm.Register {
	if r, ok := g.findReg(kPktEnd, nil); ok && avoid&(1<<r) == 0 && g.intn(3) != 0 {
		return r
	}
	d := g.pickDstExcept(avoid)
	g.emit(asm.LoadMem(d, asm.R6, g.endOff(), asm.Word))
	g.set(d, reg{k: kPktEnd})
	return d
}

// ensure emits a bounds check proving n bytes from data, in one of the
// compare shapes the verifier understands; failure goes to an exit.
func (g *gen) ensure(n int) {
	if n > maxPacketLen {
		n = maxPacketLen
	}
	if g.st.maxRange(0) >= n || g.inLoop {
		return
	}
	p, _ := g.dataReg(0)
	e := g.endReg(1 << p)
	form := g.intn(8)
	strict := form == 2 || form == 3 || form == 6 || form == 7
	k := int32(n)
	if strict {
		// p+n+1 < end: the kernel proves n bytes or more from it (its
		// right-open ranges were off by one in older versions).
		k++
	}
	var t asm.Register
	if g.intn(4) == 0 && g.isFree(p) {
		t = p // the data pointer itself moves: later accesses use negative offsets
		g.emit(asm.Add.Imm(t, k))
	} else {
		t = g.pickDstExcept(1<<p | 1<<e)
		g.emit(asm.Mov.Reg(t, p))
		g.emit(asm.Add.Imm(t, k))
	}
	// On the failure path the kernel marks t as at or beyond data_end
	// (a negative range, mark_pkt_end): nothing may go through it there.
	g.set(t, reg{})
	fail := g.failLabel()
	// t keeps p's range (adding a constant does) and gets the new one below.
	g.set(t, reg{k: kPkt, off: g.st.r[p].off + int16(k), rng: g.st.r[p].rng})
	switch form {
	case 0: // if t > end goto fail
		g.jump(jReg(asm.JGT, t, e), fail)
	case 1: // if end < t goto fail
		g.jump(jReg(asm.JLT, e, t), fail)
	case 2: // if t >= end goto fail
		g.jump(jReg(asm.JGE, t, e), fail)
	case 3: // if end <= t goto fail
		g.jump(jReg(asm.JLE, e, t), fail)
	default:
		ok := g.newLabel()
		switch form {
		case 4: // if t <= end goto ok
			g.jump(jReg(asm.JLE, t, e), ok)
		case 5: // if end >= t goto ok
			g.jump(jReg(asm.JGE, e, t), ok)
		case 6: // if t < end goto ok
			g.jump(jReg(asm.JLT, t, e), ok)
		case 7: // if end > t goto ok
			g.jump(jReg(asm.JGT, e, t), ok)
		}
		g.jump(jA, fail)
		g.place(ok)
	}
	g.sem.add(FCheckJGT + Feature(form))
	g.st.widen(0, int16(n))
	if strict {
		g.lenHint(n + 2)
	} else {
		g.lenHint(n)
	}
}

// lenHint records a checked frame length.
func (g *gen) lenHint(n int) {
	for _, h := range g.p.Hints {
		if h.Size == 0 && int(h.Off) == n {
			return
		}
	}
	g.p.Hints = append(g.p.Hints, Hint{Off: uint16(n)})
}

// hint records that the packet bytes at off equal the low size bytes of v
// in the given byte order.
func (g *gen) hint(off int, size int, v uint64, be bool) {
	if off < 0 || size <= 0 || size > 8 || len(g.p.Hints) >= 64 {
		return
	}
	h := Hint{Off: uint16(off), Size: uint8(size)}
	var b [8]byte
	if be {
		binary.BigEndian.PutUint64(b[:], v<<(64-8*size))
	} else {
		binary.LittleEndian.PutUint64(b[:], v)
	}
	copy(h.Bytes[:], b[:size])
	g.p.Hints = append(g.p.Hints, h)
}

// pktPtr finds a packet pointer and an instruction offset for an n-byte
// access, emitting a bounds check when no pointer has the range (and that
// is allowed here). abs is the offset from the pointer's base.
func (g *gen) pktPtr(n int) (p asm.Register, off int16, abs int, ok bool) {
	if m := g.st.maxRange(0); !g.inLoop && (m < n || g.intn(6) == 0) && m < maxPacketLen {
		g.ensure(g.nextLen(n))
	}
	var cand [10]asm.Register
	c := 0
	for _, r := range allRegs {
		x := &g.st.r[r]
		if x.k != kPkt || int(x.rng) < n {
			continue
		}
		cand[c] = r
		c++
	}
	if c == 0 {
		return 0, 0, 0, false
	}
	p = cand[g.intn(c)]
	x := g.st.r[p]
	rng := int(x.rng)
	abs = g.intn(rng - n + 1)
	// Prefer the header area, where the hints are.
	if rng > 64 && g.intn(2) == 0 {
		abs = g.intn(64 - n + 1)
	}
	return p, int16(abs) - x.off, abs, true
}

// laneFeature records the size and lane (offset mod 8) of a packet access.
func (g *gen) laneFeature(store bool, size int, abs int) {
	base := FPktLoadLane0
	if store {
		base = FPktStoreLane0
	}
	g.sem.add(base + Feature(abs%8))
	f := FPktLoad1
	if store {
		f = FPktStore1
	}
	g.sem.add(f + Feature(log2(size)))
}

func log2(n int) int {
	switch n {
	case 1:
		return 0
	case 2:
		return 1
	case 4:
		return 2
	}
	return 3
}

var sizes = [...]asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}

// pktLoadInto loads packet bytes into d (or another register if d is the
// pointer used), if a pointer with range is at hand or can be made; it
// returns the register loaded.
func (g *gen) pktLoadInto(d asm.Register) (asm.Register, bool) {
	si := g.intn(4)
	n := 1 << si
	p, off, abs, ok := g.pktPtr(n)
	if !ok {
		return d, false
	}
	if d == p || !g.isFree(d) {
		d = g.pickDstExcept(1 << p)
	}
	base := g.st.r[p].base
	if g.v4 && si < 3 && g.intn(4) == 0 {
		g.emit(asm.LoadMemSX(d, p, off, sizes[si]))
		g.sem.add(FPktLoadSX)
		g.setScalar(d, prov{})
	} else {
		g.emit(asm.LoadMem(d, p, off, sizes[si]))
		if base == 0 {
			g.setScalar(d, prov{off: int16(abs), size: uint8(n), how: provLE})
		} else {
			g.setScalar(d, prov{})
		}
	}
	if base != 0 {
		g.sem.add(FPktVarAccess)
	}
	g.laneFeature(false, n, abs)
	return d, true
}

// stmtPktLoad emits a packet load.
func (g *gen) stmtPktLoad() {
	if _, ok := g.pktLoadInto(g.pickDst()); !ok {
		g.stmtALU()
	}
}

// stmtPktStore emits a packet store of a register or an immediate.
func (g *gen) stmtPktStore() {
	si := g.intn(4)
	n := 1 << si
	p, off, abs, ok := g.pktPtr(n)
	if !ok {
		g.stmtALU()
		return
	}
	if g.intn(3) == 0 {
		v := g.imm32()
		g.emit(asm.Instruction{OpCode: asm.StoreImmOp(sizes[si]), Dst: p, Offset: off, Constant: int64(v)})
		g.sem.add(FPktStoreImm)
	} else {
		s := g.scalarKeep(1 << p)
		g.emit(asm.StoreMem(p, off, s, sizes[si]))
	}
	if g.st.r[p].base != 0 {
		g.sem.add(FPktVarAccess)
	}
	g.laneFeature(true, n, abs)
}

// allocBase returns a free packet base index (1..maxBases-1), forgetting
// the pointers of an old one if all are in use.
func (g *gen) allocBase() uint8 {
	for b := 1; b < maxBases; b++ {
		if g.st.base[b] < 0 {
			g.st.base[b] = 0
			return uint8(b)
		}
	}
	b := uint8(1 + g.intn(maxBases-1))
	for i := range g.st.r {
		if g.st.r[i].k == kPkt && g.st.r[i].base == b {
			g.st.r[i] = reg{}
		}
	}
	for j := range g.st.slot {
		if g.st.slot[j] == slotPointer && g.st.spill[j].k == kPkt && g.st.spill[j].base == b {
			g.st.slot[j], g.st.spill[j] = slotTainted, reg{}
		}
	}
	g.st.base[b] = 0
	return b
}

// stmtVarOffset accesses the packet at data + c + (x & mask): the sum is a
// new pointer the verifier knows nothing about until it is compared with
// data_end again; the accesses sit behind that check (in an if-then arm,
// or after a check whose failure exits).
func (g *gen) stmtVarOffset() {
	masks := [...]int32{1, 7, 15, 0x1f, 0x3f, 0x7f, 0xff}
	s := g.scalar()
	x := g.pickDstExcept(1 << s)
	g.emit(asm.Mov.Reg(x, s))
	if g.intn(3) == 0 {
		g.emit(asm.And.Imm32(x, masks[g.intn(len(masks))]))
	} else {
		g.emit(asm.And.Imm(x, masks[g.intn(len(masks))]))
	}
	g.setScalar(x, prov{})
	p, ok := g.dataReg(1 << x)
	if !ok {
		return
	}
	c := g.st.r[p].off
	if c > 64 {
		return
	}
	v := g.pickDstExcept(1<<x | 1<<p)
	g.emit(asm.Mov.Reg(v, p))
	g.emit(asm.Add.Reg(v, x))
	b := g.allocBase()
	g.set(v, reg{k: kPkt, base: b, off: c})
	n := [...]int{1, 2, 4, 8, 8, 12, 16}[g.intn(7)]
	t := g.pickDstExcept(1<<v | 1<<x)
	g.emit(asm.Mov.Reg(t, v))
	g.emit(asm.Add.Imm(t, int32(n)))
	g.set(t, reg{k: kPkt, base: b, off: c + int16(n)})
	e := g.endReg(1<<v | 1<<t)
	g.sem.add(FPktVarOffset)
	if g.intn(2) == 0 && g.depth < g.cfg.MaxDepth {
		skip := g.newLabel()
		g.jump(jReg(asm.JGT, t, e), skip)
		before := g.st
		before.r[t] = reg{} // beyond data_end on that path (mark_pkt_end)
		g.st.widen(b, c+int16(n))
		g.depth++
		for i := 1 + g.intn(3); i > 0; i-- {
			g.varAccess(b, n)
		}
		g.depth--
		g.observeAll()
		after := g.st
		g.place(skip)
		g.st = meet(&after, &before)
		return
	}
	saved := g.st.r[t]
	g.st.r[t] = reg{} // beyond data_end on the failure path (mark_pkt_end)
	g.jump(jReg(asm.JGT, t, e), g.failLabel())
	g.st.r[t] = saved
	g.st.widen(b, c+int16(n))
	for i := 1 + g.intn(3); i > 0; i-- {
		g.varAccess(b, n)
	}
}

// varAccess loads or stores through a pointer of base b (range c+n).
func (g *gen) varAccess(b uint8, n int) {
	var cand [10]asm.Register
	c := 0
	for _, r := range allRegs {
		if x := &g.st.r[r]; x.k == kPkt && x.base == b {
			cand[c] = r
			c++
		}
	}
	if c == 0 {
		return
	}
	p := cand[g.intn(c)]
	rng := int(g.st.r[p].rng)
	if rng < 1 {
		return
	}
	si := g.intn(4)
	for 1<<si > rng {
		si--
	}
	sz := 1 << si
	abs := g.intn(rng - sz + 1)
	off := int16(abs) - g.st.r[p].off
	if g.intn(3) == 0 {
		s := g.scalarKeep(1 << p)
		g.emit(asm.StoreMem(p, off, s, sizes[si]))
		g.laneFeature(true, sz, abs)
	} else {
		d := g.pickDstExcept(1 << p)
		g.emit(asm.LoadMem(d, p, off, sizes[si]))
		g.setScalar(d, prov{})
		g.laneFeature(false, sz, abs)
	}
	g.sem.add(FPktVarAccess)
}

// headerField is a field programs parse, with values frames carry.
type headerField struct {
	off, size int
	values    []uint32 // in network byte order (big-endian)
}

var headerFields = [...]headerField{
	{12, 2, []uint32{0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8}}, // ethertype
	{14, 1, []uint32{0x45, 0x46, 0x60}},                       // version/ihl
	{23, 1, []uint32{6, 17, 1, 47}},                           // IPv4 protocol
	{20, 1, []uint32{6, 17, 58}},                              // IPv6 next header
	{16, 2, []uint32{40, 60, 1500}},                           // IPv4 total length
	{20, 2, []uint32{0, 0x4000}},                              // IPv4 fragment field
	{22, 1, []uint32{1, 64, 255}},                             // TTL
	{34, 2, []uint32{80, 443, 53, 22}},                        // source port
	{36, 2, []uint32{80, 443, 53, 8080}},                      // destination port
	{26, 4, []uint32{0x0a000001, 0xc0a80001, 0x7f000001}},     // IPv4 source
	{30, 4, []uint32{0x0a0000fe, 0xffffffff}},                 // IPv4 destination
	{47, 1, []uint32{0x02, 0x12, 0x10}},                       // TCP flags
}

// stmtParse compares a header field with a value frames carry: an if-then,
// an if-then-else or an early exit, as parsers branch on ethertypes and
// protocols. The field is compared in network order (after be16/be32) or
// raw against the swapped constant.
func (g *gen) stmtParse() {
	f := &headerFields[g.intn(len(headerFields))]
	if f.off+f.size > maxPacketLen {
		return
	}
	if g.st.maxRange(0) < f.off+f.size {
		g.ensure(g.nextLen(f.off + f.size))
	}
	p, ok := g.findReg(kPkt, func(r *reg) bool { return r.base == 0 && int(r.rng) >= f.off+f.size })
	if !ok {
		return
	}
	d := g.pickDstExcept(1 << p)
	si := log2(f.size)
	g.emit(asm.LoadMem(d, p, int16(f.off)-g.st.r[p].off, sizes[si]))
	val := f.values[g.intn(len(f.values))]
	g.hint(f.off, f.size, uint64(val), true)
	imm := int64(val)
	if f.size > 1 {
		if g.intn(2) == 0 {
			g.emit(asm.HostTo(asm.BE, d, sizes[si]))
		} else {
			// Compare the little-endian load with the swapped constant.
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], val<<(32-8*f.size))
			imm = int64(binary.LittleEndian.Uint32(b[:]) & uint32(1<<(8*f.size)-1))
			if f.size == 4 {
				imm = int64(int32(binary.LittleEndian.Uint32(b[:])))
			}
		}
	}
	g.setScalar(d, prov{})
	g.sem.add(FParse)
	op := asm.JNE
	if g.intn(4) == 0 {
		op = asm.JEq
	}
	var j asm.Instruction
	if g.chance(g.cfg.JMP32Prob) {
		j = jImm32(op, d, int32(imm))
	} else {
		j = jImm(op, d, int32(imm))
	}
	g.condBody(j)
}

// stmtLdAbs emits a legacy LD_ABS or LD_IND load (tc; r6 is the context):
// big-endian, r1–r5 clobbered, out-of-frame ends the program with r0 = 0.
func (g *gen) stmtLdAbs() {
	si := g.intn(3)
	n := 1 << si
	if g.intn(2) == 0 {
		off := g.intn(64)
		if g.intn(4) == 0 {
			off = ladder[g.intn(len(ladder))] - n + g.intn(3) - 1
		}
		if off < 0 {
			off = 0
		}
		g.clobberCallerSaved(0)
		g.emit(asm.LoadAbs(int32(off), sizes[si]))
		g.afterCall()
		g.st.r[asm.R0].prov = prov{off: int16(off), size: uint8(n), how: provBE}
		g.sem.add(FLdAbs1 + Feature(si))
		return
	}
	s := g.scalar()
	x := s
	if g.intn(3) != 0 {
		x = g.pickDstExcept(1 << s)
		g.emit(asm.Mov.Reg(x, s))
		g.emit(asm.And.Imm(x, [...]int32{7, 15, 0x3f, 0xff}[g.intn(4)]))
		g.setScalar(x, prov{})
	}
	if x <= asm.R5 && g.st.r[x].dirty {
		g.observe(x) // LD_IND clobbers it
	}
	g.clobberCallerSaved(1 << x)
	g.emit(asm.LoadInd(asm.R0, x, int32(g.intn(60)), sizes[si]))
	g.afterCall()
	g.sem.add(FLdInd1 + Feature(si))
}

// stmtCtxLen reads __sk_buff.len (tc) or falls back to a packet load.
func (g *gen) stmtCtxLen() {
	d := g.pickDst()
	g.emit(asm.LoadMem(d, asm.R6, 0, asm.Word))
	g.setScalar(d, prov{})
	g.sem.add(FCtxLen)
}
