package regalloc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// mock is a function written as text, one block a line:
//
//	b0(v0 v1): v2 = v0 v1; call v2; use v2 -> b1 b2
//
// `vK = …` defines vK from the listed uses, `use …` only reads, `call …`
// reads and clobbers the registers calls do not preserve, `-> …` lists the
// successors.
type mock struct {
	blocks []mockBlock
}

type mockBlock struct {
	params []Value
	instrs []mockInstr
	succs  []int
}

type mockInstr struct {
	def  Value
	has  bool
	uses []Value
	call bool
}

func parseMock(t *testing.T, src string) *mock {
	t.Helper()
	m := &mock{}
	val := func(s string) Value {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "v"))
		if err != nil || !strings.HasPrefix(s, "v") {
			t.Fatalf("bad value %q", s)
		}
		return Value(n)
	}
	for _, line := range strings.Split(strings.TrimSpace(src), "\n") {
		line = strings.TrimSpace(line)
		var b mockBlock
		head, body, _ := strings.Cut(line, ":")
		if i := strings.IndexByte(head, '('); i >= 0 {
			for _, p := range strings.Fields(strings.Trim(head[i:], "()")) {
				b.params = append(b.params, val(p))
			}
		}
		body, succs, _ := strings.Cut(body, "->")
		for _, s := range strings.Fields(succs) {
			n, _ := strconv.Atoi(strings.TrimPrefix(s, "b"))
			b.succs = append(b.succs, n)
		}
		for _, in := range strings.Split(body, ";") {
			fs := strings.Fields(in)
			if len(fs) == 0 {
				continue
			}
			var mi mockInstr
			switch {
			case len(fs) >= 2 && fs[1] == "=":
				mi.def, mi.has = val(fs[0]), true
				fs = fs[2:]
				if len(fs) > 0 && fs[0] == "call" {
					mi.call, fs = true, fs[1:]
				}
			case fs[0] == "use":
				fs = fs[1:]
			case fs[0] == "call":
				mi.call, fs = true, fs[1:]
			}
			for _, u := range fs {
				mi.uses = append(mi.uses, val(u))
			}
			b.instrs = append(b.instrs, mi)
		}
		m.blocks = append(m.blocks, b)
	}
	return m
}

func (m *mock) NumBlocks() int       { return len(m.blocks) }
func (m *mock) Succs(b int) []int    { return m.blocks[b].succs }
func (m *mock) Params(b int) []Value { return m.blocks[b].params }
func (m *mock) NumInstrs(b int) int  { return len(m.blocks[b].instrs) }
func (m *mock) IsCall(b, i int) bool { return m.blocks[b].instrs[i].call }
func (m *mock) Def(b, i int) (Value, bool) {
	in := m.blocks[b].instrs[i]
	return in.def, in.has
}
func (m *mock) Uses(b, i int, dst []Value) []Value {
	return append(dst, m.blocks[b].instrs[i].uses...)
}

// checkAllocation is an oracle independent of Intervals: liveness per
// program point by backward iteration to a fixed point, then no two values
// live at one point (or defined where the other is live after) share a
// register, and a value live across a call holds preserved registers only.
func checkAllocation(t *testing.T, m *mock, cfg Config, res *Result) {
	t.Helper()
	liveIn := make([]map[Value]bool, len(m.blocks))
	for i := range liveIn {
		liveIn[i] = map[Value]bool{}
	}
	// after[b][i] is the set live right after instruction i of block b.
	after := make([][]map[Value]bool, len(m.blocks))
	for changed := true; changed; {
		changed = false
		for b := len(m.blocks) - 1; b >= 0; b-- {
			blk := m.blocks[b]
			live := map[Value]bool{}
			for _, s := range blk.succs {
				for v := range liveIn[s] {
					live[v] = true
				}
			}
			after[b] = make([]map[Value]bool, len(blk.instrs))
			for i := len(blk.instrs) - 1; i >= 0; i-- {
				cp := map[Value]bool{}
				for v := range live {
					cp[v] = true
				}
				after[b][i] = cp
				in := blk.instrs[i]
				if in.has {
					delete(live, in.def)
				}
				for _, u := range in.uses {
					live[u] = true
				}
			}
			for _, p := range blk.params {
				delete(live, p)
			}
			if !sameSet(live, liveIn[b]) {
				liveIn[b] = live
				changed = true
			}
		}
	}
	conflict := func(set map[Value]bool, where string) {
		owner := map[int]Value{}
		for v := range set {
			for _, r := range res.Regs[v] {
				if o, dup := owner[r]; dup && o != v {
					t.Errorf("%s: v%d and v%d both live in register %d", where, o, v, r)
				}
				owner[r] = v
			}
		}
	}
	for b, blk := range m.blocks {
		for i, in := range blk.instrs {
			set := map[Value]bool{}
			for v := range after[b][i] {
				set[v] = true
			}
			if in.has {
				set[in.def] = true
			}
			conflict(set, fmt.Sprintf("b%d.%d", b, i))
			if in.call {
				for v := range after[b][i] {
					if v == in.def {
						continue
					}
					for _, r := range res.Regs[v] {
						if !contains(cfg.Preserved, r) {
							t.Errorf("b%d.%d: v%d lives across the call in register %d, which calls clobber", b, i, v, r)
						}
					}
				}
			}
		}
		set := map[Value]bool{}
		for v := range liveIn[b] {
			set[v] = true
		}
		for _, p := range blk.params {
			set[p] = true
		}
		conflict(set, fmt.Sprintf("b%d entry", b))
	}
	// Every value is placed exactly once: registers or a slot, and with
	// as many registers as it needs.
	for v, regs := range res.Regs {
		if _, s := res.Slot[v]; s {
			t.Errorf("v%d has registers and a spill slot", v)
		}
		if n := need(cfg, v); len(regs) != n {
			t.Errorf("v%d has %d registers, needs %d", v, len(regs), n)
		}
	}
}

func need(cfg Config, v Value) int {
	if cfg.Need == nil {
		return 1
	}
	return cfg.Need(v)
}

func sameSet(a, b map[Value]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for v := range a {
		if !b[v] {
			return false
		}
	}
	return true
}

func contains(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// loop: v1 is defined before the loop and read in its body: it stays live
// around the back edge, so the body's temporaries never take its register.
const loop = `
b0(v0): v1 = v0; v2 = v0 -> b1
b1(v3): v4 = v3 v1; v5 = v4; use v5 -> b1 b2
b2: use v1 v3
`

func TestLoopLiveness(t *testing.T) {
	m := parseMock(t, loop)
	cfg := Config{Pool: []int{1, 2, 3, 4, 5}}
	res, err := Allocate(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkAllocation(t, m, cfg, res)
	for _, iv := range Intervals(m) {
		if iv.Value == 1 && iv.End < 2*6 {
			t.Errorf("v1's interval ends at %d, before the loop's last point", iv.End)
		}
	}
}

func TestCallsKeepPreserved(t *testing.T) {
	m := parseMock(t, `
b0(v0): v1 = v0; v2 = call v0; v3 = v1 v2; use v3
`)
	cfg := Config{Pool: []int{1, 2, 3}, Preserved: []int{12, 13}, Prefer: func(v Value) []int {
		if v == 2 {
			return []int{0}
		}
		return nil
	}}
	res, err := Allocate(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkAllocation(t, m, cfg, res)
	if r := res.Regs[1]; len(r) != 1 || r[0] != 12 {
		t.Errorf("v1 lives across the call in %v, want the first preserved register 12", r)
	}
	if r := res.Regs[2]; len(r) != 1 || r[0] != 0 {
		t.Errorf("the call's result is in %v, want its preferred register 0", r)
	}
	// Without preserved registers there is no place for v1.
	cfg.Preserved = nil
	if _, err := Allocate(m, cfg); err == nil || !err.(*Error).CrossCall || err.(*Error).Value != 1 {
		t.Errorf("no preserved registers: got %v, want v1 out of registers a call preserves", err)
	}
}

func TestSpillsLongestAndSharesSlots(t *testing.T) {
	// Up to four values are live at once (v0 to the end, v1 until v4's
	// use, v2 and v3): with three registers one goes to memory, the one
	// whose range ends last (v0); values that may not be spilled stay.
	m := parseMock(t, `
b0(v0): v1 = v0; v2 = v0; v3 = v2; use v3 v2; v4 = v0; use v4 v1; v5 = v4; v6 = v5; use v6 v5 v0
`)
	cfg := Config{Pool: []int{1, 2, 3}, Spill: true}
	res, err := Allocate(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkAllocation(t, m, cfg, res)
	if len(res.Slot) == 0 {
		t.Fatalf("nothing spilled with 3 registers: %v", res.Regs)
	}
	if _, ok := res.Slot[0]; !ok {
		t.Errorf("spilled %v, want v0 (its range ends last) among them", res.Slot)
	}
	if res.Slots > len(res.Slot) {
		t.Errorf("%d slots for %d spilled values", res.Slots, len(res.Slot))
	}
	// Without spilling the same function does not fit.
	cfg.Spill = false
	if _, err := Allocate(m, cfg); err == nil {
		t.Error("fits in 3 registers without spilling")
	}
	// A value that may not be spilled keeps its registers.
	cfg.Spill = true
	cfg.CanSpill = func(v Value) bool { return v != 0 }
	res, err = Allocate(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Slot[0]; ok {
		t.Error("v0 spilled although CanSpill says no")
	}
	checkAllocation(t, m, cfg, res)
}

func TestPairsAndHints(t *testing.T) {
	m := parseMock(t, `
b0(v0): v1 = v0; use v1 -> b1
b1(v2): v3 = v2; v4 = v3 v2; use v4
`)
	cfg := Config{
		Pool: []int{1, 2, 3, 4, 5, 6},
		Need: func(v Value) int {
			if v == 3 {
				return 2
			}
			return 1
		},
		// v1 flows into b1's parameter v2 along the edge.
		Partners: func(v Value) []Value {
			if v == 1 {
				return []Value{2}
			}
			return nil
		},
	}
	res, err := Allocate(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkAllocation(t, m, cfg, res)
	if r := res.Regs[3]; len(r) != 2 || r[0] == r[1] {
		t.Errorf("v3 needs a pair, got %v", r)
	}
	// v2 is placed after v1 (later start): the hint can only help v1 when
	// its partner is placed first, so here it has no effect, and a hint
	// must never make a conflict (checkAllocation).
	res2, _ := Allocate(m, cfg)
	if !reflect.DeepEqual(res, res2) {
		t.Error("two allocations of one function differ")
	}
}

// TestRandomFunctions allocates generated functions (straight code, calls,
// branches and loops over block parameters) with pools of every size and
// checks each against the independent liveness oracle.
func TestRandomFunctions(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		m := randomMock(rand.New(rand.NewPCG(seed, 7)))
		for _, pool := range [][]int{{1, 2}, {1, 2, 3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}} {
			cfg := Config{Pool: pool, Preserved: []int{20, 21, 22}, Spill: true,
				Need: func(v Value) int { return 1 + int(v)%2 }}
			res, err := Allocate(m, cfg)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("seed %d: %v", seed, err)
				}
				continue // a pair or a call-crossing value that cannot fit: reported, fine
			}
			checkAllocation(t, m, cfg, res)
			if t.Failed() {
				t.Fatalf("seed %d pool %v", seed, pool)
			}
		}
	}
}

// randomMock builds a function whose every use is dominated by its
// definition: blocks in a chain with forward branches and loops back to a
// header, values flowing through block parameters.
func randomMock(r *rand.Rand) *mock {
	nb := 1 + r.IntN(5)
	m := &mock{blocks: make([]mockBlock, nb)}
	next := Value(0)
	var avail []Value // values defined in blocks dominating the current one (the chain)
	for b := 0; b < nb; b++ {
		blk := &m.blocks[b]
		if b > 0 && r.IntN(2) == 0 {
			blk.params = []Value{next}
			avail = append(avail, next)
			next++
		}
		if b == 0 {
			blk.params = []Value{next}
			avail = append(avail, next)
			next++
		}
		for i := r.IntN(8); i >= 0; i-- {
			var in mockInstr
			for k := r.IntN(3); k > 0; k-- {
				in.uses = append(in.uses, avail[r.IntN(len(avail))])
			}
			in.call = r.IntN(6) == 0
			if r.IntN(4) != 0 {
				in.def, in.has = next, true
				avail = append(avail, next)
				next++
			}
			blk.instrs = append(blk.instrs, in)
		}
		if b+1 < nb {
			blk.succs = append(blk.succs, b+1)
			if r.IntN(3) == 0 {
				blk.succs = append(blk.succs, r.IntN(b+1)) // a loop back
			}
		}
	}
	return m
}
