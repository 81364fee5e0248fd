package gen

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Map roles: each program has at most one map of each, created on first use.
const (
	roleHash = iota
	roleArray
	rolePerf
	roleResult
	numMapRoles
)

// mapInfo is what the generator knows of a map it created. Values are
// split in a plain area [0, atomicOff), read and written by ordinary loads
// and stores, and an atomic area [atomicOff, valueSize) touched only by
// atomics: the NFP keeps atomically updated words big-endian and refuses a
// word used both ways, so the areas never mix (and updates from the stack
// write zeros there, the one value both byte orders agree on).
type mapInfo struct {
	role       int
	keySize    int
	valueSize  int
	maxEntries int
	atomicOff  int
	atomic64   bool
}

// mapIndex returns the index of the map of a role, creating it.
func (g *gen) mapIndex(role int) int {
	if g.maps[role] >= 0 {
		return g.maps[role]
	}
	var m loader.Map
	mi := mapInfo{role: role}
	switch role {
	case roleHash:
		mi.keySize = 4 << g.intn(2)
		mi.valueSize = 4 * (2 + g.intn(13))
		mi.maxEntries = 16 << g.intn(3)
		m = loader.Map{Name: "hash", Type: ebpf.Hash}
	case roleArray:
		mi.keySize = 4
		mi.valueSize = 4 * (2 + g.intn(13))
		mi.maxEntries = 1 + g.intn(16)
		m = loader.Map{Name: "array", Type: ebpf.Array}
	case rolePerf:
		mi.keySize, mi.valueSize, mi.maxEntries = 4, 4, 1
		m = loader.Map{Name: "events", Type: ebpf.PerfEventArray}
	case roleResult:
		mi.keySize, mi.valueSize, mi.maxEntries = 4, 16, 1
		m = loader.Map{Name: "result", Type: ebpf.Array}
	}
	mi.atomicOff = mi.valueSize
	if role == roleHash || role == roleArray {
		if n := mi.valueSize / 8; n >= 2 && g.intn(3) != 0 {
			mi.atomicOff = 8 * (n - 1 - g.intn(min(n-1, 2)))
			mi.atomic64 = g.intn(2) == 0
		}
	}
	m.KeySize, m.ValueSize, m.MaxEntries = uint32(mi.keySize), uint32(mi.valueSize), uint32(mi.maxEntries)
	m.Section = ".maps"
	g.p.Maps = append(g.p.Maps, &m)
	g.mapInfo = append(g.mapInfo, mi)
	g.maps[role] = len(g.p.Maps) - 1
	switch role {
	case roleHash:
		g.sem.add(FMapHash)
	case roleArray:
		g.sem.add(FMapArray)
	}
	return g.maps[role]
}

// dataMap picks the hash or the array map.
func (g *gen) dataMap() int {
	if g.intn(2) == 0 {
		return g.mapIndex(roleHash)
	}
	return g.mapIndex(roleArray)
}

// Stack layout: a general area for stack traffic and spills, the key and
// the value of map helpers below it. Callee frames are small so that the
// whole chain fits the NFP's 512 bytes (frames rounded to 64, 36 bytes per call).
func (g *gen) genLo() int16 {
	if g.fnIndex < 0 {
		return -128
	}
	return -24
}

func (g *gen) keyOff() int16 {
	if g.fnIndex < 0 {
		return -136
	}
	return -32
}

func (g *gen) valOff() int16 {
	if g.fnIndex < 0 {
		return -192
	}
	return -64
}

func (g *gen) valMax() int {
	if g.fnIndex < 0 {
		return 56
	}
	return 32
}

// writeKey stores a key for map mi at keyOff: small values (from masked
// scalars or constants) so that lookups hit what updates wrote.
func (g *gen) writeKey(mi *mapInfo) {
	off := g.keyOff()
	limit := int32(8)
	if mi.role == roleArray {
		limit = int32(mi.maxEntries) + 1
	}
	for k := 0; k < mi.keySize; k += 4 {
		if k > 0 && g.intn(2) == 0 {
			g.emit(asm.StoreImm(asm.R10, off+int16(k), 0, asm.Word))
			continue
		}
		if g.intn(3) == 0 {
			g.emit(asm.StoreImm(asm.R10, off+int16(k), int64(g.intn(int(limit))), asm.Word))
			continue
		}
		s := g.scalar()
		x := g.pickDstExcept(1 << s)
		g.emit(asm.Mov.Reg(x, s))
		g.emit(asm.And.Imm(x, 7))
		g.setScalar(x, prov{})
		g.emit(asm.StoreMem(asm.R10, off+int16(k), x, asm.Word))
	}
	g.st.write(off, 8)
}

// fillStack initialises [off, off+n) (off 8-aligned) with aligned stores
// of scalars and immediates; bytes from zeroFrom on get zeros. A slot
// holding a spilled pointer is overwritten whole (a narrower store into it
// is refused by the kernel), even past n.
func (g *gen) fillStack(off int16, n, zeroFrom int) {
	for b := 0; b < n; {
		// The largest aligned size that fits, then maybe smaller.
		si := 3
		for si > 0 && (b%(1<<si) != 0 || b+(1<<si) > n) {
			si--
		}
		if si > 0 && g.intn(3) == 0 {
			si -= 1 + g.intn(si)
		}
		if b%8 == 0 && !g.st.canWrite(off+int16(b), 1) {
			si = 3
		}
		sz := 1 << si
		at := off + int16(b)
		switch {
		case b >= zeroFrom:
			g.stackImm(at, si, 0)
		case g.intn(3) == 0 && si < 3:
			g.stackImm(at, si, int64(g.imm32()))
		default:
			s := g.scalar()
			g.emit(asm.StoreMem(asm.R10, at, s, sizes[si]))
			g.st.write(at, sz)
		}
		b += sz
	}
}

// stackImm stores an immediate on the stack (ST; 8-byte ST is allowed and
// sign-extends its 32-bit immediate).
func (g *gen) stackImm(at int16, si int, v int64) {
	g.emit(asm.Instruction{OpCode: asm.StoreImmOp(sizes[si]), Dst: asm.R10, Offset: at, Constant: int64(int32(v))})
	g.st.write(at, 1<<si)
}

// call emits a helper call.
func (g *gen) call(fn asm.BuiltinFunc) {
	g.emit(fn.Call())
	g.afterCall()
}

// stackArg sets r to fp+off.
func (g *gen) stackArg(r asm.Register, off int16) {
	g.emit(asm.Mov.Reg(r, asm.R10))
	g.emit(asm.Add.Imm(r, int32(off)))
}

// stmtMapLookup looks a key up, checks for null and uses the value: in an
// if-then arm, or after a check whose null case exits (then the pointer is
// kept, often in a callee-saved register, for later statements).
func (g *gen) stmtMapLookup() {
	idx := g.dataMap()
	mi := &g.mapInfo[idx]
	g.writeKey(mi)
	g.clobberCallerSaved(0)
	g.emit(asm.LoadMapPtr(asm.R1, idx))
	g.stackArg(asm.R2, g.keyOff())
	g.call(asm.FnMapLookupElem)
	g.st.r[asm.R0] = reg{} // map_value_or_null: only the null check reads it
	g.sem.add(FMapLookup)
	val := reg{k: kMapVal, m: uint8(idx)}
	if g.depth < g.cfg.MaxDepth && g.intn(2) == 0 {
		skip := g.newLabel()
		g.jump(jImm(asm.JEq, asm.R0, 0), skip)
		before := g.st
		g.set(asm.R0, val)
		g.depth++
		for i := 1 + g.intn(4); i > 0; i-- {
			if v := g.holdsMapValue(); v != noReg {
				g.valueOp(v)
			}
		}
		if g.intn(3) == 0 && g.holdsMapValue() != noReg {
			g.stmtAtomic()
		}
		g.depth--
		g.observeAll()
		after := g.st
		g.place(skip)
		g.st = meet(&after, &before)
		return
	}
	if g.intn(2) == 0 {
		g.jump(jImm(asm.JEq, asm.R0, 0), g.failLabel())
	} else {
		ok := g.newLabel()
		g.jump(jImm(asm.JNE, asm.R0, 0), ok)
		g.jump(jA, g.failLabel())
		g.place(ok)
	}
	g.set(asm.R0, val)
	if g.intn(2) == 0 {
		// Keep it across calls.
		d := asm.R7 + asm.Register(g.intn(2))
		if g.isFree(d) {
			g.clobber(d)
			g.emit(asm.Mov.Reg(d, asm.R0))
			g.set(d, val)
		}
	}
	g.valueOp(asm.R0)
}

// holdsMapValue returns a register holding a map value pointer, or noReg.
func (g *gen) holdsMapValue() asm.Register {
	r, ok := g.findReg(kMapVal, nil)
	if !ok {
		return noReg
	}
	return r
}

// stmtMapValue accesses a map value through a pointer already held.
func (g *gen) stmtMapValue() {
	if v := g.holdsMapValue(); v != noReg {
		g.valueOp(v)
	}
}

// valueOp loads or stores in the plain area of the value v points to, at
// any size and lane, or moves a copy of the pointer by a constant.
func (g *gen) valueOp(v asm.Register) {
	x := g.st.r[v]
	mi := &g.mapInfo[x.m]
	plain := mi.atomicOff
	if plain-int(x.off) < 1 {
		return
	}
	switch op := g.intn(8); {
	case op == 0 && !g.inLoop:
		// A second pointer into the value, at a constant offset.
		k := g.intn(plain - int(x.off))
		d := g.pickDstExcept(1 << v)
		g.emit(asm.Mov.Reg(d, v))
		g.emit(asm.Add.Imm(d, int32(k)))
		g.set(d, reg{k: kMapVal, m: x.m, off: x.off + int16(k)})
		g.sem.add(FMapValPtrAdd)
	case op < 5:
		si := g.intn(4)
		for 1<<si > plain-int(x.off) {
			si--
		}
		n := 1 << si
		abs := g.valueLane(x.off, plain, n)
		d := g.pickDstExcept(1 << v)
		if g.v4 && si < 3 && g.intn(4) == 0 {
			g.emit(asm.LoadMemSX(d, v, int16(abs)-x.off, sizes[si]))
		} else {
			g.emit(asm.LoadMem(d, v, int16(abs)-x.off, sizes[si]))
		}
		g.setScalar(d, prov{})
		g.sem.add(FMapValLoad1 + Feature(si))
		g.sem.add(FMapValLane0 + Feature(abs%8))
	default:
		si := g.intn(4)
		for 1<<si > plain-int(x.off) {
			si--
		}
		n := 1 << si
		abs := g.valueLane(x.off, plain, n)
		if g.intn(3) == 0 {
			g.emit(asm.Instruction{OpCode: asm.StoreImmOp(sizes[si]), Dst: v, Offset: int16(abs) - x.off, Constant: int64(g.imm32())})
		} else {
			g.reserved |= 1 << v
			s := g.scalar()
			g.reserved &^= 1 << v
			g.emit(asm.StoreMem(v, int16(abs)-x.off, s, sizes[si]))
		}
		g.sem.add(FMapValStore1 + Feature(si))
		g.sem.add(FMapValLane0 + Feature(abs%8))
	}
}

// valueLane picks the value offset of an n-byte access through a pointer
// at off, below plain: naturally aligned (the NFP refuses accesses
// crossing a 32-bit word and unaligned 8-byte loads) unless the program
// may use refused shapes.
func (g *gen) valueLane(off int16, plain, n int) int {
	lo := int(off)
	if g.refused {
		return lo + g.intn(plain-lo-n+1)
	}
	first := (lo + n - 1) / n * n
	if first+n > plain {
		return lo + g.intn(plain-lo-n+1) // no aligned slot: the caller's size is too big anyway
	}
	return first + n*g.intn((plain-first-n)/n+1)
}

// atomicInsn is op.Mem with the operation also in the immediate, as
// asm.Instruction.Unmarshal leaves it: cilium/ebpf v0.22's Marshal takes
// the immediate from Constant before it folds the operation in, so an
// atomic built by AtomicOp.Mem alone encodes as ADD (the text form, the
// kernel and every other consumer of the encoding would see an add).
func atomicInsn(op asm.AtomicOp, dst, src asm.Register, size asm.Size, off int16) asm.Instruction {
	ins := op.Mem(dst, src, size, off)
	ins.Constant = int64(uint32(op) >> 8)
	return ins
}

// atomicOps are the read-modify-write operations; only AddAtomic is what
// the NFP backend lowers.
var atomicOps = [...]asm.AtomicOp{asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic,
	asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor, asm.Xchg, asm.CmpXchg}

// stmtAtomic emits an atomic operation on the atomic area of a map value
// (or, for programs allowed refused shapes, on an initialised stack slot).
func (g *gen) stmtAtomic() {
	v := g.holdsMapValue()
	op := asm.AddAtomic
	if g.refused {
		op = atomicOps[g.intn(len(atomicOps))]
	}
	size := asm.DWord
	var dst asm.Register
	var off int16
	if g.refused && (v == noReg || g.intn(3) == 0) {
		// On the stack: an initialised plain 8-byte slot.
		lo := g.genLo()
		at := lo + 8*int16(g.intn(int(-lo)/8))
		for try := 0; try < 4 && !g.st.isInit(at, 8); try++ {
			at = lo + 8*int16(g.intn(int(-lo)/8))
		}
		if !g.st.isInit(at, 8) {
			g.stackImm(at, 3, int64(g.imm32()))
		}
		dst, off = asm.R10, at
		if g.intn(2) == 0 {
			size = asm.Word
		}
		g.sem.add(FAtomicStack)
	} else {
		if v == noReg {
			return
		}
		x := g.st.r[v]
		mi := &g.mapInfo[x.m]
		slots := (mi.valueSize - mi.atomicOff) / 8
		if slots <= 0 {
			return
		}
		abs := mi.atomicOff + 8*g.intn(slots)
		if !mi.atomic64 {
			size = asm.Word
		}
		dst, off = v, int16(abs)-x.off
	}
	if op == asm.CmpXchg && (!g.isFree(asm.R0) || dst == asm.R0) {
		op = asm.AddAtomic // r0 is a loop counter or the pointer
	}
	g.reserved |= 1 << dst
	s := g.scalar()
	if op == asm.CmpXchg {
		// r0 is the expected value.
		if s == asm.R0 {
			t := g.pickDstExcept(1<<asm.R0 | 1<<dst)
			g.emit(asm.Mov.Reg(t, s))
			g.setScalar(t, prov{})
			s = t
		}
		g.clobber(asm.R0)
		if g.intn(2) == 0 {
			g.emit(asm.Mov.Imm(asm.R0, 0))
		} else {
			g.emit(asm.Mov.Reg(asm.R0, s))
		}
		g.set(asm.R0, reg{k: kScalar})
	}
	g.reserved &^= 1 << dst
	if dst == s || (op == asm.CmpXchg && dst == asm.R0) {
		return
	}
	fetch := op == asm.FetchAdd || op == asm.FetchAnd || op == asm.FetchOr || op == asm.FetchXor || op == asm.Xchg
	if fetch {
		g.clobber(s) // the operand's value is replaced by the old one
	}
	g.emit(atomicInsn(op, dst, s, size, off))
	if op == asm.CmpXchg {
		g.setScalar(asm.R0, prov{})
	} else if fetch {
		g.setScalar(s, prov{})
	}
	g.sem.add(FAtomic)
}

// stmtMapUpdate writes a key and a value on the stack and updates.
func (g *gen) stmtMapUpdate() {
	idx := g.dataMap()
	mi := &g.mapInfo[idx]
	if mi.valueSize > g.valMax() {
		g.stmtMapDelete()
		return
	}
	g.writeKey(mi)
	g.fillStack(g.valOff(), mi.valueSize, mi.atomicOff)
	g.clobberCallerSaved(0)
	g.emit(asm.LoadMapPtr(asm.R1, idx))
	g.stackArg(asm.R2, g.keyOff())
	g.stackArg(asm.R3, g.valOff())
	flags := [...]int32{0, 0, 0, 1, 2}[g.intn(5)]
	g.emit(asm.Mov.Imm(asm.R4, flags))
	g.call(asm.FnMapUpdateElem)
	g.sem.add(FMapUpdate)
}

// stmtMapDelete deletes a key.
func (g *gen) stmtMapDelete() {
	idx := g.dataMap()
	g.writeKey(&g.mapInfo[idx])
	g.clobberCallerSaved(0)
	g.emit(asm.LoadMapPtr(asm.R1, idx))
	g.stackArg(asm.R2, g.keyOff())
	g.call(asm.FnMapDeleteElem)
	g.sem.add(FMapDelete)
}

// storeResultMap stores the accumulator into the result map at an exit.
func (g *gen) storeResultMap() {
	idx := g.mapIndex(roleResult)
	off := g.keyOff()
	g.stackImm(off, 2, 0)
	g.emit(asm.LoadMapPtr(asm.R1, idx))
	g.stackArg(asm.R2, off)
	g.call(asm.FnMapLookupElem)
	skip := g.newLabel()
	g.jump(jImm(asm.JEq, asm.R0, 0), skip)
	g.emit(asm.StoreMem(asm.R0, 0, g.acc, asm.DWord))
	g.emit(asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord))
	g.emit(asm.Add.Imm(asm.R1, 1))
	g.emit(asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord))
	g.place(skip)
	g.st.r[asm.R0], g.st.r[asm.R1] = reg{}, reg{}
	g.sem.add(FResultMap)
}
