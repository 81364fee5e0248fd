package backend

import (
	"math/bits"
	"slices"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
)

// An ARRAY map's lookup needs no firmware: its values sit at fixed EMEM
// addresses, map i's value j at EMEMBase + i<<32 + j × stride, the stride
// being the value size rounded up to a power of two (at least 4). That is
// the firmware's layout (emulator/nfp fwmaps.go, docs/emulator.md), the one
// the patched JIT of the count-min corpus indexes with a single shift (its
// alu_shf[…, AND, *l$index0, <<2]). The JIT masks the index into range and
// never returns NULL; eBPF says a key at or past max_entries finds nothing,
// so here the key is compared with max_entries unless the verifier's facts
// on the value stored as the key already keep it below, and an out-of-range
// key gives the null pointer (0 in both halves, what the program's null
// check tests). The firmware call this replaces costs ~186 cycles
// (helpercost.go); the inline form is 2 to 6 words and as many cycles.

// arrayLookup describes an ARRAY lookup lowered inline: the map, the LM
// address of the key's word and the value stride's shift.
type arrayLookup struct {
	mapIdx  uint64
	keyAddr int64
	shift   int
	max     uint32
}

// inlineLookup reports whether call v is a bpf_map_lookup_elem the backend
// lowers without the firmware: on an ARRAY map whose values fit the 4 GiB
// EMEM window, with the key at a 4-byte aligned constant stack address in
// the frame (an unaligned key, which the JIT refuses, keeps the staged
// firmware call).
func (g *gen) inlineLookup(v *ir.Value) (arrayLookup, bool) {
	if v.Op != ir.OpCall || v.Imm != 1 || len(v.Args) < 2 || !g.opts.MapLayout {
		return arrayLookup{}, false
	}
	m := g.info[g.rootOf(v.Args[0]).ID]
	if m.kind != kMapRef || int(m.c) >= len(g.opts.Maps) {
		return arrayLookup{}, false
	}
	mp := g.opts.Maps[m.c]
	if mp.Type != 2 || mp.KeySize != 4 {
		return arrayLookup{}, false
	}
	stride := uint64(4)
	for stride < uint64(mp.ValueSize) {
		stride <<= 1
	}
	if uint64(mp.MaxEntries)*stride > 1<<32 {
		return arrayLookup{}, false
	}
	k := g.info[g.rootOf(v.Args[1]).ID]
	if k.kind != kStack {
		return arrayLookup{}, false
	}
	addr := g.frame + k.off
	if addr&3 != 0 || addr < 0 || addr+4 > g.frame {
		return arrayLookup{}, false
	}
	return arrayLookup{mapIdx: m.c, keyAddr: addr, shift: bits.TrailingZeros64(stride), max: mp.MaxEntries}, true
}

// firmwareCall reports whether call v branches to the firmware, which may
// change every register but eBPF r6–r9's: values live across it need a
// call-preserved register. The helpers lowered in line do not: an ARRAY
// lookup, get_prandom_u32, csum_diff, xdp_adjust_head and xdp_adjust_tail
// write only their result and the scratch registers 20 and 21.
func (g *gen) firmwareCall(v *ir.Value) bool {
	if v.Op != ir.OpCall {
		return false
	}
	switch v.Imm {
	case 7, 28, 44, 65:
		return false
	}
	_, inline := g.inlineLookup(v)
	return !inline
}

// keyRange is what the compiler knows of an inlined lookup's key.
type keyRange uint8

const (
	keyChecked keyRange = iota // maybe out of range: compared at run time
	keyInRange                 // below max_entries: the result is not null
	keyConstIn                 // a constant below max_entries
	keyOut                     // never below max_entries: the result is null
)

// lookupKey classifies the key of the inlined lookup l at call v (and
// gives a constant key's value).
func (g *gen) lookupKey(v *ir.Value, l arrayLookup) (keyRange, uint32) {
	if l.max == 0 {
		return keyOut, 0
	}
	if c, exact := g.keyConst(v, l.keyAddr); exact {
		if c < l.max {
			return keyConstIn, c
		}
		return keyOut, c
	}
	if keyMax, known := g.keyBound(v, l.keyAddr); known && keyMax < l.max {
		return keyInRange, 0
	}
	return keyChecked, 0
}

// lowerArrayLookup emits the inline lookup l for call v: the result's low
// half is key << shift, its high half map i's EMEM base (bits 39:32 << 24,
// as a map value pointer is held), or 0 and 0 for a key not below
// max_entries.
func (g *gen) lowerArrayLookup(v *ir.Value, l arrayLookup) {
	a := g.a
	in := g.info[v.ID]
	if v.Type == ir.Void || in.kind != kReg {
		return // nobody reads the result: a lookup has no effect
	}
	lo, hi := g.dlo(v), g.dhi(v)
	base := uint32(0x80+l.mapIdx) << 24
	null := func() {
		a.emit(isa.Immed(lo, 0))
		if !hi.IsNone() {
			a.emit(isa.Immed(hi, 0))
		}
	}
	found := func(key isa.Operand) {
		a.emit(isa.Shf(lo, isa.None, isa.ShfB, key, isa.ShiftL, l.shift))
		if !hi.IsNone() {
			a.emit(isa.LoadImm32(hi, base)...)
		}
	}
	k, c := g.lookupKey(v, l)
	st, inReg := g.keyReg(v, l, k)
	switch k {
	case keyOut:
		null()
	case keyConstIn:
		a.emit(isa.LoadImm32(lo, c<<l.shift)...)
		if !hi.IsNone() {
			a.emit(isa.LoadImm32(hi, base)...)
		}
	case keyInRange:
		if inReg {
			found(g.src(st.Args[1], false, right, limR))
			return
		}
		found(g.lmWord(v, l.keyAddr, true)) // alu_shf: a restricted operand
	default:
		done := a.newLabel()
		null()
		key, shKey := isa.Operand{}, isa.Operand{}
		if inReg {
			key, shKey = g.src(st.Args[1], false, left, limU), g.src(st.Args[1], false, right, limR)
		} else {
			key = g.lmWord(v, l.keyAddr, true)
			shKey = key
		}
		if l.max <= limU {
			a.emit(isa.ALU(isa.None, key, isa.OpSub, isa.Imm(l.max)))
		} else {
			a.emit(isa.LoadImm32(isa.GPRB(regScratchB), l.max)...)
			a.emit(isa.ALU(isa.None, key, isa.OpSub, isa.GPRB(regScratchB)))
		}
		a.branch(isa.BHS, done, 0)
		found(shKey)
		a.place(done)
	}
}

// lookupCompare lowers a compare for equality of an inlined lookup's
// result with 0 (the program's null check) that the key decides: nothing
// when it never holds, a branch to l when it always does. False for every
// other compare.
func (g *gen) lookupCompare(cond uint8, x, y *ir.Value, l label) bool {
	if cond != ceq && cond != cne {
		return false
	}
	if c, ok := g.constant(x, false); ok && c == 0 {
		x, y = y, x
	}
	if lo, ok := g.constant(y, false); !ok || lo != 0 {
		return false
	}
	if hi, ok := g.constant(y, true); !ok || hi != 0 {
		return false
	}
	// The 64-bit result itself (IR types keep a 32-bit compare from
	// testing only its low half, which is 0 for key 0).
	lk, ok := g.inlineLookup(x)
	if !ok || x.Type != ir.I64 {
		return false
	}
	var null bool
	switch k, _ := g.lookupKey(x, lk); k {
	case keyOut:
		null = true
	case keyInRange, keyConstIn:
		null = false
	default:
		return false
	}
	if null == (cond == ceq) {
		g.a.branch(isa.BR, l, 0)
	}
	return true
}

// keyStores returns the stores that last wrote the 32-bit key word at
// LM address addr before call v, one per path into v: a 4-byte store of
// exactly that word, or an 8-byte one whose low half it is, found walking
// back through v's block and its predecessors. Any other write that may
// touch the word (a partial store, a stack atomic, a store through a
// pointer whose stack offset is not known), a path from the entry without
// a store, or a loop back to v's path makes the answer unknown (false).
func (g *gen) keyStores(v *ir.Value, addr int64) ([]*ir.Value, bool) {
	i := 0
	for j, x := range v.Block.Instrs {
		if x == v {
			i = j
		}
	}
	var vals []*ir.Value
	ok := g.keyStoresFrom(v.Block, i, addr, g.f.Preds(), map[*ir.Block]bool{}, &vals)
	return vals, ok
}

func (g *gen) keyStoresFrom(b *ir.Block, i int, addr int64, preds map[*ir.Block][]*ir.Block, onPath map[*ir.Block]bool, vals *[]*ir.Value) bool {
	for j := i - 1; j >= 0; j-- {
		x := b.Instrs[j]
		if !x.Op.IsMemory() || isLoad(x.Op) || x.Region != ir.RegionStack && x.Region != ir.RegionAny || len(x.Args) == 0 {
			continue
		}
		p := g.info[g.rootOf(x.Args[0]).ID]
		if p.kind != kStack {
			return false
		}
		start := g.frame + p.off + x.Imm
		end := start + int64(x.Op.Info().Size)
		if end <= addr || start >= addr+4 {
			continue
		}
		if start == addr && (x.Op == ir.OpStore32 || x.Op == ir.OpStore64) && len(x.Args) > 1 {
			*vals = append(*vals, x)
			return true
		}
		return false
	}
	ps := preds[b]
	if len(ps) == 0 || onPath[b] || len(*vals) > 16 {
		return false
	}
	onPath[b] = true
	defer delete(onPath, b)
	for _, p := range ps {
		if !g.keyStoresFrom(p, len(p.Instrs), addr, preds, onPath, vals) {
			return false
		}
	}
	return true
}

// keyConst is the key's value when every store that may have written it
// stored the same constant.
func (g *gen) keyConst(v *ir.Value, addr int64) (uint32, bool) {
	vals, ok := g.keyStores(v, addr)
	if !ok || len(vals) == 0 {
		return 0, false
	}
	c, ok := g.constant(vals[0].Args[1], false)
	for _, x := range vals[1:] {
		if d, same := g.constant(x.Args[1], false); !ok || !same || d != c {
			return 0, false
		}
	}
	return c, ok
}

// keyBound is the largest value the key word at addr may hold before call
// v: the largest bound of the stored values' low 32 bits (lowBound).
func (g *gen) keyBound(v *ir.Value, addr int64) (uint32, bool) {
	vals, ok := g.keyStores(v, addr)
	if !ok || len(vals) == 0 {
		return 0, false
	}
	var b uint64
	for _, x := range vals {
		b = max(b, g.lowBound(x.Args[1], 4))
	}
	return uint32(b), b < 1<<32
}

// lowBound bounds the low 32 bits of val from above (1<<32 when nothing
// is known): a constant, the verifier's facts (!range32, !range below
// 2^32, a tnum), and, where passes left a value without facts (narrow
// rewrites 64-bit operations as 32-bit ones on truncated operands), the
// operation itself — trunc and zext keep their operand's low bits, and
// masks, or/xor and right shifts of bounded operands stay bounded —
// looking at most depth definitions back.
func (g *gen) lowBound(val *ir.Value, depth int) uint64 {
	if c, ok := g.constant(val, false); ok {
		return uint64(c)
	}
	best := uint64(1 << 32)
	if fa := g.f.Facts[val.ID]; fa != nil {
		if fa.U32 != nil {
			best = min(best, fa.U32.Max)
		}
		if fa.U64 != nil {
			best = min(best, fa.U64.Max)
		}
		if fa.Tnum != nil {
			best = min(best, uint64(uint32(fa.Tnum.Value|fa.Tnum.Mask)))
		}
	}
	if depth == 0 || len(val.Args) == 0 {
		return best
	}
	arg := func(i int) uint64 { return g.lowBound(val.Args[i], depth-1) }
	switch val.Op {
	case ir.OpTrunc, ir.OpZext:
		best = min(best, arg(0))
	case ir.OpAnd32, ir.OpAnd64:
		best = min(best, arg(0), arg(1))
	case ir.OpOr32, ir.OpOr64, ir.OpXor32, ir.OpXor64:
		if m := max(arg(0), arg(1)); m < 1<<32 {
			best = min(best, 1<<bits.Len64(m)-1)
		}
	case ir.OpRsh32:
		if c, ok := g.constant(val.Args[1], false); ok {
			best = min(best, arg(0)>>(c&31))
		}
	}
	return best
}

// keyInRegister returns the store that wrote an inlined lookup's key when
// the stored value's register still holds it at call v: the store is the
// only one that reaches the key (keyStores), it is in v's block, and no
// value between them takes a register, so nothing has reused it (the
// result's own registers are written only after the key is read). A
// spilled or constant value does not qualify.
func (g *gen) keyInRegister(v *ir.Value, l arrayLookup) (*ir.Value, bool) {
	sts, ok := g.keyStores(v, l.keyAddr)
	if !ok || len(sts) != 1 || sts[0].Block != v.Block {
		return nil, false
	}
	st := sts[0]
	if r := g.info[g.rootOf(st.Args[1]).ID]; r.kind != kReg || r.spilled || r.reloaded || st.Op != ir.OpStore32 {
		return nil, false
	}
	instrs := v.Block.Instrs
	i := len(instrs) - 1
	for i >= 0 && instrs[i] != v {
		i--
	}
	for j := i - 1; j >= 0; j-- {
		x := instrs[j]
		if x == st {
			return st, true
		}
		if x.Type != ir.Void && g.info[x.ID].kind == kReg {
			return nil, false
		}
	}
	return nil, false
}

// keyReg returns the store whose value's register the lookup l at call v
// (its key classified k) reads the key from (keyInRegister): for a key
// compared at run time only when that register is not one of the result's,
// which get the null pointer before the compare.
func (g *gen) keyReg(v *ir.Value, l arrayLookup, k keyRange) (*ir.Value, bool) {
	if k != keyInRange && k != keyChecked {
		return nil, false
	}
	st, ok := g.keyInRegister(v, l)
	if !ok || k == keyInRange {
		return st, ok
	}
	in, r := g.info[v.ID], g.info[g.rootOf(st.Args[1]).ID].lo
	if v.Type == ir.Void || in.kind != kReg || in.spilled || in.lo == r || in.hi == r {
		return nil, false
	}
	return st, true
}

// deadKeyStore reports whether stack store s needs no code: it writes the
// key of inlined lookups only, each of which takes the key from the
// stored value's register (keyInRegister) or knows it at compile time
// (a constant), and nothing else may read the
// bytes it writes — no stack load or atomic over them, no access through
// a stack pointer whose offset is not known, no firmware call with a key,
// value or data on the stack there. (count-min stores each hash only to
// look it up.)
func (g *gen) deadKeyStore(s *ir.Value) bool {
	if s.Op != ir.OpStore32 || s.Region != ir.RegionStack {
		return false
	}
	p := g.info[g.rootOf(s.Args[0]).ID]
	if p.kind != kStack {
		return false
	}
	addr := g.frame + p.off + s.Imm
	overlaps := func(a, n int64) bool { return a < addr+4 && addr < a+n }
	fed := false
	for _, b := range g.f.Blocks {
		for _, x := range b.Instrs {
			switch {
			case x.Op == ir.OpCall:
				if l, ok := g.inlineLookup(x); ok {
					if !overlaps(l.keyAddr, 4) {
						continue
					}
					if x.Type == ir.Void || g.info[x.ID].kind != kReg {
						fed = true // an unused result: no code
						continue
					}
					switch k, _ := g.lookupKey(x, l); k {
					case keyConstIn, keyOut:
						fed = true // decided at compile time: reads no LM
						continue
					case keyInRange, keyChecked:
						if st, ok := g.keyReg(x, l, k); ok && st == s {
							fed = true
							continue
						}
					}
					// Reading the word only where s wrote it matters.
					if sts, ok := g.keyStores(x, l.keyAddr); ok && l.keyAddr == addr && !slices.Contains(sts, s) {
						continue
					}
					return false
				}
				for _, a := range x.Args {
					if q := g.info[g.rootOf(a).ID]; q.kind == kStack {
						return false // the firmware reads the stack
					}
				}
			case x.Op == ir.OpCallFn:
				return false
			case x.Op.IsMemory() && x != s && (x.Region == ir.RegionStack || x.Region == ir.RegionAny) && len(x.Args) > 0:
				q := g.info[g.rootOf(x.Args[0]).ID]
				if q.kind != kStack {
					return false
				}
				if isStore(x.Op) {
					continue
				}
				if overlaps(g.frame+q.off+x.Imm, int64(x.Op.Info().Size)) {
					return false
				}
			}
		}
	}
	return fed
}
