package mir

import (
	"fmt"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// The flow graph and liveness the webs (webs.go) are built on: machine
// code's words with their successors, and the register halves live at
// each.

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

// flow is the control flow of a function: each word's successors, and
// what control leaving it through a load-time branch implies.
type flow struct {
	succ  [][]int32
	after []Implicit
	fixed ResSet // WebConfig.Fixed
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
	fl := &flow{succ: make([][]int32, n), after: make([]Implicit, n), fixed: cfg.Fixed}
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
