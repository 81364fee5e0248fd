package nfp

import "math/bits"

// The fast path. Most executed words of JIT code are register ALU
// operations, immediates and branches without defer slots; translate gives
// each such word a compact fop (16 bytes) whose kind already says the
// operation, with the A/B operand order, gpr_wrboth and the cycle-model
// class folded in. Run executes fops in a loop that keeps the instruction
// count and the model's t and last_cc in locals and checks nothing else
// per word: every rare condition (a word the fast path does not cover, a
// pending LM pointer write or CSR read, defer slots in flight, a trace,
// the path's end) sends the word through step, the general path with every
// check, until the condition is gone. Both paths share one semantics;
// FuzzOps runs every program both ways and compares.

// fast kinds.
const (
	fkSlow uint8 = iota // run by step

	// alu: A is the A-field operand, B the B-field one (swap undone).
	fkMovB    // B
	fkMovA    // A (alu B with swapped operands)
	fkNotB    // ~B
	fkNotA    // ~A
	fkAnd     // A & B
	fkOr      // A | B
	fkXor     // A ^ B
	fkNotAnd  // ~A & B
	fkAndNot  // A & ~B
	fkAdd     // A + B
	fkSub     // A - B
	fkBMinA   // B - A
	fkAddC    // A + B + C
	fkSubC    // A - B - !C
	fkShf     // alu_shf with a constant shift: L op (R shifted)
	fkAsr     // asr with a constant shift
	fkDblShf  // dbl_shf with a constant shift
	fkLdField // ld_field(_w_clr), destination a register
	fkImmed   // immed (whole word)
	fkImmedW  // immed_b / immed_w: part of the destination
	fkBrCond  // conditional branch, no defer, no relocation
	fkBr      // br, no defer, no relocation
	fkBrBit   // br_bset / br_bclr, no defer, no relocation
	fkBMinAC  // B - A - !C
	fkCmd     // a memory command without defer slots
	fkGen     // an ALU-class word in another form (LM operands, no_cc, …): exec* on the op
)

// Register-file slots the fast path uses beyond the architectural ones
// (next-neighbour ends at rNN+31 = 223): a write sink for "--"
// destinations and a register that is always 0, read together with the
// fop's constant for constant operands (value = r[zero] | k).
const (
	rSink = 254
	rZero = 255
)

// fop is one word of the fast path.
type fop struct {
	k      uint8
	ia, ib uint8  // source registers (rZero for a constant or no operand)
	d, d2  uint8  // destination and its gpr_wrboth partner (= d otherwise)
	x1     uint8  // shift amount / branch condition / bit number / immed shift
	x2     uint8  // shift op / flags
	x3     uint8  // shift control / flags
	ka, kb uint32 // constants ORed into the sources; kb: branch target
}

// fop flag bits in x2/x3 where noted.
const (
	fxSwapped = 1 // alu_shf: the A field is the right (shifted) operand
	fxClear   = 1 // ld_field: _w_clr
	fxLoadCC  = 2 // ld_field: load_cc
	fxTaken   = 1 // br_bit: branch when the bit is set
)

// condTable[cond] has bit (z | n<<1 | c<<2 | v<<3) set when the branch
// condition holds for those flags.
var condTable = func() (t [12]uint16) {
	for i := range t {
		for f := 0; f < 16; f++ {
			z, n, cy, v := f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
			var r bool
			switch i {
			case 0:
				r = z
			case 1:
				r = !z
			case 2:
				r = n
			case 3:
				r = !n
			case 4:
				r = cy
			case 5:
				r = !cy
			case 6:
				r = v
			case 7:
				r = !v
			case 8:
				r = n == v
			case 9:
				r = n != v
			case 10:
				r = z || n != v
			case 11:
				r = !z && n == v
			}
			if r {
				t[i] |= 1 << f
			}
		}
	}
	return
}()

// fastSrc gives the fast-path form of a source operand: a register, a
// constant, or none; ok is false for LM operands.
func fastSrc(o operand) (idx uint8, k uint32, ok bool) {
	switch o.kind {
	case oReg:
		return o.idx, 0, true
	case oConst:
		return rZero, o.val, true
	case oNone:
		return rZero, 0, true
	}
	return 0, 0, false
}

// fastDst gives the fast-path destination; ok is false for LM.
func fastDst(o operand) (d, d2 uint8, ok bool) {
	switch o.kind {
	case oReg:
		return o.idx, o.both, true
	case oNone:
		return rSink, rSink, true
	}
	return 0, 0, false
}

// fastOp chooses the fop of an op, or fkSlow.
func fastOp(o *op) fop {
	var f fop
	slow := fop{k: fkSlow}
	switch o.kind {
	case kALU, kShf, kDblShf, kLdField, kImmed:
		d, d2, ok := fastDst(o.dst)
		if !ok {
			return gen(o)
		}
		f.d, f.d2 = d, d2
	case kMul:
		return gen(o)
	}
	switch o.kind {
	case kALU:
		if o.flags&fNoCC != 0 {
			return gen(o)
		}
		// Back to field order: A is the A field.
		a, b := o.a, o.b
		sw := o.flags&fSwapped != 0
		if sw {
			a, b = b, a
		}
		var ok1, ok2 bool
		f.ia, f.ka, ok1 = fastSrc(a)
		f.ib, f.kb, ok2 = fastSrc(b)
		if !ok1 || !ok2 {
			return gen(o)
		}
		switch o.sub {
		case aluB:
			f.k = pick(sw, fkMovA, fkMovB)
		case aluNotB:
			f.k = pick(sw, fkNotA, fkNotB)
		case aluAnd:
			f.k = fkAnd
		case aluOr:
			f.k = fkOr
		case aluXor:
			f.k = fkXor
		case aluNotAnd: // ~L & R
			f.k = pick(sw, fkAndNot, fkNotAnd)
		case aluAndNot: // L & ~R
			f.k = pick(sw, fkNotAnd, fkAndNot)
		case aluAdd:
			f.k = fkAdd
		case aluAddC:
			f.k = fkAddC
		case aluSub:
			f.k = pick(sw, fkBMinA, fkSub)
		case aluBMinA:
			f.k = pick(sw, fkSub, fkBMinA)
		case aluSubC:
			f.k = pick(sw, fkBMinAC, fkSubC)
		default:
			return gen(o)
		}
	case kShf, kDblShf:
		if o.flags&fNoCC != 0 || o.shift == shfInd {
			return gen(o)
		}
		var ok1, ok2 bool
		f.ia, f.ka, ok1 = fastSrc(o.a)
		f.ib, f.kb, ok2 = fastSrc(o.b)
		if !ok1 || !ok2 {
			return gen(o)
		}
		f.x1, f.x2, f.x3 = o.shift, o.sub, o.sc
		if o.flags&fSwapped != 0 {
			f.x2 |= fxSwapped << 4
		}
		switch {
		case o.kind == kDblShf:
			f.k = fkDblShf
		case o.sub == shfAsr:
			f.k = fkAsr
		default:
			if o.sub > shfOr || o.sc > scShl {
				return gen(o)
			}
			f.k = fkShf
		}
	case kLdField:
		if o.a.kind != oReg {
			return gen(o)
		}
		var ok bool
		f.ia = o.a.idx
		f.ib, f.kb, ok = fastSrc(o.b)
		if !ok || o.sc > scShl {
			return gen(o)
		}
		f.k, f.x1, f.x2, f.ka = fkLdField, o.shift, o.sc, o.imm
		if o.flags&fClear != 0 {
			f.x3 |= fxClear
		}
		if o.flags&fLoadCC != 0 {
			f.x3 |= fxLoadCC
		}
	case kImmed:
		f.ka = o.imm
		if o.sc == immAll {
			f.k = fkImmed
			break
		}
		if o.dst.kind != oReg {
			return gen(o)
		}
		f.k, f.ia = fkImmedW, o.dst.idx
		f.x1 = o.shift * 8
		f.kb = 0xff
		if o.sc == immWord {
			f.kb = 0xffff
		}
	case kBr:
		if o.exit != exitNone || o.defer_ != 0 {
			return slow
		}
		switch {
		case o.mclass == mcUncondBr && o.sub == 24:
			f.k = fkBr
		case o.sub < 12:
			f.k, f.x1 = fkBrCond, o.sub
		default:
			return slow
		}
		f.kb = o.target
	case kCmd:
		if o.defer_ != 0 {
			return slow
		}
		f.k = fkCmd
	case kBrBit:
		if o.exit != exitNone || o.defer_ != 0 || o.a.kind != oReg {
			return slow
		}
		f.k, f.ia, f.x1, f.kb = fkBrBit, o.a.idx, o.shift, o.target
		if o.flags&fTaken != 0 {
			f.x3 = fxTaken
		}
	default:
		return slow
	}
	return f
}

// gen runs an ALU-class word through its exec* function inside the fast
// loop: no condition of the general path applies to it.
func gen(o *op) fop { return fop{k: fkGen} }

func pick(c bool, a, b uint8) uint8 {
	if c {
		return a
	}
	return b
}

// Run executes context ctx from pc until the program branches back to the
// firmware (exitDone), and returns how it stopped.
func (m *Machine) Run(ctx int, pc uint32) (stop, error) {
	c := &m.ctxs[ctx]
	c.lm = &m.lm
	fc := m.prog.fast
	if len(fc) != len(m.prog.Code)+1 {
		fc = m.prog.buildFast()
	}
	m.rs = runState{limit: m.Limit}
	if m.rs.limit == 0 {
		m.rs.limit = DefaultLimit
	}
	m.rs.end = m.icount + m.rs.limit
	// Straight-line code runs at most len(code) words between two taken
	// branches: the fast loop checks the limit at taken branches against
	// endFast, and from there on step checks every word, so the limit is
	// enforced exactly as step alone would.
	var endFast uint64
	if L := uint64(len(m.prog.Code)); m.rs.end > L {
		endFast = m.rs.end - L
	}
	m.rs.endFast = endFast
	r := &c.r
	r[rZero] = 0
	if m.slow(c) || pc >= uint32(len(m.prog.Code)) {
		var st stop
		var done bool
		var err error
		if pc, st, done, err = m.slowRun(c, pc); done {
			return st, err
		}
	}
	n, t, lastCC := m.icount, m.model.t, m.model.lastCC
	for {
		f := &fc[pc]
		n++
		switch f.k {
		case fkMovB:
			res := r[f.ib] | f.kb
			c.cc = logicCC(res)
			c.prevRes, c.prevA = res, r[f.ia]|f.ka
			r[f.d], r[f.d2] = res, res
			t++
			lastCC = t
			pc++
		case fkMovA:
			res := r[f.ia] | f.ka
			c.cc = logicCC(res)
			c.prevRes, c.prevA = res, res
			r[f.d], r[f.d2] = res, res
			t++
			lastCC = t
			pc++
		case fkNotB, fkNotA, fkAnd, fkOr, fkXor, fkNotAnd, fkAndNot:
			a, b := r[f.ia]|f.ka, r[f.ib]|f.kb
			var res uint32
			switch f.k {
			case fkNotB:
				res = ^b
			case fkNotA:
				res = ^a
			case fkAnd:
				res = a & b
			case fkOr:
				res = a | b
			case fkXor:
				res = a ^ b
			case fkNotAnd:
				res = ^a & b
			default:
				res = a &^ b
			}
			c.cc = logicCC(res)
			c.prevRes, c.prevA = res, a
			r[f.d], r[f.d2] = res, res
			t++
			lastCC = t
			pc++
		case fkAdd, fkSub, fkBMinA, fkAddC, fkSubC, fkBMinAC:
			a, b := r[f.ia]|f.ka, r[f.ib]|f.kb
			var x, y, cin uint32
			switch f.k {
			case fkAdd:
				x, y = a, b
			case fkSub:
				x, y, cin = a, ^b, 1
			case fkBMinA:
				x, y, cin = b, ^a, 1
			default:
				if c.cc>>4&ccC != 0 {
					goto slow // step reports the undefined carry
				}
				x, y = a, b
				if f.k == fkSubC {
					y = ^b
				} else if f.k == fkBMinAC {
					x, y = b, ^a
				}
				cin = uint32(c.cc >> 2 & 1)
			}
			s := uint64(x) + uint64(y) + uint64(cin)
			res := uint32(s)
			c.cc = arithCC(x, y, s)
			c.prevRes, c.prevA = res, a
			r[f.d], r[f.d2] = res, res
			t++
			lastCC = t
			pc++
		case fkShf:
			l, rv := r[f.ia]|f.ka, r[f.ib]|f.kb
			sh := uint32(f.x1)
			var s uint32
			switch f.x3 {
			case scRot:
				s = bits.RotateLeft32(rv, -int(sh))
			case scShr:
				s = rv >> sh
			default:
				s = rv << sh
			}
			var res uint32
			switch f.x2 & 15 {
			case shfB:
				res = s
			case shfNotB:
				res = ^s
			case shfAnd:
				res = l & s
			case shfNotAnd:
				res = ^l & s
			case shfAndNot:
				res = l &^ s
			default:
				res = l | s
			}
			c.cc = logicCC(res)
			c.prevRes, c.prevA = res, l
			if f.x2>>4 != 0 {
				c.prevA = rv
			}
			r[f.d], r[f.d2] = res, res
			t++
			lastCC = t
			pc++
		case fkAsr:
			l, rv := r[f.ia]|f.ka, r[f.ib]|f.kb
			sh := uint32(f.x1)
			res := rv >> sh
			if c.prevRes>>31 != 0 && sh != 0 {
				res |= ^uint32(0) << (32 - sh)
			}
			c.cc = logicCC(res)
			c.prevRes, c.prevA = res, l
			if f.x2>>4 != 0 {
				c.prevA = rv
			}
			r[f.d], r[f.d2] = res, res
			t++
			lastCC = t
			pc++
		case fkDblShf:
			l, rv := r[f.ia]|f.ka, r[f.ib]|f.kb
			res := uint32((uint64(l)<<32 | uint64(rv)) >> f.x1)
			c.cc = logicCC(res)
			c.prevRes, c.prevA = res, l
			if f.x2>>4 != 0 {
				c.prevA = rv
			}
			r[f.d], r[f.d2] = res, res
			t++
			lastCC = t
			pc++
		case fkLdField:
			old, src := r[f.ia], r[f.ib]|f.kb
			switch f.x2 {
			case scShl:
				src <<= f.x1
			case scShr:
				src >>= f.x1
			default:
				src = bits.RotateLeft32(src, -int(f.x1))
			}
			if f.x3&fxClear != 0 {
				old = 0
			}
			res := src&f.ka | old&^f.ka
			if f.x3&fxLoadCC != 0 {
				c.cc = logicCC(res)
			}
			c.prevRes = res
			r[f.d], r[f.d2] = res, res
			t++
			lastCC = t
			pc++
		case fkImmed:
			c.prevRes = f.ka
			r[f.d], r[f.d2] = f.ka, f.ka
			t++
			pc++
		case fkImmedW:
			v := r[f.ia]&^(f.kb<<f.x1) | (f.ka&f.kb)<<f.x1
			c.prevRes = v
			r[f.d], r[f.d2] = v, v
			t++
			pc++
		case fkBrCond:
			cond := f.x1
			if c.cc>>4&condNeeds[cond] != 0 {
				goto slow // step reports the undefined condition code
			}
			if condTable[cond]>>(c.cc&15)&1 == 0 {
				t++
				pc++
				break
			}
			if n >= endFast {
				goto slow
			}
			if t > lastCC {
				t += cycBrTakenEarly
			} else {
				t += cycBrTakenLate
			}
			pc = f.kb
		case fkBr:
			if n >= endFast {
				goto slow
			}
			t += cycBrUncond
			pc = f.kb
		case fkBrBit:
			if (r[f.ia]>>f.x1&1 != 0) != (f.x3&fxTaken != 0) {
				t++
				pc++
				break
			}
			if n >= endFast {
				goto slow
			}
			if t > lastCC {
				t += cycBrTakenEarly
			} else {
				t += cycBrTakenLate
			}
			pc = f.kb
		case fkCmd:
			o := &m.prog.Code[pc]
			req := &m.req
			err := m.issue(c, o, req)
			if err == nil {
				err = m.perform(c, req)
			}
			if err != nil {
				m.sync(n-1, t, lastCC)
				return stop{}, m.errAt(pc, "%v", err)
			}
			if m.model.on {
				m.model.t, m.model.lastCC = t, lastCC
				m.model.charge(o, false)
				t = m.model.t
			}
			pc++
		case fkGen:
			o := &m.prog.Code[pc]
			var err error
			switch o.kind {
			case kALU:
				err = m.execALU(c, o)
			case kShf:
				err = m.execShf(c, o)
			case kDblShf:
				err = m.execDblShf(c, o)
			case kLdField:
				err = m.execLdField(c, o)
			case kImmed:
				err = m.execImmed(c, o)
			case kMul:
				err = m.mul(c, o)
			}
			if err != nil {
				m.sync(n-1, t, lastCC)
				return stop{}, m.errAt(pc, "%v", err)
			}
			t++
			if o.mclass == mcOneCC {
				lastCC = t
			}
			pc++
		default:
			goto slow
		}
		continue
	slow:
		// The general path, from this word on, as long as a rare
		// condition holds. The word has not been executed yet.
		m.sync(n-1, t, lastCC)
		{
			var st stop
			var done bool
			var err error
			if pc, st, done, err = m.slowRun(c, pc); done {
				return st, err
			}
		}
		n, t, lastCC = m.icount, m.model.t, m.model.lastCC
	}
}

// sync writes the fast loop's locals back. After the path's end the
// model's figure is final: the fast loop's charges then go nowhere.
func (m *Machine) sync(n uint64, t, lastCC int64) {
	m.icount = n
	if m.model.on {
		m.model.t, m.model.lastCC = t, lastCC
	}
}

// slowRun steps from pc through the general path until the run ends
// (done) or the fast loop may take over at pc.
func (m *Machine) slowRun(c *context, pc uint32) (uint32, stop, bool, error) {
	for {
		next, st, done, err := m.step(c, pc)
		if done || err != nil {
			return 0, st, true, err
		}
		pc = next
		if pc < uint32(len(m.prog.Code)) && !m.slow(c) {
			return pc, stop{}, false, nil
		}
	}
}

// buildFast translates the program's ops to fops, with a final fkSlow
// word (running past the end is step's error).
func (p *Program) buildFast() []fop {
	fc := make([]fop, len(p.Code)+1)
	for i := range p.Code {
		fc[i] = fastOp(&p.Code[i])
	}
	p.fast = fc
	return fc
}
