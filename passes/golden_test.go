package passes

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestGolden runs the cases of testdata/*.txtar: section "passes" names
// the passes to run (in that order, each followed by ir.CheckModule),
// section "in" is the IR with facts; "out" is the IR after them and
// "remarks" what they said (pass: remark per line). Each case is also
// executed (execCheck) before and after on random arguments that satisfy
// the input's facts, with identical results.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata/*.txtar", func(t *testing.T, a *golden.Archive) {
		m, err := ir.Parse(a.Section("in"))
		if err != nil {
			t.Fatalf("in: %v", err)
		}
		if err := ir.CheckModule(m); err != nil {
			t.Fatalf("in: %v", err)
		}
		before := cloneModule(m)
		var rs []Remark
		for _, name := range strings.Fields(a.Section("passes")) {
			p := Lookup(name)
			if p == nil {
				t.Fatalf("no pass %s", name)
			}
			r, err := RunPass(p, m, Config{Check: true})
			rs = append(rs, r...)
			if err != nil {
				t.Fatal(err)
			}
		}
		a.Check(t, "out", ir.Print(m))
		a.Check(t, "remarks", formatRemarks(rs))
		execCheck(t, before, m, 300)
	})
}

func formatRemarks(rs []Remark) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s: %s\n", r.Pass, r)
	}
	return b.String()
}

func cloneModule(m *ir.Module) *ir.Module {
	c := &ir.Module{}
	for _, f := range m.Funcs {
		c.Funcs = append(c.Funcs, f.Clone())
	}
	return c
}

// fakeMem is memory whose bytes are a hash of their address until written,
// so that two runs see the same contents.
type fakeMem struct{ w map[uint64]byte }

func (m *fakeMem) byteAt(a uint64) byte {
	if b, ok := m.w[a]; ok {
		return b
	}
	a ^= a >> 29
	a *= 0xbf58476d1ce4e5b9
	return byte(a >> 40)
}

func (m *fakeMem) Load(addr uint64, size int) (uint64, error) {
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(m.byteAt(addr+uint64(i)))
	}
	return v, nil
}

func (m *fakeMem) Store(addr uint64, size int, v uint64) error {
	for i := 0; i < size; i++ {
		m.w[addr+uint64(i)] = byte(v >> (8 * i))
	}
	return nil
}

func (m *fakeMem) String() string {
	var keys []uint64
	for k := range m.w {
		// The stack dies with the program: its bytes are not a result
		// (inlining moves frames, stackfwd drops stores nobody reads).
		if k < stackTop && k >= stackTop-8*ir.FrameSize {
			continue
		}
		keys = append(keys, k)
	}
	// Order-independent digest of the writes.
	var h uint64
	for _, k := range keys {
		h += (k*0x9e3779b97f4a7c15 ^ uint64(m.w[k])) * 0xbf58476d1ce4e5b9
	}
	return fmt.Sprintf("%d bytes written, digest %#x", len(keys), h)
}

const stackTop = 0x7000_0000

// run executes the module's first function on args in a fake world; the
// result is r0, the helper calls made and the memory written.
func run(m *ir.Module, args []uint64, checkFacts bool) (string, error) {
	mem := &fakeMem{w: map[uint64]byte{}}
	var calls []string
	mc := &ir.Machine{
		Module: m, Mem: mem, StackTop: stackTop, MaxSteps: 1 << 16, CheckFacts: checkFacts,
		PtrFacts: func(fa *ir.Facts, x, fp uint64) error {
			if len(fa.Le) > 0 {
				return fmt.Errorf("packet bounds are not modelled here")
			}
			return nil
		},
		Helper: func(id int64, a []uint64) (uint64, error) {
			calls = append(calls, fmt.Sprint(id, a))
			return uint64(id)*0x1234567 ^ uint64(len(calls)), nil
		},
		MapRef:   func(idx int64) (uint64, error) { return 0x4000_0000 + uint64(idx)<<8, nil },
		MapValue: func(idx, off int64) (uint64, error) { return 0x5000_0000 + uint64(idx)<<12 + uint64(off), nil },
		CtxPtr:   func(field uint64) (uint64, error) { return 0x2000_0000 + field<<4, nil },
		PktLoad: func(ctx, off uint64, size int) (uint64, error) {
			if off > 100 {
				return 0, ir.ErrPacketEnd
			}
			return off * 7, nil
		},
	}
	r, err := mc.Run(m.Funcs[0].Name, args...)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("r0=%#x calls=%v mem=%s", r, calls, mem), nil
}

// execCheck runs before and after on n random argument lists; inputs the
// original rejects (a fact violated, a trap, too many steps) are skipped.
func execCheck(t *testing.T, before, after *ir.Module, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	nargs := len(before.Funcs[0].Entry().Params)
	edges := []uint64{0, 1, 2, 7, 31, 32, 63, 64, 255, 1 << 31, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63, ^uint64(0)}
	ran := 0
	for i := 0; i < n; i++ {
		args := make([]uint64, nargs)
		for j := range args {
			switch rng.IntN(3) {
			case 0:
				args[j] = edges[rng.IntN(len(edges))]
			case 1:
				args[j] = uint64(rng.IntN(300))
			default:
				args[j] = rng.Uint64()
			}
		}
		want, err := run(before, args, true)
		if err != nil {
			continue
		}
		ran++
		got, err := run(after, args, false)
		if err != nil || got != want {
			t.Fatalf("args %#x: before the passes %s, after %s (err %v)", args, want, got, err)
		}
	}
	t.Logf("%d of %d inputs ran", ran, n)
}

// TestMagic32 checks the multiply-high division (unsigned and signed) for
// many divisors, negative ones too, on edge
// and random dividends, through the IR strength writes and the executor.
func TestMagic32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	divisors := []uint32{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 100, 641, 1000, 1 << 16, 65537, 1<<30 + 1, 1<<31 - 1, 1 << 31, 1<<31 + 1, 0xfffffffe, 0xffffffff,
		0xfffffffd, 0xfffffff9, 0xfffffff8, 0xffffff9c}
	for i := 0; i < 200; i++ {
		divisors = append(divisors, rng.Uint32()>>uint(rng.IntN(31)))
	}
	for _, c := range divisors {
		if c < 2 {
			continue
		}
		for _, op := range []string{"div32", "mod32", "sdiv32", "smod32"} {
			src := fmt.Sprintf("func f {\nb0(v0:i64):\n  v1:i32 = trunc v0\n  v2:i32 = const %d\n  v3:i32 = %s v1, v2\n  v4:i64 = zext v3\n  ret v4\n}\n", int32(c), op)
			m, err := ir.Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			before := cloneModule(m)
			if _, err := RunPass(Lookup("strength"), m, Config{Check: true}); err != nil {
				t.Fatal(err)
			}
			xs := []uint64{0, 1, uint64(c) - 1, uint64(c), uint64(c) + 1, 1<<32 - 1, 1<<32 - 2, 1 << 31, 1<<31 - 1, 1<<31 + 1, uint64(c) * 2, uint64(c)*3 - 1,
				uint64(-c), uint64(-c) + 1, uint64(-c) - 1}
			for j := 0; j < 300; j++ {
				xs = append(xs, uint64(rng.Uint32()))
			}
			for _, x := range xs {
				want, _ := run(before, []uint64{x}, false)
				got, _ := run(m, []uint64{x}, false)
				if got != want {
					t.Fatalf("%s by %d of %d: got %s, want %s\n%s", op, c, x, got, want, ir.Print(m))
				}
			}
		}
	}
}

// TestPipelineTable: the table's checks reject a broken order.
func TestPipelineTable(t *testing.T) {
	ps := []*Pass{
		{Name: "a", Min: O1, fn: deadcode},
		{Name: "b", Min: O1, fn: deadcode},
	}
	if err := build(ps, []constraint{{"b", "a", "a reads what b writes"}}); err == nil || !strings.Contains(err.Error(), "a reads what b writes") {
		t.Errorf("constraint violation not reported: %v", err)
	}
	if err := build(ps, []constraint{{"a", "b", "fine"}}); err != nil {
		t.Error(err)
	}
	if err := build([]*Pass{{Name: "x", Min: O1, Needs: []Prop{PropInlined}, fn: deadcode}}, nil); err == nil {
		t.Error("a need nobody establishes was accepted")
	}
	if err := build([]*Pass{{Name: "x", Required: true, Min: O1, fn: deadcode}}, nil); err == nil {
		t.Error("a required pass skipped at -O0 was accepted")
	}
	var c Config
	if err := c.ParseDebug("check,cse/debug,sccp/off"); err != nil || !c.Check || c.Flags["cse"] != "debug" || c.Enabled(Lookup("sccp")) {
		t.Errorf("ParseDebug: %v %+v", err, c)
	}
	for _, bad := range []string{"inline/off", "nosuch/debug", "cse/loud", "cse"} {
		if err := (&Config{}).ParseDebug(bad); err == nil {
			t.Errorf("-d=%s accepted", bad)
		}
	}
	for _, lv := range []Level{O0, O1, O2} {
		c := Config{Level: lv}
		for _, p := range Pipeline {
			if c.Enabled(p) != (p.Required || lv >= p.Min) {
				t.Errorf("%s at %s", p.Name, lv)
			}
		}
	}
}
