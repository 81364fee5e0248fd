package regalloc

import "fmt"

// This file allocates after instruction selection, over webs: the values
// of machine code, each living in one register bank (a machine whose
// instructions read one source from bank A and one from bank B, such as
// the NFP's). Selection decided each web's bank by the field it put each
// operand in, so an instruction's two register sources are in different
// banks by construction; what is left is the number. Webs written by one
// instruction to both banks, or read and written through one field, are
// tied: one number for all. A web may be fixed (the firmware ABI, a
// register the code relies on by number).

// Bank is a register bank.
type Bank uint8

const (
	BankA Bank = iota
	BankB
)

// Webs is the client's allocation problem.
type Webs interface {
	NumWebs() int
	Bank(w int) Bank
	// Fixed is the register a web must keep, if any.
	Fixed(w int) (int, bool)
	// Tied are pairs of webs that take one register number.
	Tied() [][2]int
	// Interf are the webs of w's bank w may not share a register with
	// (symmetric: each is live where the other is written).
	Interf(w int) []int
}

// BankConfig says which numbers a web may take.
type BankConfig struct {
	// Pool lists the register numbers free webs may take, in the order
	// tried: the first that fits, so that the code uses as few numbers
	// per bank as it can.
	Pool []int
	// Copies are pairs of webs joined by a move (a copy's destination and
	// source, of one bank): a web first tries the numbers its partners
	// already have, so that the move becomes a no-op.
	Copies [][2]int
}

// AllocBanks gives every web a register number: fixed webs their own,
// tied webs one number, webs that interfere different numbers in their
// bank. Webs are taken in index order (program order for a client that
// numbers them so), each tied group when its first web comes.
func AllocBanks(ws Webs, cfg BankConfig) ([]int, error) {
	n := ws.NumWebs()
	group := make([]int, n)
	for w := range group {
		group[w] = w
	}
	find := func(x int) int {
		for group[x] != x {
			group[x] = group[group[x]]
			x = group[x]
		}
		return x
	}
	for _, t := range ws.Tied() {
		x, y := find(t[0]), find(t[1])
		if x > y {
			x, y = y, x
		}
		group[y] = x
	}
	members := make([][]int, n)
	for w := 0; w < n; w++ {
		members[find(w)] = append(members[find(w)], w)
	}
	num := make([]int, n)
	for w := range num {
		num[w] = -1
	}
	partners := map[int][]int{}
	for _, c := range cfg.Copies {
		partners[c[0]] = append(partners[c[0]], c[1])
		partners[c[1]] = append(partners[c[1]], c[0])
	}
	// Fixed groups first: their numbers are given.
	for g, ms := range members {
		fixed := -1
		for _, w := range ms {
			if r, ok := ws.Fixed(w); ok {
				if fixed >= 0 && fixed != r {
					return nil, fmt.Errorf("webs %v are tied but fixed to %d and %d", ms, fixed, r)
				}
				fixed = r
			}
		}
		if fixed >= 0 {
			for _, w := range members[g] {
				num[w] = fixed
			}
		}
	}
	fits := func(ms []int, r int) bool {
		for _, w := range ms {
			for _, x := range ws.Interf(w) {
				if num[x] == r && ws.Bank(x) == ws.Bank(w) {
					return false
				}
			}
		}
		return true
	}
	for g, ms := range members {
		if len(ms) == 0 || num[ms[0]] >= 0 {
			continue
		}
		r := -1
		for _, c := range append(partnerNums(ms, partners, num), cfg.Pool...) {
			if fits(ms, c) {
				r = c
				break
			}
		}
		if r < 0 {
			return nil, fmt.Errorf("no register for webs %v (group %d): %d numbers, all taken", ms, g, len(cfg.Pool))
		}
		for _, w := range ms {
			num[w] = r
		}
	}
	// Every pair of interfering webs apart (a check of the above, and of
	// fixed webs the client gave clashing numbers).
	for w := 0; w < n; w++ {
		for _, x := range ws.Interf(w) {
			if num[x] == num[w] && ws.Bank(x) == ws.Bank(w) {
				return nil, fmt.Errorf("webs %d and %d interfere and both have register %d", w, x, num[w])
			}
		}
	}
	return num, nil
}

// partnerNums lists the numbers the copy partners of a group's webs
// already have (in the order of the group's webs and their copies).
func partnerNums(ms []int, partners map[int][]int, num []int) []int {
	var out []int
	for _, w := range ms {
		for _, p := range partners[w] {
			if num[p] >= 0 {
				out = append(out, num[p])
			}
		}
	}
	return out
}
