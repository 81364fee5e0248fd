package nfp

import (
	"fmt"

	"github.com/nfpcc/nfpcc/isa"
)

// Local CSR byte addresses the emulator models (nfp-isa.md §1.3).
const (
	csrActLMAddr0  = 0x064
	csrActLMAddr1  = 0x06c
	csrActLMAddr2  = 0x094
	csrActLMAddr3  = 0x09c
	csrActCtxSts   = 0x044
	csrTimestampLo = 0x0c0
	csrTimestampHi = 0x0c4
	csrMailbox0    = 0x170
	csrMailbox3    = 0x17c
	csrPseudoRnd   = 0x148
)

// lmPointerCSR maps a CSR byte address to the LM pointer it sets (or -1).
func lmPointerCSR(addr uint32) int {
	if addr%4 != 0 {
		return -1
	}
	return isa.LMPointerCSR(int(addr / 4))
}

// LMWords is the size of one microengine's local memory in 32-bit words
// (4 KiB on NFP-4000/6000).
const LMWords = 1024

// lmLatency is the number of instructions after a local_csr_wr to
// ActLMAddrN before *l$indexN uses the new value (nfp-isa.md §1.5: the
// update needs three cycles; the JIT puts three instructions in between).
const lmLatency = 3

// Register file layout of a context.
const (
	rA    = 0
	rB    = 32
	rXin  = 64
	rXout = 128
	rNN   = 192
)

// context is the architectural state of one hardware thread in 4-context
// mode: 32 GPRs per bank, 64 transfer registers each way (§1.3).
type context struct {
	num int // context number (0, 2, 4, 6 in 4-context mode)
	// r is the register file, flat so that an operand is one index (and a
	// uint8 index needs no bounds check): GPR A at rA, B at rB, the
	// transfer-in registers (written by memory reads, read by ALU sources)
	// at rXin, transfer-out (written by ALU destinations, read by memory
	// writes) at rXout, next-neighbour at rNN.
	r      [256]uint32
	lm     *[LMWords]uint32 // the microengine's local memory
	lmp    [4]uint32        // active LM pointers (byte addresses)
	lmNew  [4]uint32        // pending LM pointer values
	lmAt   [4]uint64        // instruction count at which the pending value takes effect
	lmPend uint8            // bit i: pointer i has a pending write

	// cc holds the condition codes: bits 3:0 the values of Z N C V (the
	// cc* bits), bits 7:4 those whose value is not known.
	cc uint8

	prevRes uint32 // PREV_ALU result
	prevA   uint32 // PREV_ALU A operand (indirect shift amounts)

	csrPend bool // local_csr_rd issued: the next immed receives csrVal
	csrVal  uint32

	mulL, mulR uint32
	mulType    int8 // -1: no sequence in progress
	mulSteps   int8
	mulDone    bool // last seen, last2 allowed (32x32)
	mulHi      uint32
}

func (c *context) reset(num int) {
	*c = context{num: num, mulType: -1}
}

// lmWord returns the LM word index an LM operand addresses and applies a
// post-increment/decrement.
func (c *context) lmIndex(o *operand) uint32 {
	p := o.idx
	w := c.lmp[p] >> 2
	switch o.kind {
	case oLM:
		w |= uint32(o.off)
	case oLMInc:
		c.lmp[p] += 4
	case oLMDec:
		c.lmp[p] -= 4
	}
	return w
}

// applyLM makes pending LM pointer writes visible once their latency has
// passed.
func (c *context) applyLM(now uint64) {
	for i := 0; i < 4; i++ {
		if c.lmPend&(1<<i) != 0 && now >= c.lmAt[i] {
			c.lmp[i] = c.lmNew[i]
			c.lmPend &^= 1 << i
		}
	}
}

// RunError is an emulation stop: something the emulator does not model or
// that the program does wrong, at a code address.
type RunError struct {
	PC    uint32
	Instr string // the instruction's text, when known
	Msg   string
}

func (e *RunError) Error() string {
	if e.Instr != "" {
		return fmt.Sprintf("nfp: at .%d (%s): %s", e.PC, e.Instr, e.Msg)
	}
	return fmt.Sprintf("nfp: at .%d: %s", e.PC, e.Msg)
}
