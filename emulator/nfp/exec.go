package nfp

import (
	"fmt"
	"math/bits"
)

// Machine is one microengine in 4-context mode with the memories its
// commands reach. A Machine runs one Program; the firmware model (fw.go)
// drives it packet by packet.
type Machine struct {
	prog *Program
	ctxs [4]context
	lm   [LMWords]uint32
	mem  *Memory

	icount uint64 // instructions executed (all contexts)
	prng   uint32 // PseudoRndNum CSR state
	model  cycleModel

	// Limit bounds the instructions of one Run (0: DefaultLimit).
	Limit uint64

	// helper is called when a branch lands on a firmware helper.
	helper func(c *context, id uint32) error
	// onAtomic, when set, sees the bytes of every atomic before it acts.
	onAtomic func(addr uint64, size int, buf []byte)
	// random, when set, supplies PseudoRndNum reads.
	random func() uint32

	// What the last run left: R0 when the program exited, and how.
	r0     uint64
	exited uint8
	// trace, when set, sees every executed instruction.
	trace func(pc uint32, c *context)

	rs     runState
	req    cmdReq // the fast loop's command
	noFast bool   // every word through step (tests compare both paths)
}

// DefaultLimit is the per-packet instruction budget.
const DefaultLimit = 10_000_000

func (m *Machine) errAt(pc uint32, format string, args ...any) error {
	e := &RunError{PC: pc, Msg: fmt.Sprintf(format, args...)}
	if m.prog != nil {
		e.Instr = m.prog.InstrText(pc)
	}
	return e
}

// read returns a source operand's value; a register is the inlined fast
// path.
func (m *Machine) read(c *context, o *operand) uint32 {
	switch o.kind {
	case oReg:
		return c.r[o.idx]
	case oConst:
		return o.val
	}
	return m.readOther(c, o)
}

//go:noinline
func (m *Machine) readOther(c *context, o *operand) uint32 {
	switch o.kind {
	case oConst:
		return o.val
	case oLM, oLMInc, oLMDec:
		return m.lm[c.lmIndex(o)&(LMWords-1)]
	}
	return 0
}

// write stores v into a destination. A gpr_wrboth destination also writes
// the other bank's GPR of the same number: operand.both (= idx otherwise).
func (c *context) write(o *operand, v uint32) {
	if o.kind != oReg {
		c.writeOther(o, v)
		return
	}
	c.r[o.idx] = v
	c.r[o.both] = v
}

//go:noinline
func (c *context) writeOther(o *operand, v uint32) {
	if o.kind >= oLM {
		c.lm[c.lmIndex(o)&(LMWords-1)] = v
	}
}

// stop says why Run returned without error.
type stop struct {
	exit uint8 // exitDone (firmware reached) or exitAbort/exitOut when the program has no outro
	pc   uint32
}

// runState is what the general step carries between instructions: the
// defer slots of a taken branch and a command waiting for its own.
type runState struct {
	end         uint64 // instruction count at which the limit is reached
	endFast     uint64 // from here on, step checks every word (Run)
	limit       uint64
	deferLeft   int    // defer slots still to run
	deferTarget uint32 // where a taken deferred branch goes
	deferExit   uint8
	deferHelper uint32
	pend        cmdReq // command waiting for its defer slots
	cmdLeft     int
	cmdPC       uint32
}

// slow reports whether the next instruction needs the general step: a
// trace, a pending LM pointer or CSR read, defer slots in flight, the
// slots of a taken deferred branch (not charged), the limit near.
func (m *Machine) slow(c *context) bool {
	return c.lmPend != 0 || c.csrPend || m.trace != nil || m.rs.deferLeft > 0 || m.rs.cmdLeft > 0 ||
		m.model.skip > 0 || m.noFast || m.icount >= m.rs.endFast
}

// step executes the instruction at pc with every check: the general path
// behind Run's fast loop (fast.go). done reports the end of the run.
func (m *Machine) step(c *context, pc uint32) (next uint32, st stop, done bool, err error) {
	rs := &m.rs
	code := m.prog.Code
	{
		if int(pc) >= len(code) {
			return 0, stop{}, true, m.errAt(pc, "execution ran past the end of the code (%d instructions)", len(code))
		}
		if m.icount >= rs.end {
			return 0, stop{}, true, m.errAt(pc, "instruction limit %d reached (endless loop?)", rs.limit)
		}
		if c.lmPend != 0 {
			c.applyLM(m.icount)
		}
		o := &code[pc]
		if m.trace != nil {
			m.trace(pc, c)
		}
		next := pc + 1
		taken := false
		if c.csrPend && o.kind != kImmed {
			return 0, stop{}, true, m.errAt(pc, "local_csr_rd must be followed by immed[dst, 0]")
		}
		switch o.kind {
		case kALU:
			if err := m.execALU(c, o); err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
		case kShf:
			if err := m.execShf(c, o); err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
		case kDblShf:
			if err := m.execDblShf(c, o); err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
		case kLdField:
			if err := m.execLdField(c, o); err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
		case kImmed:
			if err := m.execImmed(c, o); err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
		case kBr:
			if c.cc>>4&condNeeds[o.sub&31] != 0 {
				return 0, stop{}, true, m.errAt(pc, "branch on a condition code the previous instruction left undefined (C/V after a logical operation, or after mul_step)")
			}
			taken = m.cond(c, o)
		case kBrBit:
			v := m.read(c, &o.a)
			set := v>>o.shift&1 != 0
			taken = set == (o.flags&fTaken != 0)
		case kJump:
			taken = true
		case kMul:
			if err := m.mul(c, o); err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
		case kCSRRd:
			v, err := m.csrRead(c, o.imm)
			if err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
			c.csrPend, c.csrVal = true, v
		case kCSRWr:
			v := m.read(c, &o.a)
			if err := m.csrWrite(c, o.imm, v); err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
		case kCmd:
			if rs.cmdLeft > 0 {
				return 0, stop{}, true, m.errAt(pc, "command inside the defer slots of another command")
			}
			var req cmdReq
			if err := m.issue(c, o, &req); err != nil {
				return 0, stop{}, true, m.errAt(pc, "%v", err)
			}
			if o.defer_ == 0 {
				if err := m.perform(c, &req); err != nil {
					return 0, stop{}, true, m.errAt(pc, "%v", err)
				}
			} else {
				rs.pend, rs.cmdLeft, rs.cmdPC = req, int(o.defer_)+1, pc
			}
		case kCtxArb:
			return 0, stop{}, true, m.errAt(pc, "ctx_arb (context arbitration) stops the context: not modelled")
		default:
			return 0, stop{}, true, m.errAt(pc, "instruction not modelled")
		}
		m.icount++
		if mc := o.mclass; mc <= mcOneCC && m.model.on && m.model.skip == 0 {
			// The common case of the cycle model, inlined.
			m.model.t++
			if mc == mcOneCC {
				m.model.lastCC = m.model.t
			}
		} else {
			m.model.charge(o, taken)
		}

		if rs.cmdLeft > 0 {
			rs.cmdLeft--
			if rs.cmdLeft == 0 {
				if err := m.perform(c, &rs.pend); err != nil {
					return 0, stop{}, true, m.errAt(rs.cmdPC, "%v", err)
				}
			} else if taken {
				return 0, stop{}, true, m.errAt(pc, "branch inside the defer slots of a command")
			}
		}
		if rs.deferLeft > 0 {
			if o.kind == kBr || o.kind == kBrBit || o.kind == kJump {
				return 0, stop{}, true, m.errAt(pc, "branch inside a defer slot")
			}
			rs.deferLeft--
			if rs.deferLeft == 0 {
				var (
					st  stop
					err error
					ok  bool
				)
				next, st, ok, err = m.land(c, pc, rs.deferTarget, rs.deferExit, rs.deferHelper)
				if err != nil || ok {
					return 0, st, true, err
				}
			}
		} else if taken && o.exit == exitNone && o.defer_ == 0 && o.kind != kJump {
			next = o.target // the common taken branch
		} else if taken {
			tgt := o.target
			if o.kind == kJump {
				tgt = m.read(c, &o.a) + o.imm
			}
			if o.defer_ > 0 {
				rs.deferLeft, rs.deferTarget, rs.deferExit, rs.deferHelper = int(o.defer_), tgt, o.exit, o.aux
				m.model.skip = int(o.defer_)
			} else {
				var (
					st  stop
					err error
					ok  bool
				)
				next, st, ok, err = m.land(c, pc, tgt, o.exit, o.aux)
				if err != nil || ok {
					return 0, st, true, err
				}
			}
		}
		return next, stop{}, false, nil
	}
}

// land completes a taken branch: an ordinary target, or one of the
// firmware's (outro, abort, done, helper). ok reports the end of the run.
func (m *Machine) land(c *context, pc, tgt uint32, exit uint8, helper uint32) (uint32, stop, bool, error) {
	switch exit {
	case exitNone:
		return tgt, stop{}, false, nil
	case exitOut, exitAbort:
		m.r0 = uint64(c.r[rA+0]) | uint64(c.r[rA+1])<<32
		m.exited = exit
		// The program is done; the outro (or abort path) turns R0 into the
		// firmware's result word.
		m.model.end()
		return tgt, stop{}, false, nil
	case exitDone:
		m.model.end()
		return 0, stop{exit: exitDone, pc: pc}, true, nil
	case exitHelper:
		if m.helper == nil {
			return 0, stop{}, false, m.errAt(pc, "firmware helper %d called, but no firmware is attached", helper)
		}
		// The firmware returns with rtn[B0]: the JIT put the return
		// address there in the call's defer slot (R0 then overwrites it).
		ret := c.r[rB+0]
		if err := m.helper(c, helper); err != nil {
			return 0, stop{}, false, m.errAt(pc, "helper %d: %v", helper, err)
		}
		return ret, stop{}, false, nil
	}
	return 0, stop{}, false, m.errAt(pc, "BUG: exit kind %d", exit)
}

// aval is the A-operand value PREV_ALU latches: the value read through the
// instruction's A field (the right operand when the operands are swapped).
func aval(o *op, l, r uint32) uint32 {
	if o.flags&fSwapped != 0 {
		return r
	}
	return l
}

func isArith(sub uint8) bool {
	switch sub {
	case aluAdd, aluAddC, aluSub, aluSubC, aluBMinA:
		return true
	}
	return false
}

// add computes l + r + cin and sets ARM-style flags (C = carry out, so
// after a subtraction done as l + ^r + 1, C = no borrow; nfp-isa.md §3).
func (m *Machine) add(c *context, l, r, cin uint32, flags uint16) uint32 {
	s := uint64(l) + uint64(r) + uint64(cin)
	res := uint32(s)
	if flags&fNoCC == 0 {
		c.cc = arithCC(l, r, s)
	}
	return res
}

func byteMask(m uint8) uint32 {
	var r uint32
	for i := 0; i < 4; i++ {
		if m&(1<<i) != 0 {
			r |= 0xff << (8 * i)
		}
	}
	return r
}

// Condition-code bits, for the flags whose value after an instruction the
// emulator does not know (nfp-isa.md §3: C and V after logical operations,
// all of them after mul_step are [U]). Reading one stops the run.
const (
	ccZ uint8 = 1 << iota
	ccN
	ccC
	ccV
)

// condNeeds lists the flags each branch condition reads.
var condNeeds = [32]uint8{
	0: ccZ, 1: ccZ, 2: ccN, 3: ccN, 4: ccC, 5: ccC, 6: ccV, 7: ccV,
	8: ccN | ccV, 9: ccN | ccV, 10: ccZ | ccN | ccV, 11: ccZ | ccN | ccV,
}

// branch conditions (§2.5).
func (m *Machine) cond(c *context, o *op) bool {
	switch {
	case o.sub < 12:
		return condTable[o.sub]>>(c.cc&15)&1 != 0
	case o.sub == 16:
		return uint32(c.num) == o.aux
	case o.sub == 17:
		return uint32(c.num) != o.aux
	case o.sub == 24:
		return true
	}
	return false
}

// logicCC is the condition codes after a logical operation: Z and N from
// the result, C and V not known.
func logicCC(res uint32) uint8 {
	return b2u8(res == 0) | uint8(res>>31)<<1 | (ccC|ccV)<<4
}

// arithCC is the condition codes after x + y (+ carry in) = s.
func arithCC(x, y uint32, s uint64) uint8 {
	res := uint32(s)
	return b2u8(res == 0) | uint8(res>>31)<<1 | uint8(s>>32&1)<<2 | uint8((^(x^y)&(x^res))>>31)<<3
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// flag reports a condition code's value (tests).
func (c *context) flag(f uint8) bool { return c.cc&f != 0 }

// execALU performs a ALU word (either path).
func (m *Machine) execALU(c *context, o *op) error {
	if (o.sub == aluAddC || o.sub == aluSubC) && c.cc>>4&ccC != 0 {
		return fmt.Errorf("carry used after a logical operation (C undefined there)")
	}
	l := m.read(c, &o.a)
	r := m.read(c, &o.b)
	var res uint32
	switch o.sub {
	case aluB:
		res = r
	case aluNotB:
		res = ^r
	case aluAnd:
		res = l & r
	case aluOr:
		res = l | r
	case aluXor:
		res = l ^ r
	case aluNotAnd:
		res = ^l & r
	case aluAndNot:
		res = l &^ r
	case aluAdd:
		res = m.add(c, l, r, 0, o.flags)
	case aluAddC:
		res = m.add(c, l, r, uint32(c.cc>>2&1), o.flags)
	case aluSub:
		res = m.add(c, l, ^r, 1, o.flags)
	case aluSubC:
		res = m.add(c, l, ^r, uint32(c.cc>>2&1), o.flags)
	case aluBMinA:
		res = m.add(c, r, ^l, 1, o.flags)
	case aluAdd16:
		res = (l + r) & 0xffff
	case aluAdd8:
		res = (l + r) & 0xff
	default:
		return fmt.Errorf("alu operation %#x is not modelled", o.sub)
	}
	if o.flags&fNoCC == 0 && !isArith(o.sub) {
		c.cc = logicCC(res)
	}
	c.prevRes, c.prevA = res, aval(o, l, r)
	if o.dst.kind == oReg { // write, inlined
		c.r[o.dst.idx], c.r[o.dst.both] = res, res
	} else {
		c.writeOther(&o.dst, res)
	}
	return nil
}

// execShf performs a Shf word (either path).
func (m *Machine) execShf(c *context, o *op) error {
	l := m.read(c, &o.a)
	r := m.read(c, &o.b)
	n := uint32(o.shift)
	if n == shfInd {
		n = c.prevA & 31
	}
	var res uint32
	if o.sub == shfAsr {
		sign := c.prevRes >> 31
		s := r >> n
		if sign != 0 && n != 0 {
			s |= ^uint32(0) << (32 - n)
		}
		res = s
	} else {
		var s uint32
		switch o.sc {
		case scRot:
			s = bits.RotateLeft32(r, -int(n))
		case scShr:
			s = r >> n
		case scShl:
			s = r << n
		}
		switch o.sub {
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
		case shfOr:
			res = l | s
		default:
			return fmt.Errorf("alu_shf operation %d is not modelled", o.sub)
		}
	}
	if o.flags&fNoCC == 0 {
		c.cc = logicCC(res)
	}
	c.prevRes, c.prevA = res, aval(o, l, r)
	if o.dst.kind == oReg { // write, inlined
		c.r[o.dst.idx], c.r[o.dst.both] = res, res
	} else {
		c.writeOther(&o.dst, res)
	}
	return nil
}

// execDblShf performs a DblShf word (either path).
func (m *Machine) execDblShf(c *context, o *op) error {
	l := m.read(c, &o.a)
	r := m.read(c, &o.b)
	n := uint32(o.shift)
	if n == shfInd {
		n = c.prevA & 31
	}
	res := uint32((uint64(l)<<32 | uint64(r)) >> n)
	if o.flags&fNoCC == 0 {
		c.cc = logicCC(res)
	}
	c.prevRes, c.prevA = res, aval(o, l, r)
	if o.dst.kind == oReg { // write, inlined
		c.r[o.dst.idx], c.r[o.dst.both] = res, res
	} else {
		c.writeOther(&o.dst, res)
	}
	return nil
}

// execLdField performs a LdField word (either path).
func (m *Machine) execLdField(c *context, o *op) error {
	// a: the destination (also the preserved bytes), b: the source.
	old := m.read(c, &o.a)
	src := m.read(c, &o.b)
	n := uint32(o.shift)
	if o.sc == scShl {
		src <<= n
	} else if o.sc == scShr {
		src >>= n
	} else if o.sc == scRot {
		src = bits.RotateLeft32(src, -int(n))
	}
	mask := o.imm // the byte mask as bits (translate)
	keep := old
	if o.flags&fClear != 0 {
		keep = 0
	}
	res := src&mask | keep&^mask
	if o.flags&fLoadCC != 0 {
		c.cc = logicCC(res)
	}
	c.prevRes = res
	if o.dst.kind == oReg { // write, inlined
		c.r[o.dst.idx], c.r[o.dst.both] = res, res
	} else {
		c.writeOther(&o.dst, res)
	}
	return nil
}

// execImmed performs a Immed word (either path).
func (m *Machine) execImmed(c *context, o *op) error {
	v := o.imm
	if c.csrPend {
		v = c.csrVal
		c.csrPend = false
	}
	if o.sc != immAll {
		old := m.read(c, &o.dst)
		sh := uint32(o.shift) * 8
		var mask uint32 = 0xff
		if o.sc == immWord {
			mask = 0xffff
		}
		v = old&^(mask<<sh) | (v&mask)<<sh
	}
	c.prevRes = v
	if o.dst.kind == oReg { // write, inlined
		c.r[o.dst.idx], c.r[o.dst.both] = v, v
	} else {
		c.writeOther(&o.dst, v)
	}
	return nil
}
