package sched

import (
	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/isa"
)

// maxDefer is the most defer slots an unconditional branch may have (the
// kernel refuses more: "branch defer out of bounds").
const maxDefer = 2

// Defer moves up to two instructions before an unconditional branch into
// its defer slots. The words still run in the same order before control
// reaches the target; only the branch is issued earlier, which hides its
// latency. A label on a moved word other than the first would make the
// words it reaches run after the branch's decision out of order, so the
// run stops at labels; a label on the first moved word now names the
// branch, which runs the same words.
func Defer(f *mir.Func) int {
	at := f.LabelsAt()
	slot := f.DeferSlots()
	n := 0
	for i := range f.Instrs {
		b := f.Instrs[i]
		if b.Kind != mir.Branch || b.Cond != isa.BR || b.Defer != 0 || at[i] || slot[i] {
			continue
		}
		k := 0
		for k < maxDefer {
			j := i - k - 1
			if j < 0 || !movable(&f.Instrs[j]) || slot[j] || j > 0 && isCSR(&f.Instrs[j-1]) {
				break // (local_csr_rd's immed[dst, 0] stays right after it)
			}
			k++
			if at[j] {
				break // the first moved word may carry a label
			}
		}
		if k == 0 {
			continue
		}
		j := i - k
		copy(f.Instrs[j+1:i+1], f.Instrs[j:i])
		b.Defer = k
		b.PC = f.Instrs[j+1].PC
		f.Instrs[j] = b
		for m := j + 1; m <= i; m++ {
			slot[m] = true
		}
		n += k
	}
	return n
}

// Flags drops a compare of a register with zero before beq/bne when the
// instruction before it wrote that register and set Z from the value
// (every alu and shift-format word; ld_field when asked with load_cc,
// which it then is). Not across a label (code jumping to the compare
// needs it), nor in defer slots, nor within four words of a CSR access
// (the LM pointer's and CSRs' latencies count words).
func Flags(f *mir.Func) int {
	at := f.LabelsAt()
	slot := f.DeferSlots()
	del := make([]bool, len(f.Instrs))
	n := 0
	for i := 1; i+1 < len(f.Instrs); i++ {
		c, b := &f.Instrs[i], &f.Instrs[i+1]
		if at[i] || slot[i] || slot[i+1] || b.Kind != mir.Branch || b.Reloc != 0 || (b.Cond != isa.BEQ && b.Cond != isa.BNE) {
			continue
		}
		r, ok := zeroTest(c)
		if !ok || csrNear(f, i) || del[i-1] {
			continue
		}
		if p := &f.Instrs[i-1]; setsZFrom(p, r) {
			del[i] = true
			n++
		}
	}
	if n > 0 {
		f.Delete(del)
	}
	return n
}

// zeroTest matches alu[--, r, XOR|OR, 0] (either side) and returns r.
func zeroTest(it *mir.Instr) (isa.Operand, bool) {
	in, ok := it.In.(isa.ALUInstr)
	if it.Kind != mir.Plain || !ok || it.Reloc != 0 || (in.Op != isa.OpXor && in.Op != isa.OpOr) || in.Flags&isa.FlagNoCC != 0 {
		return isa.Operand{}, false
	}
	if !in.Dest(isa.Ctx4).IsNone() {
		return isa.Operand{}, false
	}
	l, r := in.Sources(isa.Ctx4)
	switch {
	case l.Kind == isa.KGPR && r.IsImm() && r.Value == 0:
		return l, true
	case r.Kind == isa.KGPR && l.IsImm() && l.Value == 0:
		return r, true
	}
	return isa.Operand{}, false
}

// writes reports whether destination d writes GPR r.
func writes(d, r isa.Operand) bool {
	return d.Kind == isa.KGPR && d.Num == r.Num && (d.Bank == isa.BankBoth || d.Bank == r.Bank)
}

// setsZFrom reports whether p writes r and leaves Z = (r == 0), making it
// do so where a flag allows (ld_field's load_cc).
func setsZFrom(p *mir.Instr, r isa.Operand) bool {
	if p.Kind != mir.Plain {
		return false
	}
	switch in := p.In.(type) {
	case isa.ALUInstr:
		arith := aluSimple(in.Op) || in.Op == isa.OpAddCarry || in.Op == isa.OpSubCarry
		return arith && in.Flags&isa.FlagNoCC == 0 && writes(in.Dest(isa.Ctx4), r)
	case isa.ShfInstr:
		return in.Flags&isa.FlagNoCC == 0 && in.Op != isa.ShfByteAlign && writes(in.Dest(isa.Ctx4), r)
	case isa.LdFieldInstr:
		d, _ := in.Operands(isa.Ctx4)
		if !writes(d, r) {
			return false
		}
		in.LoadCC = true
		p.In = in
		return true
	}
	return false
}

// csrNear reports a CSR access within the four words before i.
func csrNear(f *mir.Func, i int) bool {
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if isCSR(&f.Instrs[j]) {
			return true
		}
	}
	return false
}

func isCSR(it *mir.Instr) bool {
	_, ok := it.In.(isa.CSRInstr)
	return it.Kind == mir.Plain && ok
}
