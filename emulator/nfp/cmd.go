package nfp

import (
	"encoding/binary"
	"fmt"
)

// Memory commands (nfp-isa.md §2.12). MU memory (CTM, IMEM, EMEM) is
// byte-addressed and big-endian within 32-bit words as seen through the
// transfer registers; the _swap forms byte-reverse each word, so a register
// value is read and stored little-endian. Atomics work on big-endian words.

// command semantics.
const (
	cRead32  uint8 = iota + 1 // read32 / read32_swap: cnt+1 words
	cRead8                    // read8: cnt+1 bytes, first byte in the MSB
	cWrite32                  // write32 / write32_swap: cnt+1 words
	cWrite8                   // write8 / write8_swap: cnt+1 bytes
	cAdd                      // add / add64: xfer_out data
	cAddImm                   // add_imm / add64_imm: PREV_ALU data16
	cSet                      // set: word |= xfer
	cClr                      // clr: word &^= xfer
	cXor                      // xor: word ^= xfer
	cSwap                     // swap: word = xfer, the old word returned
)

// cmdSem is one row of the command table.
type cmdSem struct {
	name string
	kind uint8
	swap bool // _swap: each word byte-reversed
	is64 bool // add64 forms
	cls  bool // target CLS instead of MU
	// test: the atomic returns the words as they were before it into the
	// transfer-in registers (test_add, test_set, …; swap always does).
	test bool
}

// cmdSems lists the modelled commands by target and GNU mnemonic
// (isa.CmdInstr.CmdName); every other command stops the run with its name.
// CLS words are treated like MU words (big-endian through the transfer
// registers) [D].
var cmdSems = []cmdSem{
	{name: "write8", kind: cWrite8},
	{name: "write8_swap", kind: cWrite8, swap: true},
	{name: "read8", kind: cRead8},
	{name: "set", kind: cSet},
	{name: "clr", kind: cClr},
	{name: "add", kind: cAdd},
	{name: "add64", kind: cAdd, is64: true},
	{name: "add_imm", kind: cAddImm},
	{name: "add64_imm", kind: cAddImm, is64: true},
	{name: "xor", kind: cXor},
	{name: "test_set", kind: cSet, test: true},
	{name: "test_clr", kind: cClr, test: true},
	{name: "test_xor", kind: cXor, test: true},
	{name: "test_add", kind: cAdd, test: true},
	{name: "test_add64", kind: cAdd, is64: true, test: true},
	{name: "swap", kind: cSwap, test: true},
	{name: "read32", kind: cRead32},
	{name: "read32_swap", kind: cRead32, swap: true},
	{name: "write32", kind: cWrite32},
	{name: "write32_swap", kind: cWrite32, swap: true},

	{name: "read", kind: cRead32, cls: true},
	{name: "write", kind: cWrite32, cls: true},
	{name: "set", kind: cSet, cls: true},
	{name: "clr", kind: cClr, cls: true},
	{name: "add", kind: cAdd, cls: true},
	{name: "add64", kind: cAdd, is64: true, cls: true},
	{name: "add_imm", kind: cAddImm, cls: true},
	{name: "add64_imm", kind: cAddImm, is64: true, cls: true},
}

// cmdTable is cmdSems; op.sub indexes it.
var cmdTable = cmdSems

// cmdIndex finds a command's row.
func cmdIndex(cls bool, name string) (uint8, bool) {
	for i, c := range cmdTable {
		if c.cls == cls && c.name == name {
			return uint8(i), true
		}
	}
	return 0, false
}

// cmdReq is a command whose operands were read at issue; it is performed
// after its defer slots (the kernel fills the transfer-out registers of an
// atomic add in those slots, §2.12.4).
type cmdReq struct {
	sem    *cmdSem
	addr   uint64
	n      int // words or bytes
	data16 uint32
	xfer   int
	is64   bool
}

// issue reads the operands of a command and applies indirect_ref.
func (m *Machine) issue(c *context, o *op, r *cmdReq) error {
	sem := &cmdTable[o.sub]
	a := m.read(c, &o.a)
	b := m.read(c, &o.b)
	*r = cmdReq{sem: sem, xfer: int(o.xfer), is64: sem.is64}
	switch o.sc { // address mode
	case 0:
		r.addr = (uint64(a)<<8 + uint64(b)) & (1<<40 - 1)
	case 1:
		r.addr = (uint64(b)<<8 + uint64(a)) & (1<<40 - 1)
	case 4:
		r.addr = uint64(a + b)
	default:
		return fmt.Errorf("%s: address mode %d is not modelled", sem.name, o.sc)
	}
	cnt := int(o.imm)
	if o.flags&fIndirect != 0 {
		p := c.prevRes
		if p&0x80 != 0 { // ov_len
			cnt = int(p >> 8 & 0x1f)
		}
		if p>>3&7 == 2 { // ove_data: bits 31:16 are immediate data
			r.data16 = p >> 16
		} else if sem.kind == cAddImm {
			return fmt.Errorf("%s with indirect_ref but no immediate data override (PREV_ALU %#x)", sem.name, p)
		}
		if p&^0xffff1fb8 != 0 || (p>>3&7 != 0 && p>>3&7 != 2) {
			return fmt.Errorf("%s: indirect_ref override %#x (signal/master/byte-mask fields) is not modelled", sem.name, p)
		}
	} else if sem.kind == cAddImm {
		return fmt.Errorf("%s without indirect_ref: immediate data source not modelled", sem.name)
	}
	switch sem.kind {
	case cAdd, cAddImm:
		// On MU, length bit 2 selects the 64-bit form (add64, add64_imm),
		// also when indirect_ref overrides the length.
		if !sem.cls {
			r.is64 = cnt&4 != 0
		}
		r.n = 1
	case cRead8, cWrite8:
		r.n = cnt + 1
		if r.n > 32 {
			return fmt.Errorf("%s of %d bytes: more than 32", sem.name, r.n)
		}
	default:
		r.n = cnt + 1
	}
	return nil
}

// perform executes an issued command against memory and the transfer
// registers.
func (m *Machine) perform(c *context, r *cmdReq) error {
	sem := r.sem
	switch sem.kind {
	case cRead32, cWrite32:
		if r.xfer+r.n > 64 {
			return fmt.Errorf("%s of %d words from $xfer_%d runs past the transfer registers", sem.name, r.n, r.xfer)
		}
		buf, err := m.mem.slice(r.addr, 4*r.n, sem.cls)
		if err != nil {
			return fmt.Errorf("%s: %v", sem.name, err)
		}
		for i := 0; i < r.n; i++ {
			w := buf[4*i : 4*i+4]
			if sem.kind == cRead32 {
				if sem.swap {
					c.r[rXin+r.xfer+i] = binary.LittleEndian.Uint32(w)
				} else {
					c.r[rXin+r.xfer+i] = binary.BigEndian.Uint32(w)
				}
			} else if sem.swap {
				binary.LittleEndian.PutUint32(w, c.r[rXout+r.xfer+i])
			} else {
				binary.BigEndian.PutUint32(w, c.r[rXout+r.xfer+i])
			}
		}
	case cRead8:
		buf, err := m.mem.slice(r.addr, r.n, sem.cls)
		if err != nil {
			return fmt.Errorf("%s: %v", sem.name, err)
		}
		words := (r.n + 3) / 4
		if r.xfer+words > 64 {
			return fmt.Errorf("%s runs past the transfer registers", sem.name)
		}
		for i := 0; i < words; i++ {
			c.r[rXin+r.xfer+i] = 0
		}
		for i, v := range buf {
			c.r[rXin+r.xfer+i/4] |= uint32(v) << (24 - 8*(i%4))
		}
	case cWrite8:
		buf, err := m.mem.slice(r.addr, r.n, sem.cls)
		if err != nil {
			return fmt.Errorf("%s: %v", sem.name, err)
		}
		if r.xfer+(r.n+3)/4 > 64 {
			return fmt.Errorf("%s runs past the transfer registers", sem.name)
		}
		for i := range buf {
			w := c.r[rXout+r.xfer+i/4]
			if sem.swap {
				buf[i] = byte(w >> (8 * (i % 4)))
			} else {
				buf[i] = byte(w >> (24 - 8*(i%4)))
			}
		}
	case cAdd, cAddImm:
		size := 4
		if r.is64 {
			size = 8
		}
		buf, err := m.mem.slice(r.addr, size, sem.cls)
		if err != nil {
			return fmt.Errorf("%s: %v", sem.name, err)
		}
		if m.onAtomic != nil {
			m.onAtomic(r.addr, size, buf)
		}
		var add uint64
		if sem.kind == cAddImm {
			add = uint64(r.data16)
		} else {
			add = uint64(c.r[rXout+r.xfer])
			if r.is64 {
				add |= uint64(c.r[rXout+(r.xfer+1)%64]) << 32
			}
		}
		if sem.test {
			m.returnOld(c, r, buf, size/4)
		}
		if r.is64 {
			// word0 holds the low half, word1 the high half, each big-endian.
			v := uint64(binary.BigEndian.Uint32(buf[4:]))<<32 | uint64(binary.BigEndian.Uint32(buf))
			v += add
			binary.BigEndian.PutUint32(buf, uint32(v))
			binary.BigEndian.PutUint32(buf[4:], uint32(v>>32))
		} else {
			binary.BigEndian.PutUint32(buf, binary.BigEndian.Uint32(buf)+uint32(add))
		}
	case cSet, cClr, cXor, cSwap:
		buf, err := m.mem.slice(r.addr, 4*r.n, sem.cls)
		if err != nil {
			return fmt.Errorf("%s: %v", sem.name, err)
		}
		if m.onAtomic != nil {
			m.onAtomic(r.addr, 4*r.n, buf)
		}
		if sem.test {
			m.returnOld(c, r, buf, r.n)
		}
		for i := 0; i < r.n; i++ {
			w := binary.BigEndian.Uint32(buf[4*i:])
			x := c.r[rXout+(r.xfer+i)%64]
			switch sem.kind {
			case cSet:
				w |= x
			case cClr:
				w &^= x
			case cSwap:
				w = x
			default:
				w ^= x
			}
			binary.BigEndian.PutUint32(buf[4*i:], w)
		}
	default:
		return fmt.Errorf("BUG: command kind %d", sem.kind)
	}
	return nil
}

// returnOld puts the n words an atomic is about to change, as they are
// (big-endian words, as read32 reads them), into the transfer-in
// registers from the command's first: the test_ forms and swap return
// the old value there.
func (m *Machine) returnOld(c *context, r *cmdReq, buf []byte, n int) {
	for i := 0; i < n; i++ {
		c.r[rXin+(r.xfer+i)%64] = binary.BigEndian.Uint32(buf[4*i:])
	}
}
