package backend

import (
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// atomicWords are the 32-bit words of one map's value (by index) that
// atomics use; all is set when an atomic's offset is not known.
type atomicWords struct {
	words map[int64]*ir.Value
	all   *ir.Value
}

// checkAtomicWords refuses programs that use a map value word both through
// an atomic and in its little-endian form: through a plain load or store,
// or through a bpf_map_update_elem that may write it non-zero. The NFP's
// atomic engine keeps such words big-endian (the driver swaps them for the
// host only), so the other access would see or leave the bytes reversed.
// The kernel's nfp verifier refuses the same programs (nfp-isa.md
// §2.12.5, §4.10; nfp_bpf_map_update_value_ok: "bpf_map_update_elem() is
// required to initialize atomic counters to zero"). An atomic must also be
// naturally aligned, as the kernel requires of every atomic (strict
// alignment in check_atomic) and as the atomic engine works on whole
// words.
func (g *gen) checkAtomicWords() {
	type use struct {
		words   map[int64]*ir.Value
		unknown *ir.Value
	}
	type uses struct{ atomic, plain use }
	per := map[int64]*uses{}
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			if v.Region != ir.RegionMapVal || len(v.Args) == 0 {
				continue
			}
			info := v.Op.Info()
			mapIdx, off, known := g.mapValOffset(v.Args[0])
			u := per[mapIdx]
			if u == nil {
				u = &uses{atomic: use{words: map[int64]*ir.Value{}}, plain: use{words: map[int64]*ir.Value{}}}
				per[mapIdx] = u
			}
			side, other := &u.plain, &u.atomic
			isAtomic := v.Op.IsMemory() && !isLoad(v.Op) && !isStore(v.Op)
			if isAtomic {
				side, other = &u.atomic, &u.plain
				if known && (off+v.Imm)%int64(info.Size) != 0 {
					g.fail(v, "%s at map value offset %d is not %d-byte aligned (the kernel refuses misaligned atomics)", v.Op, off+v.Imm, info.Size)
				}
			}
			if !known {
				side.unknown = v
				for _, o := range other.words {
					g.conflict(v, o, mapIdx)
				}
				if other.unknown != nil {
					g.conflict(v, other.unknown, mapIdx)
				}
				continue
			}
			if other.unknown != nil {
				g.conflict(v, other.unknown, mapIdx)
			}
			start := off + v.Imm
			for w := start >> 2; w <= (start+int64(info.Size)-1)>>2; w++ {
				if o := other.words[w]; o != nil {
					g.conflict(v, o, mapIdx)
				}
				side.words[w] = v
			}
		}
	}
	atomic := map[int64]atomicWords{}
	for m, u := range per {
		atomic[m] = atomicWords{words: u.atomic.words, all: u.atomic.unknown}
	}
	g.checkAtomicUpdates(atomic)
}

// mapValOffset returns the map a map value pointer points into (-1 if not
// known) and its offset in the value, if known.
func (g *gen) mapValOffset(p *ir.Value) (mapIdx, off int64, known bool) {
	mapIdx = -1
	if pi := g.info[g.rootOf(p).ID]; pi.kind == kMapValue {
		return int64(pi.c), pi.off, true
	}
	if fa := g.f.Facts[p.ID]; fa != nil {
		if fa.Map != nil {
			mapIdx = *fa.Map
		}
		if fa.Ptr != nil && fa.Ptr.MinOff == fa.Ptr.MaxOff {
			off, known = fa.Ptr.MinOff, true
		}
	}
	return mapIdx, off, known
}

func (g *gen) conflict(v, o *ir.Value, mapIdx int64) {
	g.fail(v, "%s and %s (eBPF slot %d) use a word of map %d's value both atomically and plainly; the NFP keeps atomic words big-endian",
		v.Op, o.Op, o.Pos, mapIdx)
}

// checkAtomicUpdates refuses a bpf_map_update_elem whose value may put a
// non-zero byte in a word an atomic uses (per: by map index, -1 for
// atomics whose map is not known): the firmware writes the value as it is,
// little-endian, where the atomic engine expects a big-endian word.
func (g *gen) checkAtomicUpdates(per map[int64]atomicWords) {
	if len(per) == 0 {
		return
	}
	preds := g.f.Preds()
	for _, b := range g.f.Blocks {
		for i, v := range b.Instrs {
			if v.Op != ir.OpCall || v.Imm != 2 || len(v.Args) < 3 {
				continue
			}
			m := g.info[g.rootOf(v.Args[0]).ID]
			if m.kind != kMapRef || int(m.c) >= len(g.opts.Maps) {
				continue // lowerCall refuses it
			}
			var words []int64
			var at *ir.Value
			for _, k := range []int64{int64(m.c), -1} {
				u, ok := per[k]
				if !ok {
					continue
				}
				if u.all != nil {
					at = u.all
					words = nil
					for w := int64(0); w < (int64(g.opts.Maps[m.c].ValueSize)+3)/4; w++ {
						words = append(words, w)
					}
					break
				}
				for w, a := range u.words {
					words, at = append(words, w), a
				}
			}
			if len(words) == 0 {
				continue
			}
			val := g.info[g.rootOf(v.Args[2]).ID]
			if val.kind != kStack {
				g.fail(v, "bpf_map_update_elem on map %d, whose value has atomic counters, with a value not at a constant stack address", m.c)
			}
			need := map[int64]bool{}
			size := int64(g.opts.Maps[m.c].ValueSize)
			for _, w := range words {
				for k := w * 4; k < w*4+4 && k < size; k++ {
					need[val.off+k] = true
				}
			}
			if !g.stackZero(b, i, need, preds, map[*ir.Block]bool{}) {
				g.fail(v, "bpf_map_update_elem may write a non-zero value to a word of map %d's value that %s (eBPF slot %d) uses atomically; the NFP keeps atomic words big-endian, so the update must write zeros there",
					m.c, at.Op, at.Pos)
			}
		}
	}
}

// stackZero reports whether the stack bytes need (fp-relative offsets)
// are known to hold zero before instruction i of b: a store of zero bytes
// covers each of them on every path that reaches it. It walks back
// through b and its predecessors; a path reaching the entry, or a loop,
// proves nothing.
func (g *gen) stackZero(b *ir.Block, i int, need map[int64]bool, preds map[*ir.Block][]*ir.Block, onPath map[*ir.Block]bool) bool {
	need = copyNeed(need)
	for j := i - 1; j >= 0 && len(need) > 0; j-- {
		v := b.Instrs[j]
		if v.Region != ir.RegionStack || !v.Op.IsMemory() || isLoad(v.Op) {
			continue
		}
		p := g.info[g.rootOf(v.Args[0]).ID]
		if p.kind != kStack {
			return false // a store through a variable stack pointer
		}
		size := int64(v.Op.Info().Size)
		start := p.off + v.Imm
		c, isConst := g.storedConst(v)
		for k := int64(0); k < size; k++ {
			if !need[start+k] {
				continue
			}
			if !isStore(v.Op) || !isConst || byte(c>>(8*k)) != 0 {
				return false
			}
			delete(need, start+k)
		}
	}
	if len(need) == 0 {
		return true
	}
	ps := preds[b]
	if len(ps) == 0 || onPath[b] {
		return false
	}
	onPath[b] = true
	defer delete(onPath, b)
	for _, p := range ps {
		if !g.stackZero(p, len(p.Instrs), need, preds, onPath) {
			return false
		}
	}
	return true
}

// storedConst is the value a store writes, if known at compile time.
func (g *gen) storedConst(v *ir.Value) (uint64, bool) {
	val := v.Args[1]
	lo, ok := g.constant(val, false)
	if !ok {
		if fa := g.f.Facts[val.ID]; fa != nil && fa.Tnum != nil && fa.Tnum.Mask == 0 {
			return fa.Tnum.Value, true
		}
		return 0, false
	}
	hi, ok := g.constant(val, true)
	if !ok {
		return 0, false
	}
	return uint64(hi)<<32 | uint64(lo), true
}

func copyNeed(m map[int64]bool) map[int64]bool {
	c := make(map[int64]bool, len(m))
	for k := range m {
		c[k] = true
	}
	return c
}

// PREV_ALU words for add_imm / add64_imm through indirect_ref (nfp-isa.md
// §2.12.4): ove_data = 2 (bits 31:16 are the 16-bit addend), ov_len with
// length 0x8 | is64 << 2 — the JIT's and flowenv's encoding.
const (
	prevAddImm32 = 2<<3 | 1<<7 | 0x8<<8
	prevAddImm64 = 2<<3 | 1<<7 | 0xc<<8
	addImmMax    = 0xffff
)

// mapAtomicAdd lowers an atomic add to a map value word (its result is
// never used: the NFP offloads no fetch form). An addend known to fit 16
// bits (a constant, or the verifier's bounds) is added by the JIT's
// non-blocking mem[add_imm, …], indirect_ref: the addend travels in the
// previous ALU result, so the command neither pulls transfer registers nor
// waits (1 cycle in the model where the blocking add waits up to 25).
// Other addends use the blocking mem[add/add64, $xfer_0, …], ctx_swap: a
// command that pulls $xfer_0 without a signal could see it overwritten
// before the pull, and the firmware gives no other way to know when it
// happened. The atomic engine adds big-endian words; the firmware keeps
// counters that way (nfp-isa.md §2.12.5).
func (g *gen) mapAtomicAdd(v *ir.Value) {
	a := g.a
	val := v.Args[1]
	wide := v.Op == ir.OpAtomicAdd64
	prev := uint32(prevAddImm32)
	if wide {
		prev = prevAddImm64
	}
	if max, ok := g.addendBound(val, wide); ok && max <= addImmMax {
		lo, hi := g.mapAddr(v, v.Imm)
		// PREV_ALU is the last ALU result before the command: build it
		// in A21 (mapAddr leaves A20 and B21 to the address) right before.
		word := isa.GPRA(regScratchB)
		if c, ok := g.constant(val, false); ok {
			a.emit(isa.LoadImm32(word, prev|c<<16)...)
		} else {
			a.emit(isa.Immed(word, prev))
			a.emit(isa.LdField(word, 0xc, g.src(val, false, right, limR), isa.ShiftL, 16, false))
		}
		// The word's length field says add_imm; PREV_ALU's length picks
		// the 32- or 64-bit form, as in the JIT's dumps.
		cmd := isa.Cmd(isa.TargetMU, "add_imm", 0, lo, hi, isa.Mode40BA, 1, isa.CtxNoSwap)
		cmd.Indirect = true
		a.emit(cmd)
		return
	}
	a.emit(isa.Mov(isa.Xfer(0), g.src(val, false, right, limU)))
	name, cnt := "add", 1
	if wide {
		a.emit(isa.Mov(isa.Xfer(1), g.src(val, true, right, limU)))
		name, cnt = "add64", 5
	}
	lo, hi := g.mapAddr(v, v.Imm)
	a.emit(isa.Cmd(isa.TargetMU, name, 0, lo, hi, isa.Mode40BA, cnt, isa.CtxSwapWait))
}

// addendBound bounds an atomic add's addend from above: all 64 bits for
// add64, the low 32 bits for add32.
func (g *gen) addendBound(val *ir.Value, wide bool) (uint64, bool) {
	if wide {
		c, ok := g.constant64(val)
		if ok {
			return c, true
		}
		if fa := g.f.Facts[val.ID]; fa != nil {
			b := uint64(1<<64 - 1)
			if fa.U64 != nil {
				b = min(b, fa.U64.Max)
			}
			if fa.Tnum != nil {
				b = min(b, fa.Tnum.Value|fa.Tnum.Mask)
			}
			return b, b < 1<<64-1
		}
		return 0, false
	}
	b := g.lowBound(val, 4)
	return b, b < 1<<32
}

// mapAtomicCmds are the memory engine's commands for the atomics other
// than add (nfp-isa.md §2.12.2: MU actions 4 swap, 5 set, 6 clr, 7 add,
// 15 xor; the test_ forms return the old words in the transfer-in
// registers). and clears the complement's bits.
var mapAtomicCmds = map[ir.Op]struct {
	name string
	not  bool
}{
	ir.OpAtomicOr32: {"set", false}, ir.OpAtomicOr64: {"set", false},
	ir.OpAtomicAnd32: {"clr", true}, ir.OpAtomicAnd64: {"clr", true},
	ir.OpAtomicXor32: {"xor", false}, ir.OpAtomicXor64: {"xor", false},
	ir.OpAtomicFetchOr32: {"test_set", false}, ir.OpAtomicFetchOr64: {"test_set", false},
	ir.OpAtomicFetchAnd32: {"test_clr", true}, ir.OpAtomicFetchAnd64: {"test_clr", true},
	ir.OpAtomicFetchXor32: {"test_xor", false}, ir.OpAtomicFetchXor64: {"test_xor", false},
	ir.OpAtomicFetchAdd32: {"test_add", false}, ir.OpAtomicFetchAdd64: {"test_add64", false},
	ir.OpXchg32: {"swap", false}, ir.OpXchg64: {"swap", false},
}

// mapAtomicOther lowers or, and, xor, their fetch forms, fetch_add and
// xchg on a map value word through the memory engine's atomic commands
// (blocking: the operand is pulled from $xfer_0/1 and the old value comes
// back there). The engine works on the big-endian words the firmware
// keeps for atomics (checkAtomicWords keeps plain accesses off them), so
// the values read back are the words' values. A 64-bit value is two
// words, the low one first (as add64 keeps them): the bit operations and
// swap act on both; test_add64 adds across them. cmpxchg has no command.
func (g *gen) mapAtomicOther(v *ir.Value) {
	c, ok := mapAtomicCmds[v.Op]
	if !ok {
		g.fail(v, "%s on a map value is not supported (the NFP's memory engine has no compare-and-exchange)", v.Op)
	}
	a := g.a
	wide := v.Op.Info().Size == 8
	val := v.Args[1]
	op := isa.OpB
	if c.not {
		op = isa.OpNotB
	}
	a.emit(isa.ALU(isa.Xfer(0), isa.None, op, g.src(val, false, right, limU)))
	count := 1
	if wide {
		a.emit(isa.ALU(isa.Xfer(1), isa.None, op, g.src(val, true, right, limU)))
		count = 2
		if c.name == "test_add64" {
			count = 5 // (the length's bit 2 selects the 64-bit add)
		}
	}
	lo, hi := g.mapAddr(v, v.Imm)
	a.emit(isa.Cmd(isa.TargetMU, c.name, 0, lo, hi, isa.Mode40BA, count, isa.CtxSwapWait))
	if v.Type == ir.Void || g.info[v.ID].kind != kReg {
		return
	}
	a.emit(isa.Mov(g.dlo(v), isa.Xfer(0)))
	if dh := g.dhi(v); !dh.IsNone() {
		if wide {
			a.emit(isa.Mov(dh, isa.Xfer(1)))
		} else {
			a.emit(isa.Immed(dh, 0))
		}
	}
}
