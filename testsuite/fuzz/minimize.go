package fuzz

import (
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite/gen"
)

// Minimize shrinks a failing case while it stays verifier-valid (a
// candidate the verifier rejects is no longer a Mismatch, so it is
// dropped) and fails the same way (same family of failure: compiler BUG,
// emulator stop, or results that differ). In the spirit of creduce and
// delta debugging, it repeats until nothing shrinks: drop packets, then
// instructions (replaced by no-op jumps, in halving chunks, so that jump
// offsets stay valid), then constants (towards 0 and 1), then packet bytes
// (the tail, then bytes zeroed); finally the no-ops are removed and the
// jumps around them re-aimed. It returns the smallest case and its outcome.
func Minimize(c *Case, check func(*Case) Outcome, failed Outcome) (*Case, Outcome) {
	m := &minimizer{check: check, family: family(failed), best: c.clone(), out: failed}
	if failed.Packet >= 0 && failed.Packet < len(m.best.Packets) {
		m.try(func(q *Case) bool { q.Packets = q.Packets[:failed.Packet+1]; return true })
	}
	for round := 0; round < 8; round++ {
		before := m.checks
		m.packets()
		m.instructions()
		m.simplify()
		m.constants()
		m.bytes()
		if m.checks == before || !m.shrunk {
			break
		}
		m.shrunk = false
	}
	m.try(func(q *Case) bool { return compact(q.P) })
	m.try(dropMaps)
	m.best.P.Hints = nil // they only steered frame generation
	return m.best, m.out
}

// family groups failures that are the same bug for the minimizer's
// purpose.
func family(o Outcome) string {
	switch {
	case strings.HasPrefix(o.Reason, "compiler:"):
		return "compiler"
	case strings.HasPrefix(o.Reason, "NFP"):
		return "nfp"
	case strings.HasPrefix(o.Reason, "kernel"):
		return "kernel"
	}
	return "differ"
}

type minimizer struct {
	check  func(*Case) Outcome
	family string
	best   *Case
	out    Outcome
	checks int
	shrunk bool
}

// try applies edit to a copy of the best case and keeps the copy if it
// still fails the same way. edit returns false when it changed nothing.
func (m *minimizer) try(edit func(*Case) bool) bool {
	q := m.best.clone()
	if !edit(q) {
		return false
	}
	m.checks++
	o := m.check(q)
	if o.Kind != Mismatch || family(o) != m.family {
		return false
	}
	m.best, m.out, m.shrunk = q, o, true
	return true
}

// packets drops the frames that do not matter, one at a time.
func (m *minimizer) packets() {
	for i := 0; i < len(m.best.Packets) && len(m.best.Packets) > 1; {
		if !m.try(func(q *Case) bool { q.Packets = append(q.Packets[:i], q.Packets[i+1:]...); return true }) {
			i++
		}
	}
}

// nop is the no-op that replaces an instruction: "ja +0".
var nop = asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)}

func isNop(ins asm.Instruction) bool {
	return ins.OpCode == nop.OpCode && ins.Offset == 0 && ins.Constant == 0
}

// instructions replaces runs of instructions by no-ops, halving the run
// length down to one (LD_IMM64 becomes two no-ops: offsets stay valid).
func (m *minimizer) instructions() {
	for chunk := len(m.best.P.Insns) / 2; chunk >= 1; chunk /= 2 {
		for start := 0; start < len(m.best.P.Insns); start += chunk {
			m.try(func(q *Case) bool { return nopRange(q.P, start, start+chunk) })
		}
	}
}

// nopRange replaces insns[from:to] by no-ops; false if all were no-ops.
func nopRange(p *gen.Program, from, to int) bool {
	to = min(to, len(p.Insns))
	var out asm.Instructions
	changed := false
	for i, ins := range p.Insns {
		if i < from || i >= to || isNop(ins) {
			out = append(out, ins)
			continue
		}
		changed = true
		out = append(out, nop)
		if ins.OpCode.IsDWordLoad() {
			out = append(out, nop)
		}
	}
	p.Insns = out
	return changed
}

// simplify cuts dependencies so that more instructions can go: a
// conditional jump becomes always or never taken, an instruction that
// computes a register becomes "r = 0" (the register stays initialised, so
// what reads it stays valid while what it read is free to go).
func (m *minimizer) simplify() {
	for i := 0; i < len(m.best.P.Insns); i++ {
		ins := m.best.P.Insns[i]
		op := ins.OpCode
		switch {
		case op.Class().IsJump() && op.JumpOp() != asm.Ja && op.JumpOp() != asm.Call && op.JumpOp() != asm.Exit:
			taken := asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja), Offset: ins.Offset}
			if !m.try(func(q *Case) bool { q.P.Insns[i] = taken; return true }) {
				m.try(func(q *Case) bool { q.P.Insns[i] = nop; return true })
			}
		case writesReg(ins):
			zero := asm.Mov.Imm(ins.Dst, 0)
			if ins == zero {
				continue
			}
			m.try(func(q *Case) bool {
				q.P.Insns[i] = zero
				if ins.OpCode.IsDWordLoad() {
					q.P.Insns = append(q.P.Insns[:i+1], append(asm.Instructions{nop}, q.P.Insns[i+1:]...)...)
				}
				return true
			})
		}
	}
}

// writesReg: ins computes its destination register and nothing else.
func writesReg(ins asm.Instruction) bool {
	op := ins.OpCode
	switch {
	case op.IsDWordLoad():
		return true
	case op.Class().IsALU():
		return true
	case op.Class() == asm.LdXClass:
		return true
	}
	return false
}

// constants moves immediates towards 0 and 1.
func (m *minimizer) constants() {
	for i := 0; i < len(m.best.P.Insns); i++ {
		ins := m.best.P.Insns[i]
		if !hasValueImm(ins) || ins.Constant == 0 {
			continue
		}
		for _, v := range []int64{0, 1, ins.Constant / 2, int64(int32(ins.Constant))} {
			if v == ins.Constant {
				continue
			}
			if m.try(func(q *Case) bool { q.P.Insns[i].Constant = v; return true }) {
				break
			}
		}
	}
}

// hasValueImm: the immediate is a value (not a jump or call offset, a map
// index, a helper number, an atomic operation or a byte-swap width).
func hasValueImm(ins asm.Instruction) bool {
	op := ins.OpCode
	switch {
	case op.IsDWordLoad():
		return ins.Src == 0
	case op.Class().IsALU():
		return op.Source() == asm.ImmSource && op.ALUOp() != asm.Swap && op.ALUOp() != asm.Neg
	case op.Class().IsJump():
		return op.Source() == asm.ImmSource && op.JumpOp() != asm.Ja && op.JumpOp() != asm.Call && op.JumpOp() != asm.Exit
	case op.Class() == asm.StClass:
		return true
	}
	return false
}

// bytes shortens frames from the end, then zeroes their bytes in halving
// chunks.
func (m *minimizer) bytes() {
	for pi := range m.best.Packets {
		for cut := len(m.best.Packets[pi]) / 2; cut >= 1; cut /= 2 {
			for m.try(func(q *Case) bool {
				if len(q.Packets[pi]) < cut {
					return false
				}
				q.Packets[pi] = q.Packets[pi][:len(q.Packets[pi])-cut]
				return true
			}) {
			}
		}
		for chunk := len(m.best.Packets[pi]); chunk >= 1; chunk /= 2 {
			for start := 0; start < len(m.best.Packets[pi]); start += chunk {
				m.try(func(q *Case) bool {
					b, changed := q.Packets[pi], false
					for j := start; j < min(start+chunk, len(b)); j++ {
						changed = changed || b[j] != 0
						b[j] = 0
					}
					return changed
				})
			}
		}
	}
}

// compact removes the no-op jumps and re-aims the jumps, calls and
// function starts around them; false if there were none.
func compact(p *gen.Program) bool {
	// newSlot[s] is the new slot of old slot s (for a removed no-op: of
	// the next instruction kept); one more entry for the end.
	var slots []int
	removed := 0
	for _, ins := range p.Insns {
		n := int(ins.Size() / asm.InstructionSize)
		for k := 0; k < n; k++ {
			slots = append(slots, len(slots)-removed)
		}
		if isNop(ins) {
			removed++
		}
	}
	if removed == 0 {
		return false
	}
	slots = append(slots, len(slots)-removed)
	var out asm.Instructions
	s := 0
	for _, ins := range p.Insns {
		n := int(ins.Size() / asm.InstructionSize)
		if !isNop(ins) {
			op := ins.OpCode
			switch {
			case ins.IsFunctionCall():
				ins.Constant = int64(slots[s+1+int(ins.Constant)] - slots[s] - 1)
			case op.Class() == asm.Jump32Class && op.JumpOp() == asm.Ja:
				ins.Constant = int64(slots[s+1+int(ins.Constant)] - slots[s] - 1)
			case op.Class().IsJump() && op.JumpOp() != asm.Call && op.JumpOp() != asm.Exit:
				ins.Offset = int16(slots[s+1+int(ins.Offset)] - slots[s] - 1)
			}
			out = append(out, ins)
		}
		s += n
	}
	for i := range p.Funcs {
		p.Funcs[i].Slot = slots[p.Funcs[i].Slot]
	}
	p.Insns = out
	return true
}

// dropMaps removes the maps no instruction refers to any more and renumbers
// the references; false if every map is used.
func dropMaps(q *Case) bool {
	used := make([]bool, len(q.P.Maps))
	for _, ins := range q.P.Insns {
		if ins.OpCode.IsDWordLoad() && ins.Src == asm.PseudoMapFD && int(ins.Constant) < len(used) {
			used[ins.Constant] = true
		}
	}
	index := make([]int64, len(q.P.Maps))
	var maps []*loader.Map
	for i, m := range q.P.Maps {
		index[i] = int64(len(maps))
		if used[i] {
			maps = append(maps, m)
		}
	}
	if len(maps) == len(q.P.Maps) {
		return false
	}
	for i := range q.P.Insns {
		if ins := &q.P.Insns[i]; ins.OpCode.IsDWordLoad() && ins.Src == asm.PseudoMapFD && int(ins.Constant) < len(index) {
			ins.Constant = index[ins.Constant]
		}
	}
	q.P.Maps = maps
	return true
}
