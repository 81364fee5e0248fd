package mir

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// This file turns the registers of selected code back into virtual
// registers: webs, the classic unit of register allocation on machine code
// (Muchnick, "Advanced Compiler Design and Implementation", §16.3). A web is
// one bank's half of a GPR from the writes that reach a common read to
// those reads; two webs of one register never hold a value at the same
// point, so any register that does not clash with the webs live where a web
// is written may replace its register. Selection writes every value to both
// banks (gpr_wrboth, as the Linux JIT): a write whose other half no read
// ever sees becomes a write to one bank, and the halves of a write that
// stays in both banks are tied (one register number).

// Res is one bank's half of a relative GPR: A0..A31 are 0..31, B0..B31
// are 32..63.
type Res uint8

// ResOf is the half of register n in bank b (A or B).
func ResOf(b isa.Bank, n int) Res {
	if b == isa.BankB {
		return Res(32 + n)
	}
	return Res(n)
}

// Bank and Num split a Res.
func (r Res) Bank() isa.Bank {
	if r >= 32 {
		return isa.BankB
	}
	return isa.BankA
}
func (r Res) Num() int { return int(r) & 31 }

func (r Res) String() string { return fmt.Sprintf("%c%d", "AB"[r/32], r.Num()) }

// ResSet is a set of Res.
type ResSet uint64

// Both is the set holding register n in both banks.
func Both(n int) ResSet { return 1<<uint(n) | 1<<uint(32+n) }

func (s ResSet) has(r Res) bool { return s>>r&1 != 0 }

// Implicit is what control passing through a load-time branch does to the
// registers beyond its words: a firmware helper reads its arguments and
// clobbers what it does not preserve; an exit reads the result.
type Implicit struct {
	Uses, Defs ResSet
}

// WebConfig says what the function's load-time branches imply (the
// firmware ABI, the caller's knowledge) and which registers no web may be
// given or taken from (Fixed: their webs keep them).
type WebConfig struct {
	Implicit func(it *Instr) (Implicit, error)
	Fixed    ResSet
}

// A wref is one register reference of an instruction: the web of a read,
// or the web(s) of a write (two for a gpr_wrboth write).
type wref struct {
	instr int32
	field isa.Field
	read  bool
	res   Res
	web   int32 // node, then web
	web2  int32 // the B half of a wrboth write, or -1
}

// Webs are a function's GPR webs.
type Webs struct {
	N     int
	Res   []Res  // each web's register (bank and number) in the code
	Fixed []bool // the web keeps its register
	// Tied are pairs of webs that must take one register number: the
	// halves of a write kept in both banks, or a field both read and
	// written (ld_field, immed_w).
	Tied [][2]int
	// Interf lists, per web, the webs of its bank it may not share a
	// register with (symmetric).
	Interf [][]int
	// Narrow are the wrboth writes that write one bank only: instruction
	// index → the bank kept.
	Narrow map[int]isa.Bank
	// Copies are the moves `alu[d, --, B, s]` within one bank as (web of
	// d, web of s): one register for both makes the move a no-op
	// (DropSelfCopies).
	Copies [][2]int
	// Coded marks the webs the code names (the others are registers
	// defined on entry or by a helper call that only constrain them).
	Coded []bool

	refs []wref
	// implicit are the reads the firmware ABI implies (WebConfig.Implicit)
	// with the webs they see: Same compares them too.
	implicit []wref
}

// instrRefs appends the GPR references of one instruction to buf.
func instrRefs(buf []isa.GPRRef, it *Instr) ([]isa.GPRRef, error) {
	switch it.Kind {
	case Plain:
		switch it.In.(type) {
		case isa.BranchInstr, isa.BrBitInstr, isa.BrByteInstr, isa.JumpInstr, isa.CtxArbInstr:
			// Control the flow graph would not see (selection writes
			// branches as Branch words).
			return nil, fmt.Errorf("%s: a branch as a plain word is not modelled", it.text())
		}
		refs, ok := isa.AppendGPRs(buf, it.In)
		if !ok {
			return nil, fmt.Errorf("the registers of %s are not modelled", it.text())
		}
		return refs, nil
	case ImmedRel:
		if it.Dst.Kind != isa.KGPR {
			return nil, fmt.Errorf("return address in %v", it.Dst)
		}
		return append(buf, isa.GPRRef{Field: isa.FieldDst, Bank: it.Dst.Bank, Num: it.Dst.Num, Write: true}), nil
	}
	return buf, nil
}

// flow is the control flow of a function: each word's successors, and
// what control leaving it through a load-time branch implies.
type flow struct {
	succ  [][]int32
	after []Implicit
}

// buildFlow finds each word's successors. A branch takes effect after its
// defer slots: the last slot is the word with the branch's successors. A
// helper call returns to the word after its slots (where its return
// address points). It refuses what that picture gets wrong: a branch into
// a defer slot (control arriving there runs on past the slots, the
// branch not taken), a branch past the last word, and a conditional
// helper call (the helper's clobbers would count on the path that does
// not call it too, leaving values there unprotected).
func buildFlow(f *Func, cfg WebConfig) (*flow, error) {
	n := len(f.Instrs)
	fl := &flow{succ: make([][]int32, n), after: make([]Implicit, n)}
	var jumped []int32 // words branches go to
	label := func(l Label) (int32, error) {
		if int(l) < 0 || int(l) >= len(f.Labels) || f.Labels[l] < 0 {
			return 0, fmt.Errorf("label L%d not placed", l)
		}
		if f.Labels[l] >= n {
			return 0, fmt.Errorf("label L%d is past the last word", l)
		}
		jumped = append(jumped, int32(f.Labels[l]))
		return int32(f.Labels[l]), nil
	}
	for i := 0; i+1 < n; i++ {
		fl.succ[i] = []int32{int32(i + 1)}
	}
	slotOf := make([]bool, n)
	for i := range f.Instrs {
		it := &f.Instrs[i]
		if it.Kind != Branch {
			continue
		}
		if slotOf[i] {
			return nil, fmt.Errorf("word .%d: a branch in a defer slot", i)
		}
		last := i + it.Defer
		if last >= n {
			return nil, fmt.Errorf("word .%d: defer slots past the end", i)
		}
		for k := i + 1; k <= last; k++ {
			if f.Instrs[k].Kind == Branch {
				return nil, fmt.Errorf("word .%d: a branch in a defer slot", k)
			}
			slotOf[k] = true
		}
		var targets []int32
		switch it.Reloc {
		case 0:
			t, err := label(it.Target)
			if err != nil {
				return nil, err
			}
			targets = append(targets, t)
		case image.RelocBrGoOut, image.RelocBrGoAbort:
			t, err := label(it.RelLbl)
			if err != nil {
				return nil, err
			}
			targets = append(targets, t)
		case image.RelocBrHelper:
			ret := false
			for k := i + 1; k <= last; k++ {
				if s := &f.Instrs[k]; s.Kind == ImmedRel {
					t, err := label(s.Target)
					if err != nil || int(t) != last+1 {
						return nil, fmt.Errorf("word .%d: a helper call that does not return after its defer slots", i)
					}
					ret = true
				}
			}
			if !ret || last+1 >= n {
				return nil, fmt.Errorf("word .%d: a helper call without its return address", i)
			}
			targets = append(targets, int32(last+1))
		case image.RelocBrNextPkt:
		default:
			return nil, fmt.Errorf("word .%d: load-time branch kind %d not modelled", i, it.Reloc)
		}
		if it.Reloc != 0 {
			imp, err := cfg.Implicit(it)
			if err != nil {
				return nil, fmt.Errorf("word .%d: %v", i, err)
			}
			if it.Cond != isa.BR && imp.Defs != 0 {
				return nil, fmt.Errorf("word .%d: a conditional load-time branch that clobbers registers", i)
			}
			fl.after[last] = imp
		}
		if it.Cond != isa.BR && last+1 < n {
			targets = append(targets, int32(last+1))
		}
		fl.succ[last] = targets
	}
	for _, t := range jumped {
		if slotOf[t] {
			return nil, fmt.Errorf("word .%d: a branch target in a defer slot", t)
		}
	}
	return fl, nil
}

// analysis is AnalyzeWebs's working state.
type analysis struct {
	f     *Func
	fl    *flow
	refs  []wref
	first []int32 // refs of word i: refs[first[i]:first[i+1]]
	live  *liveSets
	uf    unionFind
	entry [64]int32
	imp   map[[2]int32]int32 // (word, Res) → node of an implicit definition
	res   []Res              // per node: the register half it defines
	fixed []bool             // per node: its web keeps its register
	used  []bool             // per node: its web is read
	in    [][64]int32        // the node each live register holds entering each word (-1: none)
	err   error

	fixedRes ResSet
	// interference: find which webs may not share a register (not
	// needed to re-check a rewrite).
	interference bool
}

// AnalyzeWebs finds the webs of f's GPRs. It refuses (an error) code whose
// registers or control it cannot follow; the caller then keeps the code's
// registers as they are.
func AnalyzeWebs(f *Func, cfg WebConfig) (*Webs, error) { return analyzeWebs(f, cfg, true) }

// Recheck analyses f — w's function after Rewrite(f, num) — again and
// reports whether it has the same webs (Same). It skips what only
// allocation needs (interference), which is most of an analysis's cost.
func (w *Webs) Recheck(f *Func, cfg WebConfig, num []int) error {
	v, err := analyzeWebs(f, cfg, false)
	if err != nil {
		return err
	}
	return w.Same(v, num)
}

func analyzeWebs(f *Func, cfg WebConfig, interference bool) (*Webs, error) {
	fl, err := buildFlow(f, cfg)
	if err != nil {
		return nil, err
	}
	a := &analysis{f: f, fl: fl, imp: map[[2]int32]int32{}, interference: interference}
	if err := a.collect(); err != nil {
		return nil, err
	}
	a.fixedRes = cfg.Fixed
	a.nodes()
	a.reach()
	a.record()
	if a.err != nil {
		return nil, a.err
	}
	narrow := a.narrow()
	return a.webs(narrow)
}

// collect lists every word's register references and their reads and
// writes, and computes liveness.
func (a *analysis) collect() error {
	n := len(a.f.Instrs)
	a.first = make([]int32, n+1)
	use, def := make([]ResSet, n), make([]ResSet, n)
	var buf []isa.GPRRef
	for i := range a.f.Instrs {
		a.first[i] = int32(len(a.refs))
		rs, err := instrRefs(buf[:0], &a.f.Instrs[i])
		buf = rs
		if err != nil {
			return fmt.Errorf("word .%d: %v", i, err)
		}
		for _, r := range rs {
			if r.Num < 0 || r.Num > 31 {
				return fmt.Errorf("word .%d: register number %d", i, r.Num)
			}
			w := wref{instr: int32(i), field: r.Field, read: r.Read, res: ResOf(r.Bank, r.Num), web2: -1}
			switch {
			case r.Read:
				use[i] |= 1 << w.res
			case r.Bank == isa.BankBoth:
				w.web2 = 0
				def[i] |= Both(r.Num)
			default:
				def[i] |= 1 << w.res
			}
			a.refs = append(a.refs, w)
		}
	}
	a.first[n] = int32(len(a.refs))
	a.live = liveness(a.fl, use, def)
	return nil
}

// nodes makes the union-find's nodes: every write (two for wrboth), every
// implicit definition, and a definition on entry of every register.
func (a *analysis) nodes() {
	add := func(r Res) int32 {
		a.res = append(a.res, r)
		return a.uf.add()
	}
	for k := range a.refs {
		if r := &a.refs[k]; !r.read {
			r.web = add(r.res)
			if r.web2 >= 0 {
				r.web2 = add(r.res + 32)
			}
		}
	}
	for r := range a.entry {
		a.entry[r] = add(Res(r))
	}
	for i := range a.fl.after {
		for s := a.fl.after[i].Defs; s != 0; s &= s - 1 {
			r := bits.TrailingZeros64(uint64(s))
			a.imp[[2]int32{int32(i), int32(r)}] = add(Res(r))
		}
	}
	fixedRes := a.fixedRes
	a.fixed = make([]bool, a.uf.n())
	a.used = make([]bool, a.uf.n())
	for _, id := range a.entry {
		a.fixed[id] = true
	}
	for _, id := range a.imp {
		a.fixed[id] = true
	}
	for _, r := range a.refs {
		if !r.read && fixedRes.has(r.res) {
			a.fixed[r.web] = true
		}
		if r.web2 >= 0 && fixedRes.has(r.res+32) {
			a.fixed[r.web2] = true
		}
	}
}

// step moves st over word i: its writes, then what control leaving it
// implies. With reads set, each read's node is recorded and implicit reads
// mark their nodes used and fixed.
func (a *analysis) step(i int, st *[64]int32, reads bool) {
	refs := a.refs[a.first[i]:a.first[i+1]]
	if reads {
		for k := range refs {
			if r := &refs[k]; r.read {
				if st[r.res] < 0 {
					if a.err == nil {
						a.err = fmt.Errorf("word .%d reads %v, which nothing wrote", i, r.res)
					}
					continue
				}
				r.web = st[r.res]
				a.used[r.web] = true
			}
		}
	}
	for k := range refs {
		if r := &refs[k]; !r.read {
			st[r.res] = r.web
			if r.web2 >= 0 {
				st[r.res+32] = r.web2
			}
		}
	}
	imp := a.fl.after[i]
	if reads {
		for s := imp.Uses; s != 0; s &= s - 1 {
			if r := bits.TrailingZeros64(uint64(s)); st[r] >= 0 {
				a.used[st[r]], a.fixed[st[r]] = true, true
			}
		}
	}
	for s := imp.Defs; s != 0; s &= s - 1 {
		r := bits.TrailingZeros64(uint64(s))
		st[r] = a.imp[[2]int32{int32(i), int32(r)}]
	}
}

// reach joins, at every word, the nodes that may hold a live register
// there: forward to a fixed point from the entry, then from each word
// the entry does not reach (code the firmware enters after an exit, such
// as the outro), whose live registers count as defined on entry.
func (a *analysis) reach() {
	n := len(a.f.Instrs)
	a.in = make([][64]int32, n)
	seen := make([]bool, n)
	var work []int32
	start := func(i int) {
		for r := range a.in[i] {
			a.in[i][r] = -1
			if a.live.in[i].has(Res(r)) {
				a.in[i][r] = a.entry[r]
			}
		}
		seen[i] = true
		work = append(work, int32(i))
	}
	for next := 0; next < n; next++ {
		if seen[next] {
			continue
		}
		start(next)
		for len(work) > 0 {
			i := work[len(work)-1]
			work = work[:len(work)-1]
			st := a.in[i]
			a.step(int(i), &st, false)
			for _, s := range a.fl.succ[i] {
				changed := !seen[s]
				if !seen[s] {
					seen[s] = true
					for r := range a.in[s] {
						a.in[s][r] = -1
					}
				}
				for ls := a.live.in[s]; ls != 0; ls &= ls - 1 {
					r := bits.TrailingZeros64(uint64(ls))
					if st[r] < 0 {
						continue
					}
					if a.in[s][r] < 0 {
						a.in[s][r] = st[r]
						changed = true
					} else if a.uf.union(a.in[s][r], st[r]) {
						changed = true
					}
				}
				if changed {
					work = append(work, s)
				}
			}
		}
	}
}

// record gives every read its node.
func (a *analysis) record() {
	for i := range a.f.Instrs {
		st := a.in[i]
		a.step(i, &st, true)
	}
}

// narrow decides which gpr_wrboth writes keep one bank: those one of
// whose halves no read sees (and that is not fixed), where the format
// allows (a field both read and written keeps its own bank). It rewrites
// the reference to the half kept and returns word → bank kept.
func (a *analysis) narrow() map[int]isa.Bank {
	webUsed := make([]bool, a.uf.n())
	webFixed := make([]bool, a.uf.n())
	for id := range a.used {
		if a.used[id] {
			webUsed[a.uf.find(int32(id))] = true
		}
		if a.fixed[id] {
			webFixed[a.uf.find(int32(id))] = true
		}
	}
	dead := func(node int32) bool {
		w := a.uf.find(node)
		return !webUsed[w] && !webFixed[w] && !a.fixedRes.has(a.res[node])
	}
	out := map[int]isa.Bank{}
	for k := range a.refs {
		r := &a.refs[k]
		if r.read || r.web2 < 0 {
			continue
		}
		it := &a.f.Instrs[r.instr]
		if it.Kind != Plain {
			continue
		}
		readBank := isa.BankBoth // the bank a read of the same field needs kept
		for _, o := range a.refs[a.first[r.instr]:a.first[r.instr+1]] {
			if o.read && o.field == r.field {
				readBank = o.res.Bank()
			}
		}
		try := func(b isa.Bank) bool {
			if readBank != isa.BankBoth && b != readBank {
				return false
			}
			if _, ok := it.In.(isa.ImmedInstr); ok && a.immedPinned(int(r.instr)) {
				return false
			}
			_, ok := isa.NarrowDest(it.In, b)
			return ok
		}
		switch {
		case dead(r.web) && try(isa.BankB):
			r.res, r.web, r.web2 = r.res+32, r.web2, -1
			out[int(r.instr)] = isa.BankB
		case dead(r.web2) && try(isa.BankA):
			r.web2 = -1
			out[int(r.instr)] = isa.BankA
		}
	}
	return out
}

// immedPinned reports an immed whose fields must stay where they are:
// after local_csr_rd it receives the CSR's value, and before a word that
// takes the previous ALU instruction's A operand (an indirect shift) its
// A field is that operand. Narrowing an immed moves its destination to
// the other field.
func (a *analysis) immedPinned(i int) bool {
	if i > 0 {
		if p := &a.f.Instrs[i-1]; p.Kind == Plain {
			if c, ok := p.In.(isa.CSRInstr); ok && !c.Write {
				return true
			}
		}
	}
	return i+1 < len(a.f.Instrs) && readsLatch(&a.f.Instrs[i+1])
}

// webs numbers the webs (in order of first reference), finds what each
// may not share a register with, and ties.
func (a *analysis) webs(narrow map[int]isa.Bank) (*Webs, error) {
	w := &Webs{Narrow: narrow}
	id := make([]int32, a.uf.n()) // root → web + 1
	fixedRoot := make([]bool, a.uf.n())
	for node, f := range a.fixed {
		if f {
			fixedRoot[a.uf.find(int32(node))] = true
		}
	}
	var bad error
	web := func(node int32) int {
		root := a.uf.find(node)
		if k := int(id[root]) - 1; k >= 0 {
			if w.Res[k] != a.res[node] && bad == nil {
				bad = fmt.Errorf("web %d holds %v and %v", k, w.Res[k], a.res[node])
			}
			return k
		}
		k := len(w.Res)
		id[root] = int32(k + 1)
		w.Res = append(w.Res, a.res[node])
		w.Fixed = append(w.Fixed, fixedRoot[root] || a.fixedRes.has(a.res[node]))
		w.Interf = append(w.Interf, nil)
		w.Coded = append(w.Coded, false)
		return k
	}
	// Edges are listed as found (with repeats) and made sets at the end.
	edge := func(x, y int) {
		if x == y {
			bad = fmt.Errorf("web %d interferes with itself", x)
			return
		}
		w.Interf[x] = append(w.Interf[x], y)
		w.Interf[y] = append(w.Interf[y], x)
	}
	// clash: d's web may not share a register with the live webs of its
	// bank (other registers than its own).
	clash := func(d int32, liveSet ResSet, st *[64]int32) {
		if !a.interference {
			return
		}
		dr := a.res[d]
		for s := liveSet; s != 0; s &= s - 1 {
			r := Res(bits.TrailingZeros64(uint64(s)))
			if r != dr && r.Bank() == dr.Bank() && st[r] >= 0 {
				edge(web(d), web(st[r]))
			}
		}
	}
	w.refs = make([]wref, len(a.refs))
	for i := range a.f.Instrs {
		st := a.in[i]
		refs := a.refs[a.first[i]:a.first[i+1]]
		for k, r := range refs {
			out := r
			if r.read {
				out.web = int32(web(r.web))
			} else {
				out.web = int32(web(r.web))
				st[r.res] = r.web
				if r.web2 >= 0 {
					out.web2 = int32(web(r.web2))
					st[r.res+32] = r.web2
					w.Tied = append(w.Tied, [2]int{int(out.web), int(out.web2)})
				}
			}
			w.refs[int(a.first[i])+k] = out
			w.Coded[out.web] = true
			if out.web2 >= 0 {
				w.Coded[out.web2] = true
			}
		}
		imp := a.fl.after[i]
		for u := imp.Uses; u != 0; u &= u - 1 {
			if r := bits.TrailingZeros64(uint64(u)); st[r] >= 0 {
				w.implicit = append(w.implicit, wref{instr: int32(i), read: true, res: Res(r), web: int32(web(st[r])), web2: -1})
			}
		}
		liveAfter := imp.Uses | a.live.out[i]&^imp.Defs
		for _, r := range refs {
			if !r.read {
				clash(r.web, liveAfter, &st)
				if r.web2 >= 0 {
					clash(r.web2, liveAfter, &st)
				}
			}
		}
		for s := imp.Defs; s != 0; s &= s - 1 {
			r := bits.TrailingZeros64(uint64(s))
			st[r] = a.imp[[2]int32{int32(i), int32(r)}]
		}
		for s := imp.Defs; s != 0; s &= s - 1 {
			clash(st[bits.TrailingZeros64(uint64(s))], a.live.out[i], &st)
		}
		if it := &a.f.Instrs[i]; it.Kind == Plain {
			if alu, ok := it.In.(isa.ALUInstr); ok && alu.Op == isa.OpB {
				rs := w.refs[a.first[i]:a.first[i+1]]
				if len(rs) == 2 && rs[0].read && !rs[1].read && rs[1].web2 < 0 && rs[0].res.Bank() == rs[1].res.Bank() {
					w.Copies = append(w.Copies, [2]int{int(rs[1].web), int(rs[0].web)})
				}
			}
		}
		// A field both read and written names one register.
		for _, rd := range w.refs[a.first[i]:a.first[i+1]] {
			if !rd.read {
				continue
			}
			for _, wr := range w.refs[a.first[i]:a.first[i+1]] {
				if wr.read || wr.field != rd.field {
					continue
				}
				half := wr.web
				if wr.web2 >= 0 && rd.res.Bank() == isa.BankB {
					half = wr.web2
				}
				w.Tied = append(w.Tied, [2]int{int(rd.web), int(half)})
			}
		}
	}
	for k := range w.Interf {
		slices.Sort(w.Interf[k])
		w.Interf[k] = slices.Compact(w.Interf[k])
	}
	w.N = len(w.Res)
	return w, bad
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
	fwd, rev := map[int32]int32{}, map[int32]int32{}
	pair := func(k int, x, y int32) error {
		if (x < 0) != (y < 0) {
			return fmt.Errorf("reference %d (word .%d): a write to both banks changed", k, w.refs[k].instr)
		}
		if x < 0 {
			return nil
		}
		if p, ok := fwd[x]; ok && p != y {
			return fmt.Errorf("word .%d: reference %d joins web %d to %d and %d", w.refs[k].instr, k, x, p, y)
		}
		if p, ok := rev[y]; ok && p != x {
			return fmt.Errorf("word .%d: reference %d's web %d joins webs %d and %d", w.refs[k].instr, k, y, p, x)
		}
		if v.Res[y].Num() != num[x] || v.Res[y].Bank() != w.Res[x].Bank() {
			return fmt.Errorf("word .%d: web %d is in %v, not %c%d", w.refs[k].instr, x, v.Res[y], "AB"[w.Res[x].Bank()], num[x])
		}
		fwd[x], rev[y] = y, x
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
		if p, ok := fwd[x.web]; ok && p != y.web {
			return fmt.Errorf("word .%d: the firmware's read of %v sees web %d, not %d", x.instr, y.res, y.web, p)
		}
		if p, ok := rev[y.web]; ok && p != x.web {
			return fmt.Errorf("word .%d: the firmware's read of %v joins webs %d and %d", x.instr, y.res, p, x.web)
		}
		fwd[x.web], rev[y.web] = y.web, x.web
	}
	return nil
}

// unionFind joins nodes into sets.
type unionFind struct{ parent []int32 }

func (u *unionFind) add() int32 {
	u.parent = append(u.parent, int32(len(u.parent)))
	return int32(len(u.parent) - 1)
}

func (u *unionFind) n() int { return len(u.parent) }

func (u *unionFind) find(x int32) int32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// union joins the sets of x and y; false if they were one already.
func (u *unionFind) union(x, y int32) bool {
	x, y = u.find(x), u.find(y)
	if x == y {
		return false
	}
	if x < y {
		x, y = y, x
	}
	u.parent[x] = y
	return true
}

// liveSets are the registers live entering and leaving each word.
type liveSets struct{ in, out []ResSet }

// liveness is the backward dataflow: a word's reads, and what is live
// after it less what it writes; control leaving through a load-time
// branch adds its implicit reads after its implicit writes.
func liveness(fl *flow, use, def []ResSet) *liveSets {
	n := len(use)
	l := &liveSets{in: make([]ResSet, n), out: make([]ResSet, n)}
	for changed := true; changed; {
		changed = false
		for i := n - 1; i >= 0; i-- {
			var out ResSet
			for _, s := range fl.succ[i] {
				out |= l.in[s]
			}
			imp := fl.after[i]
			in := use[i] | (imp.Uses|out&^imp.Defs)&^def[i]
			if out != l.out[i] || in != l.in[i] {
				l.out[i], l.in[i] = out, in
				changed = true
			}
		}
	}
	return l
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
