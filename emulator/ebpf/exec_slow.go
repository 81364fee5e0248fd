package ebpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/nfpcc/nfpcc/emulator"
)

// The less frequent work of the run loop, kept out of exec.go: call frames,
// legacy packet loads, atomics and tracing.

// setStackDepth makes the frames of the call chain (each stackSize bytes,
// the innermost lowest) the valid part of the stack region: a function
// may use its own frame and, through pointers, its callers'.
func (m *Machine) setStackDepth(depth int) {
	lo := uint64(len(m.stack) - (depth+1)*stackSize)
	m.regions[regionStack].lo = lo
	if depth > m.maxDepth {
		m.maxDepth = depth
	}
}

// ldPacket is LD_ABS/LD_IND: a big-endian load from the packet at the
// signed 32-bit offset imm (plus src for IND), negative offsets relative to
// the network or mac header as the kernel maps them (emulator.Packet.LegacyLoad).
func (m *Machine) ldPacket(in *inst, r *[16]uint64) (uint64, bool) {
	pk := m.env.Packet
	if pk == nil {
		return 0, false
	}
	off := int32(in.imm)
	if in.op >= opLdIndB {
		off = int32(uint32(r[in.src&15]) + uint32(in.imm))
	}
	n := 1
	switch in.op {
	case opLdAbsH, opLdIndH:
		n = 2
	case opLdAbsW, opLdIndW:
		n = 4
	}
	return pk.LegacyLoad(off, n)
}

// atomic is STX|ATOMIC: read-modify-write of 4 or 8 bytes.
func (m *Machine) atomic(pc int, text *insnText, in *inst) error {
	r := &m.regs
	n := uint64(8)
	if in.op == opAtomic32 {
		n = 4
	}
	a := r[in.dst&15] + uint64(int64(in.off))
	b, err := m.bytes(a, n, true)
	if err != nil {
		me := err.(*MemoryError)
		me.PC, me.Insn = pc, text.at(pc)
		return me
	}
	var old uint64
	if n == 4 {
		old = uint64(binary.LittleEndian.Uint32(b))
	} else {
		old = binary.LittleEndian.Uint64(b)
	}
	src := r[in.src&15]
	mask := ^uint64(0)
	if n == 4 {
		mask = 0xffffffff
	}
	var nv uint64
	switch in.imm &^ atomicFetch {
	case atomicAdd:
		nv = old + src
	case atomicOr:
		nv = old | src
	case atomicAnd:
		nv = old & src
	case atomicXor:
		nv = old ^ src
	case atomicXchg &^ atomicFetch:
		nv = src
	case atomicCmpXchg &^ atomicFetch:
		nv = old
		if old == r[0]&mask {
			nv = src
		}
		r[0] = old // zero-extended for the 32-bit form
		store(b, int(n), nv)
		return nil
	}
	store(b, int(n), nv)
	if in.imm&atomicFetch != 0 {
		r[in.src&15] = old
	}
	return nil
}

// traceStep records the instruction about to run and the registers it
// reads.
func (m *Machine) traceStep(pc int, text string, in *inst) {
	const maxSteps = 100_000
	if len(m.steps) >= maxSteps {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-40s", text)
	reads, _ := regUse(in)
	sep := " ;"
	for r := 0; r <= 10; r++ {
		if reads&(1<<r) != 0 {
			fmt.Fprintf(&b, "%s r%d=%#x", sep, r, m.regs[r])
			sep = ""
		}
	}
	m.steps = append(m.steps, emulator.TraceStep{PC: pc, Text: strings.TrimRight(b.String(), " ")})
}

// callHelper runs a helper call (opCall, or opCallX by the number in dst),
// leaving its result in r0. done says the program ends here: a helper
// ended it (r0 holds its value) or a tail call replaces it by next.
func (m *Machine) callHelper(in *inst, pc int, text *insnText, helpers []*emulator.Helper, mayTailCall bool) (done bool, next *program, err error) {
	r := &m.regs
	var h *emulator.Helper
	if in.op == opCall {
		h = helpers[in.imm]
	} else if h = m.helpers[int32(r[in.dst&15])]; h == nil || int64(r[in.dst&15]) != int64(int32(r[in.dst&15])) {
		return false, nil, &RuntimeError{PC: pc, Insn: text.at(pc), Msg: fmt.Sprintf("callx to unknown helper %s (#%d)", helperName(int64(r[in.dst&15])), int64(r[in.dst&15]))}
	}
	m.args = [5]uint64{r[1], r[2], r[3], r[4], r[5]}
	v, herr := h.Fn(m.env, m, &m.args)
	if h.ChangesPacket {
		m.syncPacket()
		if m.hook == emulator.HookTC {
			m.syncSKB()
		}
	}
	switch {
	case herr == nil:
	case errors.Is(herr, emulator.ErrExit):
		r[0] = v
		return true, nil, nil
	case errors.Is(herr, emulator.ErrTailCall):
		tc := m.env.TailCall
		m.env.TailCall = nil
		if !mayTailCall || int(tc.Prog) >= len(m.progs) {
			v = emulator.ENOENT.Ret() // the call falls through
			break
		}
		np := m.progs[tc.Prog]
		if np.loadErr != nil {
			return false, nil, &RuntimeError{PC: pc, Insn: text.at(pc), Msg: fmt.Sprintf("tail call to a program that did not load: %v", np.loadErr)}
		}
		r[10] = addr(regionStack, uint64(len(m.stack)))
		m.setStackDepth(0)
		return true, np, nil
	default:
		return false, nil, &RuntimeError{PC: pc, Insn: text.at(pc), Msg: fmt.Sprintf("%s: %v", h.Name, herr)}
	}
	r[0] = v
	return false, nil, nil
}
