package backend

import (
	"math"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// lowerCtxPtr reads an xdp_md field: data is the packet vector's CTM
// address (*l$index1[2]), data_end that plus the length in B22, data_meta
// equals data (no metadata in front of the frame) — nfp-isa.md §4.6.
func (g *gen) lowerCtxPtr(v *ir.Value) {
	if g.info[g.rootOf(v.Args[0]).ID].kind != kCtx {
		g.fail(v, "context field read through a pointer that is not the context")
	}
	d := g.dlo(v)
	data, end, meta := int64(0), int64(4), int64(8) // struct xdp_md
	if g.opts.Type == image.ProgTC {
		data, end, meta = 76, 80, 140 // struct __sk_buff
	}
	switch v.Imm {
	case data, meta:
		g.a.emit(isa.Mov(d, isa.LM(1, 2)))
	case end:
		g.a.emit(isa.ALU(d, isa.GPRB(regStack), isa.OpAdd, isa.LM(1, 2)))
	default:
		g.fail(v, "context pointer field at offset %d is not supported", v.Imm)
	}
	if dh := g.dhi(v); !dh.IsNone() {
		g.a.emit(isa.Immed(dh, 0))
	}
}

func (g *gen) lowerMem(v *ir.Value) {
	info := v.Op.Info()
	switch v.Region {
	case ir.RegionCtx:
		// __sk_buff.len is the packet length (B22); no other field is
		// offloaded.
		if g.opts.Type == image.ProgTC && v.Op == ir.OpLoad32 && v.Imm == 0 && g.info[g.rootOf(v.Args[0]).ID].kind == kCtx {
			g.a.emit(isa.Mov(g.dlo(v), isa.GPRB(regStack)))
			return
		}
		g.fail(v, "%s of context field at offset %d is not supported", v.Op, v.Imm)
	case ir.RegionPkt:
		g.memPkt(v, info)
	case ir.RegionStack:
		g.memStack(v, info)
	case ir.RegionMapVal:
		g.memMapVal(v, info)
	default:
		g.fail(v, "%s on region %s is not supported", v.Op, v.Region)
	}
}

func isLoad(op ir.Op) bool {
	switch op {
	case ir.OpLoad8, ir.OpLoad16, ir.OpLoad32, ir.OpLoad64, ir.OpLoadsx8, ir.OpLoadsx16, ir.OpLoadsx32:
		return true
	}
	return false
}

func isStore(op ir.Op) bool {
	switch op {
	case ir.OpStore8, ir.OpStore16, ir.OpStore32, ir.OpStore64:
		return true
	}
	return false
}

// extract moves a loaded value from word w (lane = byte offset of the value
// in it) to v's registers, sign-extending for loadsx.
func (g *gen) extract(v *ir.Value, size int, lane int, w0, w1 isa.Operand) {
	a := g.a
	d := g.dlo(v)
	if lane+size > 4 && size != 8 && w1.IsNone() {
		g.fail(v, "a %d-byte access crossing a 32-bit word is not supported", size)
	}
	switch {
	case lane+size > 4 && size != 8:
		// Crossing into the next word (read windows hold both): the
		// pair shifted right by the lane, through A20 (two transfer
		// registers cannot be one instruction's sources).
		a.emit(isa.Mov(isa.GPRA(regScratchA), w1), isa.DblShf(d, isa.GPRA(regScratchA), w0, 8*lane))
		if size == 2 {
			a.emit(isa.LdField(d, 3, isa.GPRB(d.Num), isa.ShiftRotR, 0, true))
		}
	case size == 8 && lane != 0:
		// Three transfer registers (w1's successor the third): each half
		// is a pair shifted right by the lane.
		if w1.Kind != isa.KXfer {
			g.fail(v, "an 8-byte access at byte %d of a 32-bit word is not supported here", lane)
		}
		a.emit(isa.Mov(isa.GPRA(regScratchA), w1), isa.DblShf(d, isa.GPRA(regScratchA), w0, 8*lane))
		if dh := g.dhi(v); !dh.IsNone() {
			a.emit(isa.Mov(isa.GPRA(regScratchA), isa.Xfer(w1.Num+1)), isa.DblShf(dh, isa.GPRA(regScratchA), w1, 8*lane))
		}
		return
	case size == 8:
		a.emit(isa.Mov(d, w0))
		if dh := g.dhi(v); !dh.IsNone() {
			a.emit(isa.Mov(dh, w1))
		}
		return
	case size == 4:
		a.emit(isa.Mov(d, w0))
	default:
		mask := uint8(1)
		if size == 2 {
			mask = 3
		}
		if lane == 0 {
			a.emit(isa.LdField(d, mask, w0, isa.ShiftRotR, 0, true))
		} else {
			a.emit(isa.LdField(d, mask, w0, isa.ShiftR, 8*lane, true))
		}
	}
	if !v.Op.Info().Signed {
		if dh := g.dhi(v); !dh.IsNone() {
			a.emit(isa.Immed(dh, 0))
		}
		return
	}
	if size < 4 {
		n := 32 - 8*size
		a.emit(isa.Shf(d, isa.None, isa.ShfB, isa.GPRB(d.Num), isa.ShiftL, n), isa.Asr(d, isa.GPRB(d.Num), n))
	}
	g.signHi(v, d)
}

// offOperand is a restricted operand for a command's byte offset.
func (g *gen) offOperand(off int64) isa.Operand {
	if off >= 0 && off <= limR {
		return isa.Imm(uint32(off))
	}
	g.a.emit(isa.LoadImm32(isa.GPRB(regScratchB), uint32(off))...)
	return isa.GPRB(regScratchB)
}

// storeXfer puts the value a store writes in $xfer_0 (and $xfer_1).
func (g *gen) storeXfer(v *ir.Value, size int) {
	val := v.Args[1]
	g.a.emit(isa.Mov(isa.Xfer(0), g.src(val, false, right, limU)))
	if size == 8 {
		g.a.emit(isa.Mov(isa.Xfer(1), g.src(val, true, right, limU)))
	}
}

// memPkt: packet data in CTM, 32-bit addressing, read32_swap/write8_swap
// so that memory is little-endian as eBPF sees it (nfp-isa.md §4.6).
func (g *gen) memPkt(v *ir.Value, info *ir.OpInfo) {
	if isLoad(v.Op) && g.groupedLoad(v) {
		return // (through the window: its pointer may have no register)
	}
	base := g.rootOf(v.Args[0])
	if g.info[base.ID].kind != kReg {
		g.fail(v, "packet access through v%d, which is not a packet pointer in a register", v.Args[0].ID)
	}
	size := info.Size
	switch {
	case isLoad(v.Op):
		words := 1
		if size == 8 {
			words = 2
		}
		// The read may run up to 3 bytes past the frame: the CTM buffer
		// has room, and the bytes are not used.
		off := g.offOperand(v.Imm)
		g.a.emit(isa.Cmd(isa.TargetMU, "read32_swap", 0, g.src(v.Args[0], false, left, limU), off, isa.Mode32, words, isa.CtxSwapWait))
		g.extract(v, size, 0, isa.Xfer(0), isa.Xfer(1))
	case isStore(v.Op):
		g.storeXfer(v, size)
		off := g.offOperand(v.Imm)
		g.a.emit(isa.Cmd(isa.TargetMU, "write8_swap", 0, g.src(v.Args[0], false, left, limU), off, isa.Mode32, size, isa.CtxSwapWait))
	default:
		g.fail(v, "%s on packet data is not supported", v.Op)
	}
}

// lmWord returns an operand for the LM word holding stack byte addr (from
// the stack base): *l$index0[k] in the first 64 bytes (32 for restricted
// operands), otherwise a 32-byte window of *l$index3 moved there first.
func (g *gen) lmWord(v *ir.Value, addr int64, restricted bool) isa.Operand {
	if addr < 0 || addr >= image.MaxStack {
		g.fail(v, "stack byte %d outside the frame", addr)
	}
	lim := int64(64)
	if restricted {
		lim = 32
	}
	if addr < lim {
		g.a.settle()
		return isa.LM(0, int(addr/4))
	}
	win := addr &^ 31
	if g.lm3 != win {
		g.stackAddr(isa.GPRB(regScratchB), win)
		g.a.emit(isa.CSRWrite(isa.CSRActLMAddr3, isa.GPRB(regScratchB)))
		g.a.lmWrite()
		g.lm3 = win
	}
	g.a.settle()
	return isa.LM(3, int(addr&31)/4)
}

// memStack: the frame is in LM, fp at byte g.frame from the stack base;
// only constant offsets from fp are supported.
func (g *gen) memStack(v *ir.Value, info *ir.OpInfo) {
	bi := g.info[g.rootOf(v.Args[0]).ID]
	if bi.kind != kStack {
		g.fail(v, "stack access through a pointer whose offset from fp is not a constant")
	}
	addr := g.frame + bi.off + v.Imm
	size := info.Size
	lane := int(addr & 3)
	if size >= 4 && lane != 0 {
		g.fail(v, "unaligned %d-byte stack access at fp%+d", size, bi.off+v.Imm)
	}
	switch {
	case isLoad(v.Op):
		if size == 8 {
			g.a.emit(isa.Mov(g.dlo(v), g.lmWord(v, addr, false)))
			if dh := g.dhi(v); !dh.IsNone() {
				g.a.emit(isa.Mov(dh, g.lmWord(v, addr+4, false)))
			}
			return
		}
		g.extract(v, size, lane, g.lmWord(v, addr&^3, size < 4), isa.None)
	case isStore(v.Op):
		val := v.Args[1]
		if g.deadKeyStore(v) {
			return
		}
		if g.info[g.rootOf(val).ID].kind == kCtx && size == 8 {
			// Spilling the context: its reloads are the context again
			// and never read the slot; it gets a non-null placeholder.
			g.a.emit(isa.Mov(g.lmWord(v, addr, false), isa.Imm(1)))
			g.a.emit(isa.Mov(g.lmWord(v, addr+4, false), isa.Imm(0)))
			return
		}
		switch size {
		case 8:
			w := g.lmWord(v, addr, false)
			g.a.emit(isa.Mov(w, g.src(val, false, right, limU)))
			w = g.lmWord(v, addr+4, false)
			g.a.emit(isa.Mov(w, g.src(val, true, right, limU)))
		case 4:
			w := g.lmWord(v, addr, false)
			g.a.emit(isa.Mov(w, g.src(val, false, right, limU)))
		default:
			if lane+size > 4 {
				g.fail(v, "a %d-byte stack store crossing a 32-bit word is not supported", size)
			}
			mask := uint8(1)
			if size == 2 {
				mask = 3
			}
			w := g.lmWord(v, addr&^3, true)
			s := g.src(val, false, right, limU)
			if lane == 0 {
				g.a.emit(isa.LdField(w, mask, s, isa.ShiftRotR, 0, false))
			} else {
				g.a.emit(isa.LdField(w, mask<<lane, s, isa.ShiftL, 8*lane, false))
			}
		}
	default:
		g.stackAtomic(v, addr, size)
	}
}

// mapAddr returns the operands of a 40-bit BA command addressing a map
// value access: the low 32 bits (in A20 when off moves them) and the
// high operand (bits 39:32 << 24: the pointer's own, or B21).
func (g *gen) mapAddr(v *ir.Value, off int64) (isa.Operand, isa.Operand) {
	p := v.Args[0]
	pi := g.info[g.rootOf(p).ID]
	switch pi.kind {
	case kMapValue:
		lo, _ := g.constant(p, false)
		hi, _ := g.constant(p, true)
		g.a.emit(isa.LoadImm32(isa.GPRA(regScratchA), lo+uint32(off))...)
		g.a.emit(isa.LoadImm32(isa.GPRB(regScratchB), hi)...)
		return isa.GPRA(regScratchA), isa.GPRB(regScratchB)
	case kReg:
		if pi.hi < 0 {
			g.fail(v, "map value pointer v%d without its upper half", p.ID)
		}
		if off == 0 {
			return isa.GPRA(pi.lo), isa.GPRB(pi.hi)
		}
		// A map lies in one 4 GiB window of EMEM (the firmware puts map
		// i at EMEMBase + i<<32 and refuses larger maps), so the access's
		// address differs from the pointer's in the low 32 bits only:
		// lo + off wraps, hi stays. (A +carry into hi would add 1 << 8,
		// not 1 << 32, to the address: wrong for every negative offset.)
		switch {
		case off > 0 && off <= limU:
			g.a.emit(isa.ALU(isa.GPRA(regScratchA), isa.GPRA(pi.lo), isa.OpAdd, isa.Imm(uint32(off))))
		case off < 0 && -off <= limU:
			g.a.emit(isa.ALU(isa.GPRA(regScratchA), isa.GPRA(pi.lo), isa.OpSub, isa.Imm(uint32(-off))))
		default:
			g.a.emit(isa.LoadImm32(isa.GPRB(regScratchA), uint32(off))...)
			g.a.emit(isa.ALU(isa.GPRA(regScratchA), isa.GPRA(pi.lo), isa.OpAdd, isa.GPRB(regScratchA)))
		}
		return isa.GPRA(regScratchA), isa.GPRB(pi.hi)
	}
	g.fail(v, "map value access through v%d, which is not a map value pointer", p.ID)
	return isa.None, isa.None
}

// memMapVal: map values in EMEM, 40-bit addressing. Loads read whole
// aligned words (a value's slot is 4-byte aligned), so the pointer's offset
// into the value must be known.
func (g *gen) memMapVal(v *ir.Value, info *ir.OpInfo) {
	size := info.Size
	switch {
	case isLoad(v.Op):
		var poff int64
		p := v.Args[0]
		if pi := g.info[g.rootOf(p).ID]; pi.kind == kMapValue {
			poff = pi.off
		} else if fa := g.f.Facts[p.ID]; fa != nil && fa.Ptr != nil && fa.Ptr.MinOff == fa.Ptr.MaxOff {
			poff = fa.Ptr.MinOff
		} else {
			g.fail(v, "map value load at an offset the verifier did not fix")
		}
		lane := int((poff + v.Imm) & 3)
		lo, hi := g.mapAddr(v, v.Imm-int64(lane))
		// Every word read holds bytes of the value: slots are 4-byte
		// aligned and the verifier checked the access.
		words := (lane + size + 3) / 4
		g.a.emit(isa.Cmd(isa.TargetMU, "read32_swap", 0, lo, hi, isa.Mode40BA, words, isa.CtxSwapWait))
		g.extract(v, size, lane, isa.Xfer(0), isa.Xfer(1))
	case isStore(v.Op):
		g.storeXfer(v, size)
		lo, hi := g.mapAddr(v, v.Imm)
		g.a.emit(isa.Cmd(isa.TargetMU, "write8_swap", 0, lo, hi, isa.Mode40BA, size, isa.CtxSwapWait))
	case v.Op == ir.OpAtomicAdd32 || v.Op == ir.OpAtomicAdd64:
		g.mapAtomicAdd(v)
	default:
		g.mapAtomicOther(v)
	}
}

// lowerCall calls a firmware helper (nfp-isa.md §4.9): map id in A0, key at
// ActLMAddr0, value at ActLMAddr2, flags in R4, return address in B0; the
// result comes back in R0.
func (g *gen) lowerCall(v *ir.Value) {
	a := g.a
	switch v.Imm {
	case 7: // get_prandom_u32
		a.emit(isa.CSRRead(isa.CSRPseudoRndNum), isa.Immed(g.dlo(v), 0))
		if dh := g.dhi(v); !dh.IsNone() {
			a.emit(isa.Immed(dh, 0))
		}
		return
	case 25:
		g.perfOutput(v)
		return
	case 28:
		g.csumDiff(v)
		return
	case 44:
		g.adjustHead(v)
		return
	case 65:
		g.adjustTail(v)
		return
	case 1, 2, 3:
		if need := map[int64]int{1: 2, 2: 4, 3: 2}[v.Imm]; len(v.Args) < need {
			g.fail(v, "helper %d takes %d arguments, the call passes %d", v.Imm, need, len(v.Args))
		}
	default:
		g.fail(v, "helper %d is not supported on the NFP", v.Imm)
	}
	m := g.info[g.rootOf(v.Args[0]).ID]
	if m.kind != kMapRef {
		g.fail(v, "helper %d: the map argument is not a known map", v.Imm)
	}
	if int(m.c) >= len(g.opts.Maps) {
		g.fail(v, "helper %d: map %d is not in the object", v.Imm, m.c)
	}
	switch t := g.opts.Maps[m.c].Type; t {
	case 1, 2: // hash, array
	default:
		g.fail(v, "helper %d on a map of type %d is not supported", v.Imm, t)
	}
	if l, ok := g.inlineLookup(v); ok {
		g.lowerArrayLookup(v, l)
		return
	}
	stagedKey, stagedVal := g.stagedSizes(v)
	stackArg := func(i int, what string, staged, at int64) int64 {
		ai := g.info[g.rootOf(v.Args[i]).ID]
		if ai.kind != kStack {
			g.fail(v, "helper %d: the %s must be a constant stack address", v.Imm, what)
		}
		addr := g.frame + ai.off
		if addr < 0 || addr >= image.MaxStack {
			g.fail(v, "helper %d: the %s at fp%+d is outside the frame", v.Imm, what, ai.off)
		}
		if addr&3 != 0 {
			if staged == 0 {
				g.fail(v, "helper %d: the %s at fp%+d is not a 4-byte aligned stack address", v.Imm, what, ai.off)
			}
			if addr+staged > g.frame {
				g.fail(v, "helper %d: the %s at fp%+d runs past the frame", v.Imm, what, ai.off)
			}
			g.stage(v, addr, at, staged)
			return at
		}
		return addr
	}
	if v.Imm == 2 {
		g.parallel([]pmove{{dst: 8, v: v.Args[3]}, {dst: 9, v: v.Args[3], hi: true}})
		val := stackArg(2, "value", stagedVal, g.spillBytes+round4(stagedKey))
		g.stackAddr(isa.GPRB(regScratchB), val)
		a.emit(isa.CSRWrite(isa.CSRActLMAddr2, isa.GPRB(regScratchB)))
	}
	key := stackArg(1, "key", stagedKey, g.spillBytes)
	if key != 0 {
		g.stackAddr(isa.GPRB(regScratchB), key)
		a.emit(isa.CSRWrite(isa.CSRActLMAddr0, isa.GPRB(regScratchB)))
	}
	ret := a.newLabel()
	a.reloc(isa.BR, image.RelocBrHelper, 0, uint32(v.Imm), 2)
	a.emit(isa.LoadImm32(isa.GPRA(0), uint32(m.c))[0])
	a.immedRel(isa.GPRB(0), ret)
	a.place(ret)
	if key != 0 {
		a.emit(isa.CSRWrite(isa.CSRActLMAddr0, isa.GPRA(regStack)))
		a.lmWrite()
	}
	g.lm3 = -1
	if v.Type != ir.Void && g.info[v.ID].kind == kReg {
		in := g.info[v.ID]
		moves := []pmove{{dst: in.lo, from: 0}}
		if dh := g.dhi(v); !dh.IsNone() {
			moves = append(moves, pmove{dst: in.hi, from: 1})
		}
		g.parallel(moves)
	}
}

// Legacy packet loads take a signed 32-bit offset; the kernel maps the
// negative ones (bpf_skb_load_helper_convert_offset, net/core/filter.c):
// [SKF_NET_OFF, 0) from the network header, ETH_HLEN into a tc frame,
// [SKF_LL_OFF, SKF_NET_OFF) from the mac header, the frame's start; lower
// ones fail. emulator.LegacyOffset is the same map.
const (
	skfNetOff  = -0x100000 // SKF_NET_OFF
	skfLLOff   = -0x200000 // SKF_LL_OFF
	tcNetStart = 14        // skb_network_offset of a tc frame
)

// legacyOffset is the frame offset a legacy load at off reads, false if it
// always fails.
func legacyOffset(off int32) (int64, bool) {
	switch {
	case off >= 0:
		return int64(off), true
	case off >= skfNetOff:
		return int64(off) - skfNetOff + tcNetStart, true
	case off >= skfLLOff:
		return int64(off) - skfLLOff, true
	}
	return 0, false
}

// lowerPktLoad is BPF_LD ABS/IND at a constant offset (nfp-isa.md §4.6),
// a negative one mapped to its frame offset here: past the packet's end
// the program ends with r0 = 0, as eBPF says; otherwise read8 of 4 bytes
// puts the first in the most significant byte, so a right shift gives the
// big-endian value.
func (g *gen) lowerPktLoad(v *ir.Value) {
	a := g.a
	size := v.Op.Info().Size
	c, ok := g.constant(v.Args[1], false)
	if !ok {
		g.pktLoadInd(v, size)
		return
	}
	off, valid := legacyOffset(int32(c))
	end := off + int64(size)
	if !valid || end > 0x3fff {
		// Beyond any packet: always ends the program.
		a.emit(isa.Immed(isa.GPRBoth(0), 0), isa.Immed(isa.GPRBoth(1), 0))
		a.reloc(isa.BR, image.RelocBrGoOut, g.out, 0, 0)
		return
	}
	exit := a.newLabel()
	g.pktExits = append(g.pktExits, exit)
	if end <= limU {
		a.emit(isa.ALU(isa.None, isa.GPRB(regStack), isa.OpSub, isa.Imm(uint32(end))))
	} else {
		a.emit(isa.Immed(isa.GPRA(regScratchA), uint32(end)), isa.ALU(isa.None, isa.GPRB(regStack), isa.OpSub, isa.GPRA(regScratchA)))
	}
	a.branch(isa.BLO, exit, 0)
	a.emit(isa.Cmd(isa.TargetMU, "read8", 0, isa.LM(1, 2), g.offOperand(off), isa.Mode32, 4, isa.CtxSwapWait))
	g.pktLoadResult(g.dlo(v), size)
}

// pktLoadResult moves the big-endian value read8 left in $xfer_0 to d.
func (g *gen) pktLoadResult(d isa.Operand, size int) {
	if size == 4 {
		g.a.emit(isa.Mov(d, isa.Xfer(0)))
	} else {
		g.a.emit(isa.Shf(d, isa.None, isa.ShfB, isa.Xfer(0), isa.ShiftR, 32-8*size))
	}
}

// pktNeg is the out-of-line part of a BPF_LD IND whose offset is negative
// or past the end (pktLoadInd), emitted after the body: its labels, the
// load, the register the result goes to (a spilled result's reload
// register, stored after done) and the size.
type pktNeg struct {
	l, done, exit label
	v             *ir.Value
	d             isa.Operand
	size          int
}

// pktLoadInd is BPF_LD IND: the offset is a 32-bit value (src + imm),
// signed. In line, end = off + size in A20: no carry and a length of at
// least end reads at off. A carry means off >= 2^32 - size, a network
// header offset of about 2^20: out of bounds. A length below end (off past
// the end, or negative) goes to the out-of-line part (pktNegPath).
func (g *gen) pktLoadInd(v *ir.Value, size int) {
	a := g.a
	n := pktNeg{l: a.newLabel(), done: a.newLabel(), exit: a.newLabel(), v: v, d: g.dlo(v), size: size}
	g.pktExits = append(g.pktExits, n.exit)
	g.pktNegs = append(g.pktNegs, n)
	end := isa.GPRA(regScratchA)
	a.emit(isa.ALU(end, g.src(v.Args[1], false, left, limU), isa.OpAdd, isa.Imm(uint32(size))))
	a.branch(isa.BCS, n.exit, 0)
	a.emit(isa.ALU(isa.None, isa.GPRB(regStack), isa.OpSub, end))
	a.branch(isa.BLO, n.l, 0)
	a.emit(isa.Cmd(isa.TargetMU, "read8", 0, isa.LM(1, 2), g.src(v.Args[1], false, right, limU), isa.Mode32, 4, isa.CtxSwapWait))
	g.pktLoadResult(n.d, size)
	a.place(n.done)
}

// pktNegPath is the out-of-line part of a BPF_LD IND, entered with A20 =
// off + size (no carry) past the packet's length: it maps a negative off
// as legacyOffset does into B21 (off - SKF_NET_OFF carries in the network
// header's range, off - SKF_LL_OFF in the mac header's), exits with
// r0 = 0 for any other offset or past the end, else reads as in line and
// goes back.
func (g *gen) pktNegPath(n pktNeg) {
	a := g.a
	a.pc = n.v.Pos
	off, eff, end := isa.GPRA(regScratchA), isa.GPRB(regScratchB), isa.GPRA(regScratchA)
	size := uint32(n.size)
	mac, check := a.newLabel(), a.newLabel()
	a.place(n.l)
	a.emit(isa.ALU(off, off, isa.OpSub, isa.Imm(size)))
	a.emit(isa.Immed(eff, -skfNetOff), isa.ALU(eff, off, isa.OpAdd, eff))
	a.branch(isa.BCC, mac, 0)
	a.emit(isa.ALU(eff, eff, isa.OpAdd, isa.Imm(tcNetStart)))
	a.branch(isa.BR, check, 0)
	a.place(mac)
	a.emit(isa.Immed(eff, -skfLLOff), isa.ALU(eff, off, isa.OpAdd, eff))
	a.branch(isa.BCC, n.exit, 0)
	a.place(check)
	a.emit(isa.ALU(end, eff, isa.OpAdd, isa.Imm(size)))
	a.emit(isa.ALU(isa.None, isa.GPRB(regStack), isa.OpSub, end))
	a.branch(isa.BLO, n.exit, 0)
	a.emit(isa.Cmd(isa.TargetMU, "read8", 0, isa.LM(1, 2), eff, isa.Mode32, 4, isa.CtxSwapWait))
	g.pktLoadResult(n.d, n.size)
	a.branch(isa.BR, n.done, 0)
}

// perfOutput calls the firmware's bpf_perf_event_output (nfp-isa.md §4.9):
// map in R2, flags in R3, data in R4 with its pointer type in A1, size in
// R5. The flags must say BPF_F_CURRENT_CPU (the upper half may ask for
// packet bytes), as the kernel requires for offload.
func (g *gen) perfOutput(v *ir.Value) {
	a := g.a
	if len(v.Args) < 5 {
		g.fail(v, "bpf_perf_event_output takes 5 arguments, the call passes %d", len(v.Args))
	}
	m := g.info[g.rootOf(v.Args[1]).ID]
	if m.kind != kMapRef || int(m.c) >= len(g.opts.Maps) || g.opts.Maps[m.c].Type != 4 {
		g.fail(v, "bpf_perf_event_output: the map argument is not a known perf event array")
	}
	if !g.lowIsCurrentCPU(v.Args[2]) {
		g.fail(v, "bpf_perf_event_output: the verifier did not prove the flags' low half BPF_F_CURRENT_CPU")
	}
	var ptrType uint32
	data := v.Args[3]
	switch di := g.info[g.rootOf(data).ID]; {
	case di.kind == kStack:
		ptrType = 6
	case di.kind == kMapValue:
		ptrType = 4
	default:
		fa := g.f.Facts[data.ID]
		if fa == nil || fa.Ptr == nil {
			g.fail(v, "bpf_perf_event_output: the data pointer's kind is not known")
		}
		switch fa.Ptr.Kind {
		case ir.PtrStack:
			ptrType = 6
		case ir.PtrPkt:
			ptrType = 8
		case ir.PtrMapVal, ir.PtrMapValOrNull:
			// A lookup's result keeps its definition's fact; the verifier
			// accepted it as the helper's data, so here it is not null.
			ptrType = 4
		default:
			g.fail(v, "bpf_perf_event_output: data in %s memory is not supported", fa.Ptr.Kind)
		}
	}
	g.parallel([]pmove{
		{dst: 6, v: v.Args[2]}, {dst: 7, v: v.Args[2], hi: true},
		{dst: 8, v: data}, {dst: 9, v: data, hi: true},
		{dst: 10, v: v.Args[4]}, {dst: 11, v: v.Args[4], hi: true},
	})
	a.emit(isa.Immed(isa.GPRBoth(4), uint32(m.c)))
	ret := a.newLabel()
	a.reloc(isa.BR, image.RelocBrHelper, 0, 25, 2)
	a.emit(isa.Immed(isa.GPRA(1), ptrType))
	a.immedRel(isa.GPRB(0), ret)
	a.place(ret)
	g.lm3 = -1
	if v.Type != ir.Void && g.info[v.ID].kind == kReg {
		in := g.info[v.ID]
		moves := []pmove{{dst: in.lo, from: 0}}
		if dh := g.dhi(v); !dh.IsNone() {
			moves = append(moves, pmove{dst: in.hi, from: 1})
		}
		g.parallel(moves)
	}
}

// lowIsCurrentCPU reports whether v's low 32 bits are known to be
// 0xffffffff (BPF_F_CURRENT_CPU): a constant, or the verifier's facts.
func (g *gen) lowIsCurrentCPU(v *ir.Value) bool {
	if lo, ok := g.constant(v, false); ok {
		return lo == 0xffffffff
	}
	fa := g.f.Facts[v.ID]
	if fa == nil {
		return false
	}
	if fa.U32 != nil && fa.U32.Min == 0xffffffff {
		return true
	}
	return fa.Tnum != nil && uint32(fa.Tnum.Mask) == 0 && uint32(fa.Tnum.Value) == 0xffffffff
}

// Bounds of bpf_xdp_adjust_head: the frame starts 256 bytes into its CTM
// buffer (XDP_PACKET_HEADROOM), the new start must leave the 40 bytes of a
// struct xdp_frame before it, as the host's helper requires, and stay a
// 13-bit CTM offset; the packet keeps at least an Ethernet header.
const (
	headOffMin = 40
	headOffMax = 0x1fff
	ethHdrLen  = 14
)

// adjustHead is bpf_xdp_adjust_head inline, as the JIT's checked version
// (nfp-isa.md §4.9): the packet vector's offset (*l$index1[2], low 16
// bits) and length (*l$index1[0], B22) move by delta; r0 = 0, or -EINVAL
// out of bounds. Packet pointers computed before are stale afterwards (the
// verifier makes the program reload them).
func (g *gen) adjustHead(v *ir.Value) {
	a := g.a
	if g.opts.Type != image.ProgXDP || len(v.Args) < 2 {
		g.fail(v, "bpf_xdp_adjust_head needs an XDP program and 2 arguments")
	}
	d := isa.GPRBoth(regScratchB)
	if c, ok := g.constant(v.Args[1], false); ok {
		a.emit(isa.LoadImm32(d, c)...)
	} else {
		a.emit(isa.Mov(d, g.src(v.Args[1], false, right, limU)))
	}
	einval, end := a.newLabel(), a.newLabel()
	tmp, tmpLen := isa.GPRA(regScratchA), isa.GPRB(regScratchA)
	a.emit(isa.ALU(tmp, isa.LM(1, 2), isa.OpAdd16, isa.GPRB(regScratchB)),
		isa.ALU(isa.None, tmp, isa.OpSub, isa.Imm(headOffMin)))
	a.branch(isa.BLO, einval, 0)
	a.emit(isa.Immed(tmpLen, headOffMax), isa.ALU(isa.None, tmpLen, isa.OpSub, tmp))
	a.branch(isa.BLO, einval, 0)
	a.emit(isa.ALU(tmpLen, isa.GPRB(regStack), isa.OpSub, isa.GPRA(regScratchB)),
		isa.ALU(isa.None, tmpLen, isa.OpSub, isa.Imm(ethHdrLen)))
	a.branch(isa.BMI, einval, 0)
	a.emit(isa.LdField(isa.LM(1, 2), 0x3, tmp, isa.ShiftRotR, 0, false),
		isa.ALU(isa.GPRB(regStack), isa.GPRB(regStack), isa.OpSub, isa.GPRA(regScratchB)),
		isa.ALU(isa.LM(1, 0), isa.LM(1, 0), isa.OpSub, isa.GPRA(regScratchB)))
	g.adjustResult(v, einval, end)
	g.lm3 = -1
	g.usesAdjustHead = true
}

// adjustResult ends an inline adjust_head/adjust_tail: the helper's
// result is 0 on the path that falls through here and -EINVAL (-22) from
// einval; both continue at end. A result nobody uses is not written.
func (g *gen) adjustResult(v *ir.Value, einval, end label) {
	a := g.a
	res := g.info[v.ID].kind == kReg
	if res {
		a.emit(isa.Immed(g.dlo(v), 0))
		if dh := g.dhi(v); !dh.IsNone() {
			a.emit(isa.Immed(dh, 0))
		}
	}
	a.branch(isa.BR, end, 0)
	a.place(einval)
	if res {
		a.emit(isa.LoadImm32(g.dlo(v), uint32(0xffffffea))...)
		if dh := g.dhi(v); !dh.IsNone() {
			a.emit(isa.Immed(dh, 0xffffffff))
		}
	}
	a.place(end)
}

// nonPositive32 reports whether the verifier's facts prove the low 32 bits
// of v, read as a signed int (the helper's delta is an int: the low half is
// all the code below reads), at most 0. A 64-bit range proves it only
// inside [-2^31, 0]: -2^32 + 3 is negative, its int is 3. Ranges pinned to
// one value count too (-O0 keeps neg64 of a one-value range unfolded, with
// only an unsigned fact).
func nonPositive32(f *ir.Func, v *ir.Value) bool {
	fa := f.Facts[v.ID]
	if fa == nil {
		return false
	}
	if c, ok := factConst(f, v); ok {
		return int32(uint32(c)) <= 0
	}
	switch {
	case fa.S32 != nil && fa.S32.Max <= 0:
		return true
	case fa.U32 != nil && (fa.U32.Max == 0 || fa.U32.Min >= 1<<31):
		return true
	case fa.S64 != nil && fa.S64.Min >= math.MinInt32 && fa.S64.Max <= 0:
		return true
	case fa.U64 != nil && (fa.U64.Max == 0 || fa.U64.Min >= math.MaxUint64-math.MaxInt32):
		return true
	}
	return false
}

// adjustTail is bpf_xdp_adjust_tail inline for a delta the verifier proved
// not positive (the NFP cannot grow a frame; the host can, so other deltas
// are refused rather than given another meaning): the length in B22 and
// the packet vector shrink unless fewer than 14 bytes would stay, which
// returns -EINVAL as on the host.
func (g *gen) adjustTail(v *ir.Value) {
	a := g.a
	if g.opts.Type != image.ProgXDP || len(v.Args) < 2 {
		g.fail(v, "bpf_xdp_adjust_tail needs an XDP program and 2 arguments")
	}
	delta := v.Args[1]
	if c, ok := g.constant(delta, false); ok {
		if int32(c) > 0 {
			g.fail(v, "bpf_xdp_adjust_tail by +%d: the NFP cannot grow a frame", int32(c))
		}
	} else if !nonPositive32(g.f, delta) {
		g.fail(v, "bpf_xdp_adjust_tail by a delta the verifier did not prove <= 0: the NFP cannot grow a frame")
	}
	d := isa.GPRBoth(regScratchB)
	if c, ok := g.constant(delta, false); ok {
		a.emit(isa.LoadImm32(d, c)...)
	} else {
		a.emit(isa.Mov(d, g.src(delta, false, right, limU)))
	}
	einval, end := a.newLabel(), a.newLabel()
	newLen := isa.GPRA(regScratchA)
	a.emit(isa.ALU(newLen, isa.GPRA(regScratchB), isa.OpAdd, isa.GPRB(regStack)),
		isa.ALU(isa.None, newLen, isa.OpSub, isa.Imm(ethHdrLen)))
	a.branch(isa.BMI, einval, 0)
	a.emit(isa.ALU(isa.GPRB(regStack), isa.GPRB(regStack), isa.OpAdd, isa.GPRA(regScratchB)),
		isa.ALU(isa.LM(1, 0), isa.LM(1, 0), isa.OpAdd, isa.GPRA(regScratchB)))
	g.adjustResult(v, einval, end)
	g.lm3 = -1
	g.usesAdjustTail = true
}
