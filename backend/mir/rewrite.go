package mir

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
)

// What the webs (webs.go) are for: giving them registers (Rewrite), and
// checking the rewritten code against them (Recheck), with the figures and
// the table goldens show.

// Recheck analyses f — w's function after Rewrite(f, num) — again and
// reports whether it has the same webs (Same). The flow graph is w's
// (Rewrite changes registers, not control), and what only allocation
// needs (interference), most of an analysis's cost, is skipped.
func (w *Webs) Recheck(f *Func, num []int) error {
	v, err := analyzeWebs(f, w.fl, false)
	if err != nil {
		return err
	}
	return w.Same(v, num)
}

// Rewrite gives every web of f the register number num[web] (in the
// web's bank) and writes the narrowed wrboth writes to one bank.
func (w *Webs) Rewrite(f *Func, num []int) {
	for i, b := range w.Narrow {
		it := &f.Instrs[i]
		it.In, _ = isa.NarrowDest(it.In, b)
	}
	for _, r := range w.refs {
		it := &f.Instrs[r.instr]
		n := num[r.web]
		if it.Kind == ImmedRel {
			it.Dst.Num = n
			continue
		}
		field := r.field
		if _, ok := it.In.(isa.ImmedInstr); ok && !r.read {
			if _, narrowed := w.Narrow[int(r.instr)]; narrowed {
				field = isa.FieldA
				if r.res.Bank() == isa.BankB {
					field = isa.FieldB
				}
			}
		}
		it.In = isa.SetGPR(it.In, field, n)
	}
}

// Same reports whether v partitions the same references into webs as w
// (after w's narrowing) with the registers num gave them, and narrows
// nothing more: the check that a rewrite kept every read seeing the
// writes it saw. Fixed webs must keep their registers.
func (w *Webs) Same(v *Webs, num []int) error {
	if len(v.refs) != len(w.refs) {
		return fmt.Errorf("%d register references, was %d", len(v.refs), len(w.refs))
	}
	if len(v.Narrow) != 0 {
		return fmt.Errorf("%d more writes narrowed", len(v.Narrow))
	}
	// A fixed web read in another register (a helper's result, an entry
	// value) changes no partition: the new register's value is a web of
	// its own there.
	for x := 0; x < w.N; x++ {
		if w.Fixed[x] && num[x] != w.Res[x].Num() {
			return fmt.Errorf("web %d is fixed in %v but given %d", x, w.Res[x], num[x])
		}
	}
	// fwd[x] and rev[y] are the web each side's web pairs with, + 1.
	fwd, rev := make([]int32, w.N), make([]int32, v.N)
	pair := func(k int, x, y int32) error {
		if (x < 0) != (y < 0) {
			return fmt.Errorf("reference %d (word .%d): a write to both banks changed", k, w.refs[k].instr)
		}
		if x < 0 {
			return nil
		}
		if p := fwd[x] - 1; p >= 0 && p != y {
			return fmt.Errorf("word .%d: reference %d joins web %d to %d and %d", w.refs[k].instr, k, x, p, y)
		}
		if p := rev[y] - 1; p >= 0 && p != x {
			return fmt.Errorf("word .%d: reference %d's web %d joins webs %d and %d", w.refs[k].instr, k, y, p, x)
		}
		if v.Res[y].Num() != num[x] || v.Res[y].Bank() != w.Res[x].Bank() {
			return fmt.Errorf("word .%d: web %d is in %v, not %c%d", w.refs[k].instr, x, v.Res[y], "AB"[w.Res[x].Bank()], num[x])
		}
		fwd[x], rev[y] = y+1, x+1
		return nil
	}
	for k := range w.refs {
		if err := pair(k, w.refs[k].web, v.refs[k].web); err != nil {
			return err
		}
		if err := pair(k, w.refs[k].web2, v.refs[k].web2); err != nil {
			return err
		}
	}
	// The firmware's reads: the same registers, seeing the same webs.
	if len(v.implicit) != len(w.implicit) {
		return fmt.Errorf("%d implicit reads of live registers, was %d", len(v.implicit), len(w.implicit))
	}
	for k, x := range w.implicit {
		y := v.implicit[k]
		if x.instr != y.instr || x.res.Bank() != y.res.Bank() {
			return fmt.Errorf("word .%d: the firmware's reads changed", x.instr)
		}
		if p := fwd[x.web] - 1; p >= 0 && p != y.web {
			return fmt.Errorf("word .%d: the firmware's read of %v sees web %d, not %d", x.instr, y.res, y.web, p)
		}
		if p := rev[y.web] - 1; p >= 0 && p != x.web {
			return fmt.Errorf("word .%d: the firmware's read of %v joins webs %d and %d", x.instr, y.res, p, x.web)
		}
		fwd[x.web], rev[y.web] = y.web+1, x.web+1
	}
	return nil
}

// Used counts the register numbers the code names in each bank once num
// is applied.
func (w *Webs) Used(num []int) (a, b int) {
	var seen [2]uint32
	for k := 0; k < w.N; k++ {
		if w.Coded[k] {
			seen[w.Res[k].Bank()] |= 1 << uint(num[k])
		}
	}
	return bits.OnesCount32(seen[0]), bits.OnesCount32(seen[1])
}

// Table lists the webs the code names, one a line, in the order numbered: the register
// in the code and the one num gives it, "fixed", the webs it is tied to
// and those it interferes with. Goldens show it next to the code.
func (w *Webs) Table(num []int) string {
	ties := make([][]int, w.N)
	for _, t := range w.Tied {
		if t[0] != t[1] {
			ties[t[0]] = append(ties[t[0]], t[1])
			ties[t[1]] = append(ties[t[1]], t[0])
		}
	}
	var b strings.Builder
	for k := 0; k < w.N; k++ {
		if !w.Coded[k] {
			continue
		}
		fmt.Fprintf(&b, "w%d %v -> %c%d", k, w.Res[k], "AB"[w.Res[k].Bank()], num[k])
		if w.Fixed[k] {
			b.WriteString(" fixed")
		}
		if len(ties[k]) > 0 {
			slices.Sort(ties[k])
			fmt.Fprintf(&b, " tied %v", slices.Compact(ties[k]))
		}
		var in []int
		for _, x := range w.Interf[k] {
			if w.Coded[x] {
				in = append(in, x)
			}
		}
		if len(in) > 0 {
			fmt.Fprintf(&b, " interferes %v", in)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
