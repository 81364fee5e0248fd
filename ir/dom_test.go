package ir

import "testing"

// TestDomTreeSparseAndLaterBlocks: the tree is indexed by block ID, so it
// must cope with IDs that have gaps and are out of layout order (the text
// keeps its IDs), and answer for blocks made after it was computed as for
// unreachable ones (no idom, dominated by nothing, dominating nothing)
// instead of indexing past its slices.
func TestDomTreeSparseAndLaterBlocks(t *testing.T) {
	m, err := Parse(`func f {
b0(v0:i64):
  v1:i64 = const 1
  jeq64 v0, v1, b9, b4
b9:
  jump b7
b4:
  jump b7
b7:
  ret v0
b12:
  ret v1
}
`)
	if err != nil {
		t.Fatal(err)
	}
	f := m.Funcs[0]
	byID := map[int]*Block{}
	for _, b := range f.Blocks {
		byID[b.ID] = b
	}
	d := Dominators(f)
	b0, b9, b4, b7, b12 := byID[0], byID[9], byID[4], byID[7], byID[12]
	if d.Idom(b7) != b0 || d.Idom(b9) != b0 || d.Idom(b4) != b0 || d.Idom(b0) != nil {
		t.Errorf("idoms: b7<-%v b9<-%v b4<-%v", d.Idom(b7), d.Idom(b9), d.Idom(b4))
	}
	if !d.Dominates(b0, b7) || d.Dominates(b9, b7) || !d.Dominates(b7, b7) {
		t.Error("Dominates wrong on the sparse IDs")
	}
	if d.Reachable(b12) || d.Dominates(b0, b12) || d.Idom(b12) != nil {
		t.Error("the unreachable b12 is in the tree")
	}
	nb := f.NewBlock()
	if nb.ID != 13 {
		t.Fatalf("NewBlock gave b%d, want b13", nb.ID)
	}
	if d.Reachable(nb) || d.Idom(nb) != nil || d.Children(nb) != nil || d.Dominates(b0, nb) || d.Dominates(nb, b0) || d.Dominates(nb, nb) {
		t.Error("a block made after the tree is not unreachable to it")
	}
}
