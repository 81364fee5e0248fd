package regalloc

import (
	"math/rand"
	"strings"
	"testing"
)

// mockWebs is a bank allocation problem written by hand.
type mockWebs struct {
	bank  []Bank
	fixed map[int]int
	tied  [][2]int
	edges [][2]int
}

func (m *mockWebs) NumWebs() int    { return len(m.bank) }
func (m *mockWebs) Bank(w int) Bank { return m.bank[w] }
func (m *mockWebs) Fixed(w int) (int, bool) {
	r, ok := m.fixed[w]
	return r, ok
}
func (m *mockWebs) Tied() [][2]int { return m.tied }
func (m *mockWebs) Interf(w int) []int {
	var out []int
	for _, e := range m.edges {
		switch w {
		case e[0]:
			out = append(out, e[1])
		case e[1]:
			out = append(out, e[0])
		}
	}
	return out
}

func pool(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// TestBanksShareNumbers: webs of different banks may take one number even
// where they interfere; webs of one bank that interfere may not.
func TestBanksShareNumbers(t *testing.T) {
	m := &mockWebs{bank: []Bank{BankA, BankB, BankA, BankB}, edges: [][2]int{{0, 2}, {1, 3}}}
	num, err := AllocBanks(m, BankConfig{Pool: pool(4)})
	if err != nil {
		t.Fatal(err)
	}
	if num[0] == num[2] || num[1] == num[3] {
		t.Errorf("interfering webs share a register: %v", num)
	}
	if num[0] != 0 || num[1] != 0 {
		t.Errorf("the first web of each bank takes the first number: %v", num)
	}
}

// TestBanksTied: tied webs (a write to both banks, a field read and
// written) take one number, which must fit every one of them.
func TestBanksTied(t *testing.T) {
	// 0 (A) and 1 (B) tied; 1 interferes with 2 (B), which comes first
	// in the fixed set: 0 must avoid 2's number even though 2 is in B.
	m := &mockWebs{bank: []Bank{BankA, BankB, BankB, BankA}, fixed: map[int]int{2: 0}, tied: [][2]int{{0, 1}}, edges: [][2]int{{1, 2}, {0, 3}}}
	num, err := AllocBanks(m, BankConfig{Pool: pool(4)})
	if err != nil {
		t.Fatal(err)
	}
	if num[0] != num[1] {
		t.Errorf("tied webs differ: %v", num)
	}
	if num[1] == num[2] {
		t.Errorf("web 1 took fixed web 2's register: %v", num)
	}
	if num[3] == num[0] {
		t.Errorf("web 3 took web 0's register: %v", num)
	}
}

// TestBanksFixed: fixed webs keep their registers, free ones go around
// them; a tied group with two different fixed numbers is an error.
func TestBanksFixed(t *testing.T) {
	m := &mockWebs{bank: []Bank{BankA, BankA, BankA}, fixed: map[int]int{0: 0, 1: 2}, edges: [][2]int{{0, 2}, {1, 2}}}
	num, err := AllocBanks(m, BankConfig{Pool: pool(4)})
	if err != nil {
		t.Fatal(err)
	}
	if num[0] != 0 || num[1] != 2 || num[2] != 1 {
		t.Errorf("got %v, want [0 2 1]", num)
	}
	m.tied = [][2]int{{0, 1}}
	if _, err := AllocBanks(m, BankConfig{Pool: pool(4)}); err == nil || !strings.Contains(err.Error(), "fixed") {
		t.Errorf("tied webs fixed to 0 and 2: err %v", err)
	}
}

// TestBanksExhausted: a clique larger than the pool is refused with an
// error, never a wrong allocation; fixed webs that clash are refused too.
func TestBanksExhausted(t *testing.T) {
	m := &mockWebs{bank: []Bank{BankA, BankA, BankA}, edges: [][2]int{{0, 1}, {1, 2}, {0, 2}}}
	if _, err := AllocBanks(m, BankConfig{Pool: pool(2)}); err == nil {
		t.Error("three interfering webs in two registers")
	}
	m = &mockWebs{bank: []Bank{BankB, BankB}, fixed: map[int]int{0: 3, 1: 3}, edges: [][2]int{{0, 1}}}
	if _, err := AllocBanks(m, BankConfig{Pool: pool(4)}); err == nil {
		t.Error("two interfering webs fixed to one register")
	}
}

// TestBanksRandom: on random problems every answer keeps interfering webs
// of a bank apart, tied webs together and fixed webs in place, is the same
// on every run.
func TestBanksRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	solved := 0
	defer func() {
		if solved < 150 {
			t.Errorf("only %d of 300 problems allocated", solved)
		}
	}()
	for k := 0; k < 300; k++ {
		n := 2 + rng.Intn(30)
		m := &mockWebs{bank: make([]Bank, n), fixed: map[int]int{}}
		for w := range m.bank {
			m.bank[w] = Bank(rng.Intn(2))
		}
		for e := 0; e < n*2; e++ {
			x, y := rng.Intn(n), rng.Intn(n)
			if x != y && m.bank[x] == m.bank[y] {
				m.edges = append(m.edges, [2]int{x, y})
			}
		}
		for e := 0; e < n/5; e++ {
			x, y := rng.Intn(n), rng.Intn(n)
			if x != y && m.bank[x] != m.bank[y] {
				m.tied = append(m.tied, [2]int{x, y})
			}
		}
		num, err := AllocBanks(m, BankConfig{Pool: pool(32)})
		if err != nil {
			// A tie may join webs that interfere (through their partner):
			// then no allocation exists and the error says so.
			continue
		}
		solved++
		again, _ := AllocBanks(m, BankConfig{Pool: pool(32)})
		for w := range num {
			if num[w] != again[w] {
				t.Fatalf("problem %d: not deterministic", k)
			}
		}
		for _, e := range m.edges {
			if num[e[0]] == num[e[1]] {
				t.Fatalf("problem %d: webs %d and %d interfere, both %d", k, e[0], e[1], num[e[0]])
			}
		}
		for _, p := range m.tied {
			if num[p[0]] != num[p[1]] {
				t.Fatalf("problem %d: tied webs %d, %d got %d, %d", k, p[0], p[1], num[p[0]], num[p[1]])
			}
		}
	}
}
