package ir

import (
	"fmt"
	"testing"
)

// The Machine's semantics on the corner cases RFC 9669 pins down.
func TestMachineSemantics(t *testing.T) {
	cases := []struct {
		op   string
		typ  string
		a, b int64
		want uint64
	}{
		{"div64", "i64", 7, 0, 0},
		{"mod64", "i64", 7, 0, 7},
		{"div32", "i32", 7, 0, 0},
		{"mod32", "i32", 7, 0, 7},
		{"sdiv64", "i64", -1 << 63, -1, 1 << 63},
		{"smod64", "i64", -1 << 63, -1, 0},
		{"sdiv32", "i32", -1 << 31, -1, 1 << 31},
		{"sdiv64", "i64", -7, 2, uint64(0xfffffffffffffffd)},
		{"smod64", "i64", -7, 2, uint64(0xffffffffffffffff)},
		{"lsh64", "i64", 1, 65, 2},
		{"lsh32", "i32", 1, 33, 2},
		{"arsh32", "i32", -8, 1, 0xfffffffc},
		{"rsh64", "i64", -1, 60, 0xf},
		{"sub32", "i32", 0, 1, 0xffffffff},
		{"sle32", "i32", -1, 0, 1},
		{"le32", "i32", -1, 0, 0},
		{"set64", "i64", 6, 1, 0},
	}
	for _, c := range cases {
		src := fmt.Sprintf(`func f {
b0:
  v0:%[2]s = const %[3]d
  v1:%[2]s = const %[4]d
  v2:%[5]s = %[1]s v0, v1
  v3:i64 = %[6]s
  ret v3
}
`, c.op, c.typ, c.a, c.b, resultType(c.op, c.typ), widen(c.op, c.typ))
		m, err := Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		if err := CheckModule(m); err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		got, err := (&Machine{Module: m}).Run("f")
		if err != nil || got != c.want {
			t.Errorf("%s %d, %d = %#x (%v), want %#x", c.op, c.a, c.b, got, err, c.want)
		}
	}
}

func resultType(op, typ string) string {
	if op[len(op)-2:] == "32" {
		return "i32"
	}
	switch op[:2] {
	case "sl", "le", "se":
		return "i32"
	}
	return typ
}

func widen(op, typ string) string {
	if resultType(op, typ) == "i32" {
		return "zext v2"
	}
	return "or64 v2, v2"
}

// Block arguments bind in parallel: swapping two values through a loop.
func TestMachineParallelCopy(t *testing.T) {
	m, err := Parse(`func swap {
b0(v0:i64, v1:i64):
  v2:i64 = const 0
  jump b1(v0, v1, v2)
b1(v3:i64, v4:i64, v5:i64):
  v6:i64 = const 1
  v7:i64 = add64 v5, v6
  v8:i64 = const 3
  jlt64 v7, v8, b1(v4, v3, v7), b2
b2:
  v9:i64 = const 10
  v10:i64 = mul64 v3, v9
  v11:i64 = add64 v10, v4
  ret v11
}
`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&Machine{Module: m}).Run("swap", 1, 2)
	// Two swaps bring (1, 2) back; a sequential copy would give (2, 2).
	if err != nil || got != 12 {
		t.Errorf("got %d (%v), want 12", got, err)
	}
}

// CheckFacts catches a fact that does not hold at run time.
func TestMachineCheckFacts(t *testing.T) {
	for _, c := range []struct {
		facts string
		ok    bool
	}{
		{"!range[0,10]", true},
		{"!range[6,10]", false},
		{"!srange[-1,5]", true},
		{"!range32[0,4]", false},
		{"!tnum(0x0,0x7)", true},
		{"!tnum(0x0,0x3)", false},
	} {
		m, err := Parse("func f {\nb0(v0:i64):\n  v1:i64 = const 5\n  v2:i64 = add64 v0, v1 " + c.facts + "\n  ret v2\n}\n")
		if err != nil {
			t.Fatal(err)
		}
		_, err = (&Machine{Module: m, CheckFacts: true}).Run("f", 0)
		if (err == nil) != c.ok {
			t.Errorf("%s on 5: error %v, want ok=%v", c.facts, err, c.ok)
		}
	}
}
