package nfp

import "fmt"

// mul performs one mul_step (nfp-isa.md §2.9). start latches the operands,
// the steps check the sequence, last/last2 write the product. The kernel
// never interleaves other instructions; a sequence out of order stops the
// run instead of guessing.
func (m *Machine) mul(c *context, o *op) error {
	if o.sub == mulStart {
		c.mulL, c.mulR = m.read(c, &o.a), m.read(c, &o.b)
		c.mulType, c.mulSteps, c.mulDone = 0, 0, false
		return nil
	}
	if c.mulType < 0 {
		return fmt.Errorf("mul_step without a preceding start")
	}
	t := int8(o.sub)
	if c.mulType == 0 {
		c.mulType = t
	} else if c.mulType != t {
		return fmt.Errorf("mul_step type changes inside a sequence")
	}
	need := [4]int8{0, 1, 2, 4}[t&3]
	switch o.sc {
	case mulStep1, mulStep2, mulStep3, mulStep4:
		if int8(o.sc) != c.mulSteps || o.sc >= uint8(need) || c.mulDone {
			return fmt.Errorf("mul_step step %d out of sequence", o.sc+1)
		}
		c.mulSteps++
		// Steps read the operands again; they must be the latched ones.
		if l, r := m.read(c, &o.a), m.read(c, &o.b); l != c.mulL || r != c.mulR {
			return fmt.Errorf("mul_step operands changed inside a sequence (%#x, %#x after %#x, %#x)", l, r, c.mulL, c.mulR)
		}
		return nil
	case mulLast:
		if c.mulSteps != need || c.mulDone {
			return fmt.Errorf("mul_step last after %d of %d steps", c.mulSteps, need)
		}
		var p uint64
		switch t {
		case mul24x8:
			p = uint64(c.mulL&0xffffff) * uint64(c.mulR&0xff)
		case mul16x16:
			p = uint64(c.mulL&0xffff) * uint64(c.mulR&0xffff)
		default:
			p = uint64(c.mulL) * uint64(c.mulR)
		}
		c.mulDone, c.mulHi = true, uint32(p>>32)
		c.cc = (ccZ | ccN | ccC | ccV) << 4
		c.write(&o.dst, uint32(p))
		if t != mul32x32 {
			c.mulType = -1
		}
		return nil
	case mulLast2:
		if t != mul32x32 || !c.mulDone {
			return fmt.Errorf("mul_step last2 without a 32x32 last")
		}
		c.write(&o.dst, c.mulHi)
		c.mulType = -1
		return nil
	}
	return fmt.Errorf("mul_step step %d is not modelled", o.sc)
}

// csrRead returns a local CSR for local_csr_rd.
func (m *Machine) csrRead(c *context, addr uint32) (uint32, error) {
	if p := lmPointerCSR(addr); p >= 0 {
		if c.lmPend&(1<<p) != 0 {
			return c.lmNew[p], nil
		}
		return c.lmp[p], nil
	}
	switch addr {
	case csrPseudoRnd:
		return m.nextRandom(), nil
	case csrTimestampLo:
		return uint32(m.icount / 16), nil
	case csrTimestampHi:
		return uint32(m.icount / 16 >> 32), nil
	case csrActCtxSts:
		return uint32(c.num), nil
	}
	return 0, fmt.Errorf("local_csr_rd of CSR %#x is not modelled", addr)
}

// csrWrite performs local_csr_wr. LM pointer writes take effect lmLatency
// instructions later.
func (m *Machine) csrWrite(c *context, addr, v uint32) error {
	if p := lmPointerCSR(addr); p >= 0 {
		c.lmNew[p] = v &^ 3
		c.lmAt[p] = m.icount + lmLatency + 1
		c.lmPend |= 1 << p
		return nil
	}
	switch addr {
	case csrPseudoRnd:
		m.prng = v
		return nil
	}
	return fmt.Errorf("local_csr_wr of CSR %#x is not modelled", addr)
}

// nextRandom steps the PseudoRndNum CSR. The hardware generator is not
// documented; this is a deterministic 32-bit xorshift seeded like the
// firmware (42), so runs repeat exactly.
func (m *Machine) nextRandom() uint32 {
	if m.random != nil {
		return m.random()
	}
	x := m.prng
	if x == 0 {
		x = 42
	}
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	m.prng = x
	return x
}
