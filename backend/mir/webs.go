package mir

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/nfpcc/nfpcc/isa"
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
	// fl is the flow graph the webs were found on: Rewrite changes
	// registers only, so Recheck and DropSelfCopies use it again.
	fl *flow
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

// analysis is AnalyzeWebs's working state.
type analysis struct {
	f     *Func
	fl    *flow
	refs  []wref
	first []int32 // refs of word i: refs[first[i]:first[i+1]]
	live  *liveSets
	uf    unionFind
	entry [64]int32
	// impFirst is each word's first implicit-definition node: the node of
	// register r is impFirst[i] + the number of its implicit definitions
	// below r (impNode); -1 where it has none.
	impFirst []int32
	res      []Res       // per node: the register half it defines
	fixed    []bool      // per node: its web keeps its register
	used     []bool      // per node: its web is read
	in       [][64]int32 // the node each live register holds entering each word (-1: none)
	err      error

	fixedRes ResSet
	// interference: find which webs may not share a register (not
	// needed to re-check a rewrite).
	interference bool
}

// AnalyzeWebs finds the webs of f's GPRs. It refuses (an error) code whose
// registers or control it cannot follow; the caller then keeps the code's
// registers as they are.
func AnalyzeWebs(f *Func, cfg WebConfig) (*Webs, error) {
	fl, err := buildFlow(f, cfg)
	if err != nil {
		return nil, err
	}
	return analyzeWebs(f, fl, true)
}

// analyzeWebs analyses f over its flow graph fl.
func analyzeWebs(f *Func, fl *flow, interference bool) (*Webs, error) {
	a := &analysis{f: f, fl: fl, interference: interference}
	if err := a.collect(); err != nil {
		return nil, err
	}
	a.fixedRes = fl.fixed
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
	firstImp := int32(a.uf.n())
	a.impFirst = make([]int32, len(a.fl.after))
	for i := range a.fl.after {
		a.impFirst[i] = -1
		for s := a.fl.after[i].Defs; s != 0; s &= s - 1 {
			id := add(Res(bits.TrailingZeros64(uint64(s))))
			if a.impFirst[i] < 0 {
				a.impFirst[i] = id
			}
		}
	}
	fixedRes := a.fixedRes
	a.fixed = make([]bool, a.uf.n())
	a.used = make([]bool, a.uf.n())
	for _, id := range a.entry {
		a.fixed[id] = true
	}
	for id := firstImp; id < int32(a.uf.n()); id++ {
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

// impNode is the node of word i's implicit definition of register r.
func (a *analysis) impNode(i, r int) int32 {
	below := a.fl.after[i].Defs & (1<<uint(r) - 1)
	return a.impFirst[i] + int32(bits.OnesCount64(uint64(below)))
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
		st[r] = a.impNode(i, r)
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
	return i+1 < len(a.f.Instrs) && ReadsPrevALU(&a.f.Instrs[i+1])
}

// webs numbers the webs (in order of first reference), finds what each
// may not share a register with, and ties.
func (a *analysis) webs(narrow map[int]isa.Bank) (*Webs, error) {
	b := &webBuilder{a: a, w: &Webs{Narrow: narrow, fl: a.fl}, id: make([]int32, a.uf.n()), fixedRoot: make([]bool, a.uf.n())}
	for node, f := range a.fixed {
		if f {
			b.fixedRoot[a.uf.find(int32(node))] = true
		}
	}
	w := b.w
	w.refs = make([]wref, len(a.refs))
	for i := range a.f.Instrs {
		st := a.in[i]
		b.refsAt(i, &st)
		b.interfereAt(i, &st)
		b.pairsAt(i)
	}
	for k := range w.Interf {
		slices.Sort(w.Interf[k])
		w.Interf[k] = slices.Compact(w.Interf[k])
	}
	w.N = len(w.Res)
	return w, b.bad
}

// webBuilder is webs's working state.
type webBuilder struct {
	a         *analysis
	w         *Webs
	id        []int32 // union-find root → web + 1
	fixedRoot []bool
	bad       error
}

// web is the web of a node, numbered when first seen.
func (b *webBuilder) web(node int32) int {
	a, w := b.a, b.w
	root := a.uf.find(node)
	if k := int(b.id[root]) - 1; k >= 0 {
		if w.Res[k] != a.res[node] && b.bad == nil {
			b.bad = fmt.Errorf("web %d holds %v and %v", k, w.Res[k], a.res[node])
		}
		return k
	}
	k := len(w.Res)
	b.id[root] = int32(k + 1)
	w.Res = append(w.Res, a.res[node])
	w.Fixed = append(w.Fixed, b.fixedRoot[root] || a.fixedRes.has(a.res[node]))
	w.Interf = append(w.Interf, nil)
	w.Coded = append(w.Coded, false)
	return k
}

// clash records that node d's web may not share a register with the webs
// live (in liveSet, holding st) in its bank under other registers. Edges
// are listed as found, with repeats; webs makes them sets.
func (b *webBuilder) clash(d int32, liveSet ResSet, st *[64]int32) {
	if !b.a.interference {
		return
	}
	dr := b.a.res[d]
	for s := liveSet; s != 0; s &= s - 1 {
		r := Res(bits.TrailingZeros64(uint64(s)))
		if r == dr || r.Bank() != dr.Bank() || st[r] < 0 {
			continue
		}
		x, y := b.web(d), b.web(st[r])
		if x == y {
			b.bad = fmt.Errorf("web %d interferes with itself", x)
			return
		}
		b.w.Interf[x] = append(b.w.Interf[x], y)
		b.w.Interf[y] = append(b.w.Interf[y], x)
	}
}

// refsAt gives word i's references their webs, ties the halves of a
// write kept in both banks, and moves st over the word's writes.
func (b *webBuilder) refsAt(i int, st *[64]int32) {
	a, w := b.a, b.w
	for k, r := range a.refs[a.first[i]:a.first[i+1]] {
		out := r
		out.web = int32(b.web(r.web))
		if !r.read {
			st[r.res] = r.web
			if r.web2 >= 0 {
				out.web2 = int32(b.web(r.web2))
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
}

// interfereAt records what word i's writes and the firmware's reads and
// clobbers after it (st: the registers after its writes) imply.
func (b *webBuilder) interfereAt(i int, st *[64]int32) {
	a := b.a
	imp := a.fl.after[i]
	for u := imp.Uses; u != 0; u &= u - 1 {
		if r := bits.TrailingZeros64(uint64(u)); st[r] >= 0 {
			b.w.implicit = append(b.w.implicit, wref{instr: int32(i), read: true, res: Res(r), web: int32(b.web(st[r])), web2: -1})
		}
	}
	liveAfter := imp.Uses | a.live.out[i]&^imp.Defs
	for _, r := range a.refs[a.first[i]:a.first[i+1]] {
		if !r.read {
			b.clash(r.web, liveAfter, st)
			if r.web2 >= 0 {
				b.clash(r.web2, liveAfter, st)
			}
		}
	}
	for s := imp.Defs; s != 0; s &= s - 1 {
		r := bits.TrailingZeros64(uint64(s))
		st[r] = a.impNode(i, r)
	}
	for s := imp.Defs; s != 0; s &= s - 1 {
		b.clash(st[bits.TrailingZeros64(uint64(s))], a.live.out[i], st)
	}
}

// pairsAt records word i's copy (a move within one bank) and ties a
// field both read and written to one register.
func (b *webBuilder) pairsAt(i int) {
	a, w := b.a, b.w
	rs := w.refs[a.first[i]:a.first[i+1]]
	if it := &a.f.Instrs[i]; it.Kind == Plain {
		if alu, ok := it.In.(isa.ALUInstr); ok && alu.Op == isa.OpB {
			if len(rs) == 2 && rs[0].read && !rs[1].read && rs[1].web2 < 0 && rs[0].res.Bank() == rs[1].res.Bank() {
				w.Copies = append(w.Copies, [2]int{int(rs[1].web), int(rs[0].web)})
			}
		}
	}
	for _, rd := range rs {
		if !rd.read {
			continue
		}
		for _, wr := range rs {
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
