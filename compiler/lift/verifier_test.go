package lift

import (
	"math"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/ir"
)

// The lifter states each fact once: what follows from another component
// of the same value is dropped.
func TestCompactFacts(t *testing.T) {
	cases := []struct {
		name string
		s    verifier.Scalar
		t    ir.Type
		want string
	}{
		{"unknown", verifier.Unknown(), ir.I64, ""},
		{"constant", verifier.Const(14), ir.I64, " !range[14,14]"},
		{"byte", verifier.URange(0, 255), ir.I64, " !range[0,255]"},
		{"byte as i32", verifier.URange(0, 255), ir.I32, " !range32[0,255]"},
		{"signed", verifier.Scalar{Var: ir2v(0, math.MaxUint64), SMin: -5, SMax: 5, UMax: math.MaxUint64,
			S32Min: -5, S32Max: 5, U32Max: math.MaxUint32}, ir.I64, " !srange[-5,5] !srange32[-5,5]"},
		{"tnum beyond the range", verifier.Scalar{Var: ir2v(0, 0xf0), SMin: 0, SMax: 0xf0, UMax: 0xf0,
			S32Min: 0, S32Max: 0xf0, U32Max: 0xf0}, ir.I64, " !range[0,240] !tnum(0x0,0xf0)"},
	}
	for _, c := range cases {
		fa := scalarFacts(c.s)
		got := ""
		if fa != nil {
			got = compact(fa, c.t).String()
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTnumOfRange(t *testing.T) {
	for _, c := range []struct {
		lo, hi uint64
		want   ir.Tnum
	}{
		{0, 255, ir.Tnum{Value: 0, Mask: 0xff}},
		{16, 16, ir.Tnum{Value: 16, Mask: 0}},
		{14, 18, ir.Tnum{Value: 0, Mask: 0x1f}},
		{0, math.MaxUint64, ir.Tnum{Value: 0, Mask: math.MaxUint64}},
	} {
		if got := tnumOfRange(c.lo, c.hi); got != c.want {
			t.Errorf("tnumOfRange(%d,%d) = %+v, want %+v", c.lo, c.hi, got, c.want)
		}
	}
}

func ir2v(value, mask uint64) verifier.Tnum { return verifier.Tnum{Value: value, Mask: mask} }

func TestTextName(t *testing.T) {
	for in, want := range map[string]string{"xdp_prog": "xdp_prog", "socket/0": "socket_0", "1st": "f_1st", "v12": "f_v12", "": "f_"} {
		if got := textName(in); got != want || !ir.ValidName(got) {
			t.Errorf("textName(%q) = %q, want %q", in, got, want)
		}
	}
}

// reachFacts is a Facts that knows only which slots are reachable.
type reachFacts map[int]bool

func (f reachFacts) Reachable(pc int) bool              { return f[pc] }
func (f reachFacts) Reg(pc, r int) *ir.Facts            { return nil }
func (f reachFacts) Written(pc, r int) bool             { return f[pc] }
func (f reachFacts) StackDepth(k int) (int, bool)       { return 0, false }
func (f reachFacts) Region(pc, r int) (ir.Region, bool) { return ir.RegionAny, false }

// TestPathEndsInBlock: when the verifier ends a path in the middle of a
// block (a transfer gave a value that cannot exist), the instructions it
// never reached are not lifted: the block ends in unreachable.
func TestPathEndsInBlock(t *testing.T) {
	p := programFromInsns("ends", asm.Instructions{
		asm.Mov.Imm(asm.R0, 1),
		asm.Add.Imm(asm.R0, 2),
		asm.Mul.Imm(asm.R0, 3), // never reached
		asm.Return(),
	})
	m, err := Program(p, reachFacts{0: true, 1: true})
	if err != nil {
		t.Fatal(err)
	}
	got := ir.Print(m)
	if !strings.Contains(got, "unreachable") || strings.Contains(got, "mul64") || strings.Contains(got, "ret") {
		t.Errorf("the unreached instructions were lifted:\n%s", got)
	}
}
