package conformance

import (
	"encoding/hex"
	"strings"
	"testing"
)

// Encodings worked out by hand from RFC 9669's instruction layout
// (opcode, dst|src<<4, offset LE16, imm LE32).
func TestAssembleEncodings(t *testing.T) {
	cases := []struct{ src, want string }{
		{"mov %r0, 1", "b700000001000000"},
		{"mov32 %r1, -1", "b4010000ffffffff"},
		{"add %r1, %r2", "0f21000000000000"},
		{"sdiv32 %r1, 3", "3401010003000000"},
		{"smod %r1, %r2", "9f21010000000000"},
		{"movsx1664 %r0, %r1", "bf10100000000000"},
		{"neg %r3", "8703000000000000"},
		{"be16 %r1", "dc01000010000000"},
		{"le64 %r1", "d401000040000000"},
		{"bswap32 %r1", "d701000020000000"},
		{"ldxw %r0, [%r1+4]", "6110040000000000"},
		{"ldxsb %r0, [%r10-1]", "91a0ffff00000000"},
		{"stb [%r10-8], 0x11", "720af8ff11000000"},
		{"stxdw [%r1], %r2", "7b21000000000000"},
		{"lddw %r0, 0x1122334455667788", "1800000088776655" + "0000000044332211"},
		{"jeq %r1, 5, +2", "1501020005000000"},
		{"jslt32 %r1, %r2, -1", "ce21ffff00000000"},
		{"ja +3", "0500030000000000"},
		{"ja32 +3", "0600000003000000"},
		{"call 7", "8500000007000000"},
		{"call %r2", "8d02000000000000"},
		{"exit", "9500000000000000"},
		{"lock add [%r10-8], %r1", "db1af8ff00000000"},
		{"lock fetch or32 [%r1+4], %r2", "c321040041000000"},
		{"lock cmpxchg [%r1], %r2", "db210000f1000000"},
		{"ldabsh 12", "280000000c000000"},
		{"ldindb %r2, 1", "5020000001000000"},
	}
	for _, c := range cases {
		b, err := Assemble(c.src, 1)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if got := hex.EncodeToString(b); got != c.want {
			t.Errorf("%s: got %s, want %s", c.src, got, c.want)
		}
	}
}

func TestAssembleLabels(t *testing.T) {
	src := "mov %r0, 0\njeq %r0, 0, done\nmov %r0, 1\ndone:\ncall local f\nexit\nf:\nexit"
	b, err := Assemble(src, 1)
	if err != nil {
		t.Fatal(err)
	}
	// jeq at slot 1 → done (slot 3): offset 1; call local at slot 3 → f (slot 5): imm 1.
	if got := hex.EncodeToString(b[8:16]); got != "1500010000000000" {
		t.Errorf("jeq: %s", got)
	}
	if got := hex.EncodeToString(b[24:32]); got != "8510000001000000" {
		t.Errorf("call local: %s", got)
	}
}

func TestAssembleErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"mov %r0", "line 1: Invalid number of operands for mnemonic: mov"},
		{"frob %r0, 1", "Invalid mnemonic: frob"},
		{"mov %r99, 1", "Invalid register: %r99"},
		{"ldxw %r0, %r1", "Failed to decode register and offset: %r1"},
		{"ja nowhere", "Invalid label: nowhere"},
		{"mov %r0, 0x1ffffffff", "Immediate out of 32-bit range"},
		{"exit\nmov %r0, @", "line 2:"},
		{"l:\nl:\nexit", "Duplicate label l"},
	}
	for _, c := range cases {
		_, err := Assemble(c.src, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.src, err, c.want)
		}
	}
}

func TestParseData(t *testing.T) {
	tf, err := Parse("x.data", "# c\n-- asm\nmov %r0, 1\nexit\n-- mem\n00 01\nff\n-- raw\n0x00000001000000b7\n95 00 00 00 00 00 00 00\n-- result\n0x1\n")
	if err != nil {
		t.Fatal(err)
	}
	if tf.AsmLine != 3 || hex.EncodeToString(tf.Mem) != "0001ff" || tf.Result != 1 || !tf.HasResult {
		t.Errorf("parsed %+v", tf)
	}
	if got := hex.EncodeToString(tf.Raw); got != "b7000000010000009500000000000000" {
		t.Errorf("raw %s", got)
	}
	o := RunTest(Interp{}, tf)
	if !o.Passed() {
		t.Errorf("outcome %s", o.Line())
	}
	if _, err := Parse("y.data", "-- mem\nzz\n"); err == nil || !strings.Contains(err.Error(), "y.data:2: mem") {
		t.Errorf("bad mem: %v", err)
	}
}

// TestAsmMapReference: "lddw %rN, map I" is the loader's map reference
// (src BPF_PSEUDO_MAP_FD, imm the map's index) and round-trips.
func TestAsmMapReference(t *testing.T) {
	src := "lddw %r1, map 2\nlddw %r2, 0x100000002\nexit\n"
	code, err := Assemble(src, 1)
	if err != nil {
		t.Fatal(err)
	}
	if code[1]>>4 != 1 || code[4] != 2 || code[17]>>4 != 0 {
		t.Errorf("map reference encoded as % x", code[:24])
	}
	back, err := Disassemble(code)
	if err != nil || back != src {
		t.Errorf("round trip: %q, %v; want %q", back, err, src)
	}
}
