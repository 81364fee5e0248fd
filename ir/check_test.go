package ir

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestEveryOpInTestdata keeps the golden files covering the whole op table,
// so that the round trip is proven for every op's syntax.
func TestEveryOpInTestdata(t *testing.T) {
	seen := map[Op]bool{OpParam: true}
	files, _ := filepath.Glob("testdata/ok_*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := section(ar, "ir")
		m, err := Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, f := range m.Funcs {
			for _, b := range f.Blocks {
				for _, v := range b.Instrs {
					seen[v.Op] = true
				}
			}
		}
	}
	for op := OpInvalid + 1; op < opCount; op++ {
		if !seen[op] {
			t.Errorf("op %s appears in no testdata/ok_*.txtar", op)
		}
	}
}

// Invariants the text format cannot break (it builds them right), checked
// on IR built in Go, as a pass could break them.
func TestCheckBuiltIR(t *testing.T) {
	build := func() (*Func, *Block, *Value) {
		f := NewFunc("f")
		b := f.NewBlock()
		p := b.AddParam(I64)
		r := f.NewValue(OpRet, Void, p)
		b.Append(r)
		return f, b, r
	}
	if f, _, _ := build(); Check(f) != nil {
		t.Fatalf("valid IR rejected: %v", Check(f))
	}
	cases := []struct {
		name   string
		mutate func(f *Func, b *Block, r *Value)
		want   string
	}{
		{"wrong block", func(f *Func, b *Block, r *Value) { r.Block = f.NewBlock() }, "records the wrong block"},
		{"region on non-memory op", func(f *Func, b *Block, r *Value) { r.Region = RegionPkt }, "not a memory op"},
		{"targets on ret", func(f *Func, b *Block, r *Value) { r.Targets = []Target{{Block: b}} }, "has 1 targets"},
		{"missing operand", func(f *Func, b *Block, r *Value) { r.Args = nil }, "takes 1 operands"},
		{"nil operand", func(f *Func, b *Block, r *Value) { r.Args = []*Value{nil} }, "operand 1 is missing"},
		{"foreign value", func(f *Func, b *Block, r *Value) {
			g := NewFunc("g")
			r.Args = []*Value{g.NewBlock().AddParam(I64)}
		}, "not defined in this function"},
		{"duplicate ID", func(f *Func, b *Block, r *Value) { r.ID = b.Params[0].ID }, "used twice"},
		{"facts for a missing value", func(f *Func, b *Block, r *Value) { f.Facts[99] = &Facts{} }, "does not exist"},
		{"bad op", func(f *Func, b *Block, r *Value) { r.Op = opCount + 3 }, "cannot be an instruction"},
		{"six call args", func(f *Func, b *Block, r *Value) {
			p := b.Params[0]
			c := f.NewValue(OpCall, I64, p, p, p, p, p, p)
			c.Block = b
			b.Instrs = append([]*Value{c}, b.Instrs...)
		}, "at most 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, b, r := build()
			c.mutate(f, b, r)
			err := Check(f)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Check = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// A chain of blocks far deeper than any Go stack of recursive calls would
// allow for the dominator DFS: Dominators walks it iteratively.
func TestDominatorsLongChain(t *testing.T) {
	f := NewFunc("chain")
	const n = 100000
	blocks := make([]*Block, n)
	for i := range blocks {
		blocks[i] = f.NewBlock()
	}
	for i, b := range blocks {
		if i == n-1 {
			b.Append(f.NewValue(OpUnreachable, Void))
			continue
		}
		b.Append(&Value{Op: OpJump, Targets: []Target{{Block: blocks[i+1]}}, Pos: -1, ID: f.nextValue})
		f.nextValue++
	}
	d := Dominators(f)
	if len(d.RPO) != n || d.Idom(blocks[n-1]) != blocks[n-2] || !d.Dominates(blocks[0], blocks[n-1]) || d.Dominates(blocks[n-1], blocks[0]) {
		t.Fatal("wrong dominators on a chain")
	}
	if err := Check(f); err != nil {
		t.Fatal(err)
	}
}

// The memory flags of the op table agree with the op formats: every op
// with an address operand reads or writes memory, every writer is an
// Effect, and pure arithmetic touches nothing.
func TestOpMemoryFlags(t *testing.T) {
	for op := OpInvalid + 1; op < opCount; op++ {
		info := op.Info()
		if op.IsMemory() && !info.ReadsMem && !info.WritesMem {
			t.Errorf("%s has an address but touches no memory", op)
		}
		if info.WritesMem && !info.Effect {
			t.Errorf("%s writes memory but is not an Effect", op)
		}
		if info.Fmt == FmtArgs && op != OpPktLoad8 && op != OpPktLoad16 && op != OpPktLoad32 && (info.ReadsMem || info.WritesMem) {
			t.Errorf("%s is arithmetic but touches memory", op)
		}
	}
}

func TestValidName(t *testing.T) {
	for s, want := range map[string]bool{"xdp_prog": true, "a.b_c1": true, "_x": true, "": false, "1x": false, "x-y": false, "socket/0": false, "b12": false, "b12x": true} {
		if ValidName(s) != want {
			t.Errorf("ValidName(%q) = %v", s, !want)
		}
	}
}
