package ebpf

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// fast returns the buffer at a if [a, a+n) lies inside a region's valid
// range; nil sends the access to the slow path (context, errors).
func (m *Machine) fast(a, n uint64) []byte {
	if idx := a >> 32; idx < uint64(len(m.regions)) {
		rg := &m.regions[idx]
		if o := offsetOf(a); o >= rg.lo && o+n <= rg.hi {
			return rg.buf[o:]
		}
	}
	return nil
}

// fastW is fast for stores: read-only regions take the slow path.
func (m *Machine) fastW(a, n uint64) []byte {
	if idx := a >> 32; idx < uint64(len(m.regions)) {
		rg := &m.regions[idx]
		if o := offsetOf(a); o >= rg.lo && o+n <= rg.hi && !rg.ro {
			return rg.buf[o:]
		}
	}
	return nil
}

// slowLoad handles context loads and reports bad accesses.
func (m *Machine) slowLoad(pc int, text *insnText, a, n uint64) (uint64, error) {
	if a>>32 == regionCtx {
		v, err := m.ctxLoad(offsetOf(a), n)
		if err != nil {
			return 0, &RuntimeError{PC: pc, Insn: text.at(pc), Msg: err.Error()}
		}
		return v, nil
	}
	return 0, &MemoryError{PC: pc, Insn: text.at(pc), Addr: a, Size: n, Region: m.describe(a)}
}

func (m *Machine) slowStore(pc int, text *insnText, a, n, v uint64) error {
	if a>>32 == regionCtx {
		if err := m.ctxStore(offsetOf(a), n, v); err != nil {
			return &RuntimeError{PC: pc, Insn: text.at(pc), Msg: err.Error()}
		}
		return nil
	}
	return &MemoryError{PC: pc, Insn: text.at(pc), Addr: a, Size: n, Write: true, Region: m.describe(a)}
}

func store(b []byte, n int, v uint64) {
	switch n {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, v)
	}
}

// exec runs p, following tail calls. It returns r0, the number of
// instructions executed, and the error that stopped the program, if any.
func (m *Machine) exec(p *program) (r0 uint64, count uint64, err error) {
	budget := m.limit
	for tailCalls := 0; ; tailCalls++ {
		var next *program
		r0, budget, next, err = m.execOne(p, budget, tailCalls < maxTailCalls)
		if next == nil || err != nil {
			return r0, m.limit - budget, err
		}
		p = next
	}
}

// execOne is the run loop over one program: the code, its helpers and the
// budget stay in locals (no closure, no reassignment) so that the compiler
// keeps them in registers. It returns r0, the budget left, and the program
// a tail call switched to (nil when the program exited or failed).
func (m *Machine) execOne(p *program, budget uint64, mayTailCall bool) (r0, left uint64, next *program, err error) {
	r := &m.regs
	// Only what every instruction needs lives in locals: fewer live
	// values let the compiler keep them in registers across the switch.
	// The rest (text, helpers, the call depth) is read where it is used.
	code := p.code
	// One test per instruction covers both the budget and tracing: watch
	// is 0 (stop when the budget is spent) or, when tracing, every value.
	watch := uint64(0)
	if m.trace {
		watch = ^uint64(0)
	}
	m.depth = 0
	pc := 0
	for {
		if budget <= watch {
			if budget == 0 {
				return r[0], 0, nil, &RuntimeError{PC: pc, Insn: p.text.at(pc), Msg: fmt.Sprintf("%v: %d instructions executed", ErrInstructionLimit, m.limit)}
			}
			m.traceStep(pc, p.text.at(pc), &code[pc])
		}
		budget--
		in := &code[pc]
		pc++
		switch in.op {
		case opAdd64Imm:
			r[in.dst&15] = r[in.dst&15] + in.imm
		case opAdd64Reg:
			r[in.dst&15] = r[in.dst&15] + r[in.src&15]
		case opAdd32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + x)
		case opAdd32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + x)
		case opSub64Imm:
			r[in.dst&15] = r[in.dst&15] - in.imm
		case opSub64Reg:
			r[in.dst&15] = r[in.dst&15] - r[in.src&15]
		case opSub32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - x)
		case opSub32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - x)
		case opMul64Imm:
			r[in.dst&15] = r[in.dst&15] * in.imm
		case opMul64Reg:
			r[in.dst&15] = r[in.dst&15] * r[in.src&15]
		case opMul32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * x)
		case opMul32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * x)
		case opDiv64Imm:
			X := in.imm
			if X == 0 {
				r[in.dst&15] = 0
			} else {
				r[in.dst&15] /= X
			}
		case opDiv64Reg:
			X := r[in.src&15]
			if X == 0 {
				r[in.dst&15] = 0
			} else {
				r[in.dst&15] /= X
			}
		case opDiv32Imm:
			x := uint32(in.imm)
			if x == 0 {
				r[in.dst&15] = 0
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]) / x)
			}
		case opDiv32Reg:
			x := uint32(r[in.src&15])
			if x == 0 {
				r[in.dst&15] = 0
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]) / x)
			}
		case opSdiv64Imm:
			X := in.imm
			if X == 0 {
				r[in.dst&15] = 0
			} else {
				r[in.dst&15] = uint64(int64(r[in.dst&15]) / int64(X))
			}
		case opSdiv64Reg:
			X := r[in.src&15]
			if X == 0 {
				r[in.dst&15] = 0
			} else {
				r[in.dst&15] = uint64(int64(r[in.dst&15]) / int64(X))
			}
		case opSdiv32Imm:
			x := uint32(in.imm)
			if x == 0 {
				r[in.dst&15] = 0
			} else {
				r[in.dst&15] = uint64(uint32(int32(uint32(r[in.dst&15])) / int32(x)))
			}
		case opSdiv32Reg:
			x := uint32(r[in.src&15])
			if x == 0 {
				r[in.dst&15] = 0
			} else {
				r[in.dst&15] = uint64(uint32(int32(uint32(r[in.dst&15])) / int32(x)))
			}
		case opOr64Imm:
			r[in.dst&15] = r[in.dst&15] | in.imm
		case opOr64Reg:
			r[in.dst&15] = r[in.dst&15] | r[in.src&15]
		case opOr32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | x)
		case opOr32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | x)
		case opAnd64Imm:
			r[in.dst&15] = r[in.dst&15] & in.imm
		case opAnd64Reg:
			r[in.dst&15] = r[in.dst&15] & r[in.src&15]
		case opAnd32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & x)
		case opAnd32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & x)
		case opLsh64Imm:
			r[in.dst&15] = r[in.dst&15] << (in.imm & 63)
		case opLsh64Reg:
			r[in.dst&15] = r[in.dst&15] << (r[in.src&15] & 63)
		case opLsh32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (x & 31))
		case opLsh32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (x & 31))
		case opRsh64Imm:
			r[in.dst&15] = r[in.dst&15] >> (in.imm & 63)
		case opRsh64Reg:
			r[in.dst&15] = r[in.dst&15] >> (r[in.src&15] & 63)
		case opRsh32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (x & 31))
		case opRsh32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (x & 31))
		case opMod64Imm:
			X := in.imm
			if X != 0 {
				r[in.dst&15] %= X
			}
		case opMod64Reg:
			X := r[in.src&15]
			if X != 0 {
				r[in.dst&15] %= X
			}
		case opMod32Imm:
			x := uint32(in.imm)
			if x != 0 {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]) % x)
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]))
			}
		case opMod32Reg:
			x := uint32(r[in.src&15])
			if x != 0 {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]) % x)
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]))
			}
		case opSmod64Imm:
			X := in.imm
			if X != 0 {
				r[in.dst&15] = uint64(int64(r[in.dst&15]) % int64(X))
			}
		case opSmod64Reg:
			X := r[in.src&15]
			if X != 0 {
				r[in.dst&15] = uint64(int64(r[in.dst&15]) % int64(X))
			}
		case opSmod32Imm:
			x := uint32(in.imm)
			if x != 0 {
				r[in.dst&15] = uint64(uint32(int32(uint32(r[in.dst&15])) % int32(x)))
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]))
			}
		case opSmod32Reg:
			x := uint32(r[in.src&15])
			if x != 0 {
				r[in.dst&15] = uint64(uint32(int32(uint32(r[in.dst&15])) % int32(x)))
			} else {
				r[in.dst&15] = uint64(uint32(r[in.dst&15]))
			}
		case opXor64Imm:
			r[in.dst&15] = r[in.dst&15] ^ in.imm
		case opXor64Reg:
			r[in.dst&15] = r[in.dst&15] ^ r[in.src&15]
		case opXor32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ x)
		case opXor32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ x)
		case opMov64Imm:
			r[in.dst&15] = in.imm
		case opMov64Reg:
			r[in.dst&15] = r[in.src&15]
		case opMov32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(x)
		case opMov32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(x)
		case opArsh64Imm:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (in.imm & 63))
		case opArsh64Reg:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (r[in.src&15] & 63))
		case opArsh32Imm:
			x := uint32(in.imm)
			r[in.dst&15] = uint64(uint32(int32(uint32(r[in.dst&15])) >> (x & 31)))
		case opArsh32Reg:
			x := uint32(r[in.src&15])
			r[in.dst&15] = uint64(uint32(int32(uint32(r[in.dst&15])) >> (x & 31)))
		case opJeq64Imm:
			if r[in.dst&15] == in.imm {
				pc = int(in.off)
			}
		case opJeq64Reg:
			if r[in.dst&15] == r[in.src&15] {
				pc = int(in.off)
			}
		case opJeq32Imm:
			if uint32(r[in.dst&15]) == uint32(in.imm) {
				pc = int(in.off)
			}
		case opJeq32Reg:
			if uint32(r[in.dst&15]) == uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJgt64Imm:
			if r[in.dst&15] > in.imm {
				pc = int(in.off)
			}
		case opJgt64Reg:
			if r[in.dst&15] > r[in.src&15] {
				pc = int(in.off)
			}
		case opJgt32Imm:
			if uint32(r[in.dst&15]) > uint32(in.imm) {
				pc = int(in.off)
			}
		case opJgt32Reg:
			if uint32(r[in.dst&15]) > uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJge64Imm:
			if r[in.dst&15] >= in.imm {
				pc = int(in.off)
			}
		case opJge64Reg:
			if r[in.dst&15] >= r[in.src&15] {
				pc = int(in.off)
			}
		case opJge32Imm:
			if uint32(r[in.dst&15]) >= uint32(in.imm) {
				pc = int(in.off)
			}
		case opJge32Reg:
			if uint32(r[in.dst&15]) >= uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJset64Imm:
			if r[in.dst&15]&in.imm != 0 {
				pc = int(in.off)
			}
		case opJset64Reg:
			if r[in.dst&15]&r[in.src&15] != 0 {
				pc = int(in.off)
			}
		case opJset32Imm:
			if uint32(r[in.dst&15])&uint32(in.imm) != 0 {
				pc = int(in.off)
			}
		case opJset32Reg:
			if uint32(r[in.dst&15])&uint32(r[in.src&15]) != 0 {
				pc = int(in.off)
			}
		case opJne64Imm:
			if r[in.dst&15] != in.imm {
				pc = int(in.off)
			}
		case opJne64Reg:
			if r[in.dst&15] != r[in.src&15] {
				pc = int(in.off)
			}
		case opJne32Imm:
			if uint32(r[in.dst&15]) != uint32(in.imm) {
				pc = int(in.off)
			}
		case opJne32Reg:
			if uint32(r[in.dst&15]) != uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsgt64Imm:
			if int64(r[in.dst&15]) > int64(in.imm) {
				pc = int(in.off)
			}
		case opJsgt64Reg:
			if int64(r[in.dst&15]) > int64(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsgt32Imm:
			if int32(uint32(r[in.dst&15])) > int32(uint32(in.imm)) {
				pc = int(in.off)
			}
		case opJsgt32Reg:
			if int32(uint32(r[in.dst&15])) > int32(uint32(r[in.src&15])) {
				pc = int(in.off)
			}
		case opJsge64Imm:
			if int64(r[in.dst&15]) >= int64(in.imm) {
				pc = int(in.off)
			}
		case opJsge64Reg:
			if int64(r[in.dst&15]) >= int64(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsge32Imm:
			if int32(uint32(r[in.dst&15])) >= int32(uint32(in.imm)) {
				pc = int(in.off)
			}
		case opJsge32Reg:
			if int32(uint32(r[in.dst&15])) >= int32(uint32(r[in.src&15])) {
				pc = int(in.off)
			}
		case opJlt64Imm:
			if r[in.dst&15] < in.imm {
				pc = int(in.off)
			}
		case opJlt64Reg:
			if r[in.dst&15] < r[in.src&15] {
				pc = int(in.off)
			}
		case opJlt32Imm:
			if uint32(r[in.dst&15]) < uint32(in.imm) {
				pc = int(in.off)
			}
		case opJlt32Reg:
			if uint32(r[in.dst&15]) < uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJle64Imm:
			if r[in.dst&15] <= in.imm {
				pc = int(in.off)
			}
		case opJle64Reg:
			if r[in.dst&15] <= r[in.src&15] {
				pc = int(in.off)
			}
		case opJle32Imm:
			if uint32(r[in.dst&15]) <= uint32(in.imm) {
				pc = int(in.off)
			}
		case opJle32Reg:
			if uint32(r[in.dst&15]) <= uint32(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJslt64Imm:
			if int64(r[in.dst&15]) < int64(in.imm) {
				pc = int(in.off)
			}
		case opJslt64Reg:
			if int64(r[in.dst&15]) < int64(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJslt32Imm:
			if int32(uint32(r[in.dst&15])) < int32(uint32(in.imm)) {
				pc = int(in.off)
			}
		case opJslt32Reg:
			if int32(uint32(r[in.dst&15])) < int32(uint32(r[in.src&15])) {
				pc = int(in.off)
			}
		case opJsle64Imm:
			if int64(r[in.dst&15]) <= int64(in.imm) {
				pc = int(in.off)
			}
		case opJsle64Reg:
			if int64(r[in.dst&15]) <= int64(r[in.src&15]) {
				pc = int(in.off)
			}
		case opJsle32Imm:
			if int32(uint32(r[in.dst&15])) <= int32(uint32(in.imm)) {
				pc = int(in.off)
			}
		case opJsle32Reg:
			if int32(uint32(r[in.dst&15])) <= int32(uint32(r[in.src&15])) {
				pc = int(in.off)
			}
		case opLdImm64:
			r[in.dst&15] = in.imm
			pc++ // the second slot
		case opNeg64:
			r[in.dst&15] = -r[in.dst&15]
		case opNeg32:
			r[in.dst&15] = uint64(-uint32(r[in.dst&15]))
		case opMovSX8to64:
			r[in.dst&15] = uint64(int64(int8(r[in.src&15])))
		case opMovSX16to64:
			r[in.dst&15] = uint64(int64(int16(r[in.src&15])))
		case opMovSX32to64:
			r[in.dst&15] = uint64(int64(int32(r[in.src&15])))
		case opMovSX8to32:
			r[in.dst&15] = uint64(uint32(int32(int8(r[in.src&15]))))
		case opMovSX16to32:
			r[in.dst&15] = uint64(uint32(int32(int16(r[in.src&15]))))
		case opLE16:
			r[in.dst&15] = uint64(uint16(r[in.dst&15]))
		case opLE32:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]))
		case opLE64:
		case opBE16:
			r[in.dst&15] = uint64(bits.ReverseBytes16(uint16(r[in.dst&15])))
		case opBE32:
			r[in.dst&15] = uint64(bits.ReverseBytes32(uint32(r[in.dst&15])))
		case opBE64:
			r[in.dst&15] = bits.ReverseBytes64(r[in.dst&15])
		case opJA:
			pc = int(in.off)

		case opLdxB, opLdxSB:
			a := r[in.src&15] + uint64(int64(in.off))
			var v uint64
			if b := m.fast(a, 1); b != nil {
				v = uint64(b[0])
			} else if v, err = m.slowLoad(pc-1, p.text, a, 1); err != nil {
				return r[0], budget, nil, err
			}
			if in.op == opLdxSB {
				v = uint64(int64(int8(v)))
			}
			r[in.dst&15] = v
		case opLdxH, opLdxSH:
			a := r[in.src&15] + uint64(int64(in.off))
			var v uint64
			if b := m.fast(a, 2); b != nil {
				v = uint64(binary.LittleEndian.Uint16(b))
			} else if v, err = m.slowLoad(pc-1, p.text, a, 2); err != nil {
				return r[0], budget, nil, err
			}
			if in.op == opLdxSH {
				v = uint64(int64(int16(v)))
			}
			r[in.dst&15] = v
		case opLdxW, opLdxSW:
			a := r[in.src&15] + uint64(int64(in.off))
			var v uint64
			if b := m.fast(a, 4); b != nil {
				v = uint64(binary.LittleEndian.Uint32(b))
			} else if v, err = m.slowLoad(pc-1, p.text, a, 4); err != nil {
				return r[0], budget, nil, err
			}
			if in.op == opLdxSW {
				v = uint64(int64(int32(v)))
			}
			r[in.dst&15] = v
		case opLdxDW:
			a := r[in.src&15] + uint64(int64(in.off))
			if b := m.fast(a, 8); b != nil {
				r[in.dst&15] = binary.LittleEndian.Uint64(b)
			} else if v, err := m.slowLoad(pc-1, p.text, a, 8); err != nil {
				return r[0], budget, nil, err
			} else {
				r[in.dst&15] = v
			}
		// One case per store size and source: a size known at compile
		// time makes the store a single move.
		case opStB:
			v, a := in.imm, r[in.dst&15]+uint64(int64(in.off))
			if b := m.fastW(a, 1); b != nil {
				b[0] = byte(v)
			} else if err := m.slowStore(pc-1, p.text, a, 1, v); err != nil {
				return r[0], budget, nil, err
			}
		case opStH:
			v, a := in.imm, r[in.dst&15]+uint64(int64(in.off))
			if b := m.fastW(a, 2); b != nil {
				binary.LittleEndian.PutUint16(b, uint16(v))
			} else if err := m.slowStore(pc-1, p.text, a, 2, v); err != nil {
				return r[0], budget, nil, err
			}
		case opStW:
			v, a := in.imm, r[in.dst&15]+uint64(int64(in.off))
			if b := m.fastW(a, 4); b != nil {
				binary.LittleEndian.PutUint32(b, uint32(v))
			} else if err := m.slowStore(pc-1, p.text, a, 4, v); err != nil {
				return r[0], budget, nil, err
			}
		case opStDW:
			v, a := in.imm, r[in.dst&15]+uint64(int64(in.off))
			if b := m.fastW(a, 8); b != nil {
				binary.LittleEndian.PutUint64(b, v)
			} else if err := m.slowStore(pc-1, p.text, a, 8, v); err != nil {
				return r[0], budget, nil, err
			}
		case opStxB:
			v, a := r[in.src&15], r[in.dst&15]+uint64(int64(in.off))
			if b := m.fastW(a, 1); b != nil {
				b[0] = byte(v)
			} else if err := m.slowStore(pc-1, p.text, a, 1, v); err != nil {
				return r[0], budget, nil, err
			}
		case opStxH:
			v, a := r[in.src&15], r[in.dst&15]+uint64(int64(in.off))
			if b := m.fastW(a, 2); b != nil {
				binary.LittleEndian.PutUint16(b, uint16(v))
			} else if err := m.slowStore(pc-1, p.text, a, 2, v); err != nil {
				return r[0], budget, nil, err
			}
		case opStxW:
			v, a := r[in.src&15], r[in.dst&15]+uint64(int64(in.off))
			if b := m.fastW(a, 4); b != nil {
				binary.LittleEndian.PutUint32(b, uint32(v))
			} else if err := m.slowStore(pc-1, p.text, a, 4, v); err != nil {
				return r[0], budget, nil, err
			}
		case opStxDW:
			v, a := r[in.src&15], r[in.dst&15]+uint64(int64(in.off))
			if b := m.fastW(a, 8); b != nil {
				binary.LittleEndian.PutUint64(b, v)
			} else if err := m.slowStore(pc-1, p.text, a, 8, v); err != nil {
				return r[0], budget, nil, err
			}
		case opAtomic32, opAtomic64:
			if err := m.atomic(pc-1, p.text, in); err != nil {
				return r[0], budget, nil, err
			}

		case opCall, opCallX:
			done, next, err := m.callHelper(in, pc-1, p.text, p.helpers, mayTailCall)
			if err != nil || done {
				return r[0], budget, next, err
			}
		case opCallPC:
			if m.depth+1 >= maxFrames {
				return r[0], budget, nil, &RuntimeError{PC: pc - 1, Insn: p.text.at(pc - 1), Msg: fmt.Sprintf("call stack deeper than %d frames", maxFrames)}
			}
			f := &m.frames[m.depth]
			f.ret = pc
			f.saved = [4]uint64{r[6], r[7], r[8], r[9]}
			f.fp = r[10]
			m.depth++
			r[10] = addr(regionStack, uint64(len(m.stack)-m.depth*stackSize))
			m.setStackDepth(m.depth)
			pc = int(in.off)
		case opExit:
			if m.depth == 0 {
				return r[0], budget, nil, nil
			}
			m.depth--
			f := &m.frames[m.depth]
			r[6], r[7], r[8], r[9] = f.saved[0], f.saved[1], f.saved[2], f.saved[3]
			r[10] = f.fp
			m.setStackDepth(m.depth)
			pc = f.ret
		case opLdAbsB, opLdAbsH, opLdAbsW, opLdIndB, opLdIndH, opLdIndW:
			v, ok := m.ldPacket(in, r)
			if !ok { // out of the packet: the kernel ends the program with r0 = 0
				return 0, budget, nil, nil
			}
			r[0] = v
		default:
			return r[0], budget, nil, &RuntimeError{PC: pc - 1, Insn: p.text.at(pc - 1), Msg: "jump into the second half of lddw"}
		}
	}
}
