package mir

import (
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/isa/image"
)

const sample = `L0:
    immed[gprB_22, 0x3fff]
    alu[gprA_2, --, B, *l$index1[2]], gpr_wrboth              ; @1
    alu[--, gprB_22, -, 0xe]                                   ; @4
    bcc[L2]                                                    ; @4
    immed[gprB_0, @rel(L3)]                                    ; @5
    br[@helper(1)], defer[2]                                   ; @5
    immed[gprA_0, 0x0]
    nop
L3:
    br[@out(L4)], defer[2]                                     ; @6
    immed[gprA_0, 0x2], gpr_wrboth
    immed[gprA_1, 0x0], gpr_wrboth
L2:
    br[@next_pkt]
L4:
    nop
`

// TestRoundTrip: Parse(Print(f)) is f for every kind of word, and the
// printed text parses back to the same text and the same encoding.
func TestRoundTrip(t *testing.T) {
	f, err := Parse("sample", sample)
	if err != nil {
		t.Fatal(err)
	}
	text := f.Print()
	g, err := Parse("printed", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if g.Print() != text {
		t.Errorf("print/parse is not stable:\n%s\n---\n%s", text, g.Print())
	}
	c1, r1, l1, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c2, r2, l2, err := g.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(c1) != 13 || len(c1) != len(c2) || len(r1) != len(r2) || len(l1) != len(l2) {
		t.Fatalf("%d/%d words, %d/%d relocations, %d/%d lines", len(c1), len(c2), len(r1), len(r2), len(l1), len(l2))
	}
	for i := range c1 {
		if c1[i] != c2[i] {
			t.Errorf("word %d differs", i)
		}
	}
	kinds := map[image.RelocKind]int{}
	for _, r := range r1 {
		kinds[r.Kind]++
	}
	want := map[image.RelocKind]int{image.RelocBrRel: 1, image.RelocImmedRel: 1, image.RelocBrHelper: 1, image.RelocBrGoOut: 1, image.RelocBrNextPkt: 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s relocations, want %d (%v)", kinds[k], k, n, r1)
		}
	}
	// The branch to the outro carries the outro's word index.
	for _, r := range r1 {
		if r.Kind == image.RelocBrGoOut && r.Value != 12 {
			t.Errorf("RELO_BR_GO_OUT value %d, want 12 (L4)", r.Value)
		}
	}
	if f.Instrs[2].PC != 4 || f.Instrs[0].PC != -1 {
		t.Errorf("slots %d %d, want 4 -1", f.Instrs[2].PC, f.Instrs[0].PC)
	}
}

func TestDelete(t *testing.T) {
	f, err := Parse("sample", sample)
	if err != nil {
		t.Fatal(err)
	}
	del := make([]bool, len(f.Instrs))
	del[7] = true // the nop before L3: the later words and labels move up
	f.Delete(del)
	if f.Labels[3] != 7 || f.Labels[4] != 11 || f.Labels[0] != 0 {
		t.Errorf("labels L3=%d L4=%d after deleting word 7, want 7 and 11", f.Labels[3], f.Labels[4])
	}
	if _, _, _, err := f.Encode(); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	for src, want := range map[string]string{
		"    br[L9]\n":             "L9",
		"foo:\n    nop\n":          "MIR labels are L<n>",
		"    br[.5]\n    nop\n":    "fixed target",
		"    alu[gprA_2, --, B]\n": "in:1",
	} {
		_, err := Parse("in", src)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error mentioning %q", src, err, want)
		}
	}
	// A label used but never placed is caught by Encode.
	f := &Func{}
	l := f.NewLabel()
	f.Append(Instr{Kind: Branch, Cond: 24, Target: l, PC: -1})
	if _, _, _, err := f.Encode(); err == nil || !strings.Contains(err.Error(), "not placed") {
		t.Errorf("unplaced label: %v", err)
	}
}
