package ir

import "testing"

const editSrc = `func f {
b0(v0:i64):
  v1:i64 = const 1
  v2:i64 = add64 v0, v1 !range[1,10]
  jeq64 v2, v1, b1(v2, v1), b2
b1(v3:i64, v4:i64 !range[1,1]):
  ret v3
b2:
  ret v1
}
`

// A pass-like edit sequence: fold a branch, drop the dead block and the
// useless parameter, replace a value; the result checks and prints as
// expected.
func TestEdits(t *testing.T) {
	m, err := Parse(editSrc)
	if err != nil {
		t.Fatal(err)
	}
	f := m.Funcs[0]
	b0, b1 := f.Blocks[0], f.Blocks[1]
	// Fold the branch to a jump to b1.
	br := b0.Terminator()
	j := f.NewValue(OpJump, Void)
	j.Targets = []Target{br.Targets[0]}
	b0.Remove(br)
	b0.Append(j)
	if n := f.RemoveUnreachable(); n != 1 {
		t.Fatalf("RemoveUnreachable = %d, want 1", n)
	}
	f.RemoveParam(b1, 1)
	// Replace v2 = v0 + 1 by a constant computed elsewhere.
	v2 := b0.Instrs[1]
	c := f.NewValue(OpConst, I64)
	c.Imm = 7
	b0.InsertBefore(1, c)
	if n := f.ReplaceUses(v2, c); n != 1 {
		t.Fatalf("ReplaceUses = %d, want 1", n)
	}
	if u := f.Uses(); u[v2] != 0 || u[c] != 1 {
		t.Fatalf("Uses: v2 %d, c %d", u[v2], u[c])
	}
	b0.Remove(v2)
	if err := Check(f); err != nil {
		t.Fatal(err)
	}
	f.Renumber()
	want := `func f {
b0(v0:i64):
  v1:i64 = const 1
  v2:i64 = const 7
  jump b1(v2)
b1(v3:i64):
  ret v3
}
`
	if got := f.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if len(f.Facts) != 0 {
		t.Errorf("facts of removed values remain: %v", f.Facts)
	}
}

// A clone prints like the original, checks, and shares nothing with it.
func TestClone(t *testing.T) {
	m, err := Parse(editSrc)
	if err != nil {
		t.Fatal(err)
	}
	f := m.Funcs[0]
	g := f.Clone()
	if g.String() != f.String() {
		t.Fatalf("clone differs:\n%s", g.String())
	}
	if err := Check(g); err != nil {
		t.Fatal(err)
	}
	g.Blocks[0].Instrs[0].Imm = 99
	g.FactsOf(g.Blocks[0].Instrs[1]).U64.Max = 11
	g.Blocks[0].Terminator().Targets[0].Args[1] = g.Blocks[0].Instrs[1]
	if f.String() != editSrc {
		t.Errorf("editing the clone changed the original:\n%s", f.String())
	}
}
