package ebpf_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
)

// assemble turns uBPF assembler text into instructions.
func assemble(t testing.TB, src string) asm.Instructions {
	t.Helper()
	code, err := conformance.Assemble(src, 1)
	if err != nil {
		t.Fatalf("assemble: %v\n%s", err, src)
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return insns
}

// run runs src as a HookNone program over mem and returns r0.
func run(t testing.TB, src string, mem []byte) (uint64, error) {
	t.Helper()
	m, err := ebpf.New([]ebpf.Prog{{Name: "t", Insns: assemble(t, src)}}, nil, nil, ebpf.Options{Helpers: conformance.Helpers()})
	if err != nil {
		return 0, err
	}
	res, err := m.Run(0, ebpf.Input{Mem: mem})
	if err != nil {
		return 0, err
	}
	return res.Return, nil
}

type insnCase struct {
	name string
	src  string
	want uint64
}

// The expected values below are worked out by hand from RFC 9669
// (sections 4.1–4.3, 5.2, 5.3), not by running the interpreter.
func runCases(t *testing.T, cases []insnCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := run(t, c.src+"\nexit", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("r0 = %#x, want %#x\n%s", got, c.want, c.src)
			}
		})
	}
}

func TestALU64(t *testing.T) {
	runCases(t, []insnCase{
		{"add imm sign-extended", "mov %r0, 5\nadd %r0, -7", 0xfffffffffffffffe},
		{"add reg", "mov %r0, 5\nmov %r1, 7\nadd %r0, %r1", 12},
		{"sub wraps", "mov %r0, 1\nsub %r0, 2", 0xffffffffffffffff},
		{"mul 64-bit", "lddw %r0, 0x100000000\nmul %r0, 0x10", 0x1000000000},
		{"div unsigned", "mov %r0, -1\ndiv %r0, 2", 0x7fffffffffffffff},
		{"div by zero reg", "mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1", 0},
		{"div by zero imm", "mov %r0, 7\ndiv %r0, 0", 0},
		{"sdiv truncates", "mov %r0, -7\nsdiv %r0, 2", 0xfffffffffffffffd},
		{"sdiv by zero", "mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1", 0},
		{"sdiv intmin by -1", "lddw %r0, 0x8000000000000000\nsdiv %r0, -1", 0x8000000000000000},
		{"mod", "mov %r0, 17\nmod %r0, 5", 2},
		{"mod by zero keeps dst", "mov %r0, 7\nmov %r1, 0\nmod %r0, %r1", 7},
		{"smod sign of dividend", "mov %r0, -7\nsmod %r0, 2", 0xffffffffffffffff},
		{"smod negative divisor", "mov %r0, 7\nsmod %r0, -2", 1},
		{"smod by zero keeps dst", "mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1", 0xfffffffffffffff9},
		{"or", "mov %r0, 0x0f\nor %r0, 0xf0", 0xff},
		{"and", "mov %r0, 0x3c\nand %r0, 0x0f", 0x0c},
		{"xor", "mov %r0, 0xff\nxor %r0, 0x0f", 0xf0},
		{"lsh", "mov %r0, 1\nlsh %r0, 63", 0x8000000000000000},
		{"lsh count masked to 6 bits", "mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1", 2},
		{"rsh logical", "mov %r0, -1\nrsh %r0, 60", 0xf},
		{"arsh", "mov %r0, -16\narsh %r0, 2", 0xfffffffffffffffc},
		{"arsh count masked", "mov %r0, -16\nmov %r1, 66\narsh %r0, %r1", 0xfffffffffffffffc},
		{"neg", "mov %r0, 5\nneg %r0", 0xfffffffffffffffb},
		{"mov imm sign-extends", "mov %r0, -1", 0xffffffffffffffff},
		{"mov reg", "lddw %r1, 0x123456789\nmov %r0, %r1", 0x123456789},
		{"movsx8", "mov %r1, 0x80\nmovsx864 %r0, %r1", 0xffffffffffffff80},
		{"movsx16", "mov %r1, 0x7fff\nmovsx1664 %r0, %r1", 0x7fff},
		{"movsx32", "lddw %r1, 0x180000000\nmovsx3264 %r0, %r1", 0xffffffff80000000},
		{"lddw", "lddw %r0, 0x1122334455667788", 0x1122334455667788},
	})
}

func TestALU32(t *testing.T) {
	runCases(t, []insnCase{
		{"add32 wraps and zero-extends", "mov %r0, -1\nadd32 %r0, 1", 0},
		{"add32 drops high bits of dst", "lddw %r0, 0x500000001\nadd32 %r0, 1", 2},
		{"sub32", "mov32 %r0, 0\nsub32 %r0, 1", 0xffffffff},
		{"mul32", "mov32 %r0, 0x10000\nmul32 %r0, 0x10000", 0},
		{"mov32 imm", "mov32 %r0, -1", 0xffffffff},
		{"mov32 reg clears high half", "mov %r1, -1\nmov32 %r0, %r1", 0xffffffff},
		{"div32 uses low halves", "lddw %r0, 0x100000010\nmov %r1, 4\ndiv32 %r0, %r1", 4},
		{"div32 by zero", "mov32 %r0, 9\ndiv32 %r0, 0", 0},
		{"mod32 by zero zero-extends dst", "lddw %r0, 0xffffffff00000007\nmov %r1, 0\nmod32 %r0, %r1", 7},
		{"sdiv32", "mov32 %r0, -7\nsdiv32 %r0, 2", 0xfffffffd},
		{"sdiv32 intmin by -1", "mov32 %r0, 0x80000000\nsdiv32 %r0, -1", 0x80000000},
		{"smod32 intmin by -1", "mov32 %r0, 0x80000000\nsmod32 %r0, -1", 0},
		{"smod32", "mov32 %r0, -7\nsmod32 %r0, 3", 0xffffffff},
		{"lsh32 count masked to 5 bits", "mov32 %r0, 1\nlsh32 %r0, 33", 2},
		{"rsh32 on low half", "lddw %r0, 0xff00000080\nrsh32 %r0, 4", 8},
		{"arsh32", "mov32 %r0, 0x80000000\narsh32 %r0, 4", 0xf8000000},
		{"neg32", "mov32 %r0, 1\nneg32 %r0", 0xffffffff},
		{"xor32", "mov %r0, -1\nxor32 %r0, 0xff", 0xffffff00},
		{"movsx832", "mov %r1, 0x80\nmovsx832 %r0, %r1", 0xffffff80},
		{"movsx1632", "mov %r1, 0x8001\nmovsx1632 %r0, %r1", 0xffff8001},
	})
}

func TestByteSwap(t *testing.T) {
	const v = "lddw %r0, 0x1122334455667788\n"
	runCases(t, []insnCase{
		{"be16", v + "be16 %r0", 0x8877},
		{"be32", v + "be32 %r0", 0x88776655},
		{"be64", v + "be64 %r0", 0x8877665544332211},
		{"le16", v + "le16 %r0", 0x7788},
		{"le32", v + "le32 %r0", 0x55667788},
		{"le64", v + "le64 %r0", 0x1122334455667788},
		{"bswap16", v + "bswap16 %r0", 0x8877},
		{"bswap32", v + "bswap32 %r0", 0x88776655},
		{"bswap64", v + "bswap64 %r0", 0x8877665544332211},
	})
}

func TestJumps(t *testing.T) {
	// Each program returns 1 when the jump is taken, 0 otherwise.
	j := func(setup, jump string) string {
		return setup + "\nmov %r0, 0\n" + jump + " taken\nexit\ntaken:\nmov %r0, 1"
	}
	runCases(t, []insnCase{
		{"jeq imm taken", j("mov %r1, 5", "jeq %r1, 5,"), 1},
		{"jeq reg not taken", j("mov %r1, 5\nmov %r2, 6", "jeq %r1, %r2,"), 0},
		{"jne", j("mov %r1, 5", "jne %r1, 6,"), 1},
		{"jgt unsigned: -1 > 1", j("mov %r1, -1", "jgt %r1, 1,"), 1},
		{"jsgt signed: -1 > 1 is false", j("mov %r1, -1", "jsgt %r1, 1,"), 0},
		{"jge equal", j("mov %r1, 3", "jge %r1, 3,"), 1},
		{"jsge", j("mov %r1, -3", "jsge %r1, -4,"), 1},
		{"jlt", j("mov %r1, 2", "jlt %r1, 3,"), 1},
		{"jle", j("mov %r1, 4", "jle %r1, 3,"), 0},
		{"jslt", j("mov %r1, -5", "jslt %r1, -4,"), 1},
		{"jsle", j("mov %r1, -4", "jsle %r1, -4,"), 1},
		{"jset", j("mov %r1, 0x10", "jset %r1, 0x30,"), 1},
		{"jset clear", j("mov %r1, 0x40", "jset %r1, 0x30,"), 0},
		{"jeq32 ignores high half", j("lddw %r1, 0x700000001", "jeq32 %r1, 1,"), 1},
		{"jgt32 vs jgt", j("lddw %r1, 0x100000000", "jgt32 %r1, 0,"), 0},
		{"jslt32 sign of bit 31", j("mov32 %r1, 0x80000000", "jslt32 %r1, 0,"), 1},
		{"ja", "mov %r0, 1\nja +1\nmov %r0, 2", 1},
		{"ja32", "mov %r0, 1\nja32 L\nmov %r0, 2\nL:\nadd %r0, 10", 11},
	})
}

func TestMemory(t *testing.T) {
	runCases(t, []insnCase{
		{"stw then ldxb little-endian", "stw [%r10-4], 0x11223344\nldxb %r0, [%r10-4]", 0x44},
		{"stdw imm sign-extends", "stdw [%r10-8], -1\nldxdw %r0, [%r10-8]", 0xffffffffffffffff},
		{"sth ldxh", "sth [%r10-2], 0xbeef\nldxh %r0, [%r10-2]", 0xbeef},
		{"stxdw ldxw", "lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nldxw %r0, [%r10-4]", 0x11223344},
		{"stxb", "mov %r1, 0x1ff\nstxb [%r10-1], %r1\nldxb %r0, [%r10-1]", 0xff},
		{"ldxsb", "stb [%r10-1], 0x80\nldxsb %r0, [%r10-1]", 0xffffffffffffff80},
		{"ldxsh", "sth [%r10-2], 0x8000\nldxsh %r0, [%r10-2]", 0xffffffffffff8000},
		{"ldxsw", "stw [%r10-4], 0x80000000\nldxsw %r0, [%r10-4]", 0xffffffff80000000},
		{"pointer arithmetic", "mov %r1, %r10\nsub %r1, 16\nstw [%r1+4], 7\nldxw %r0, [%r10-12]", 7},
	})
	got, err := run(t, "ldxh %r0, [%r1+2]\nadd %r0, %r2\nexit", []byte{0, 0x11, 0x22, 0x33})
	if err != nil || got != 0x3322+4 {
		t.Errorf("load from mem: got %#x, %v; want 0x3326", got, err)
	}
}

func TestAtomics(t *testing.T) {
	const init = "lddw %r1, 0x00000000ffffffff\nstxdw [%r10-8], %r1\n"
	runCases(t, []insnCase{
		{"add64", init + "mov %r2, 1\nlock add [%r10-8], %r2\nldxdw %r0, [%r10-8]", 0x100000000},
		{"add32 wraps in 32 bits", init + "mov %r2, 1\nlock add32 [%r10-8], %r2\nldxdw %r0, [%r10-8]", 0},
		{"fetch add returns old", init + "mov %r2, 1\nlock fetch add [%r10-8], %r2\nmov %r0, %r2", 0xffffffff},
		{"fetch add32 returns old zero-extended", init + "mov %r2, -1\nlock fetch add32 [%r10-8], %r2\nmov %r0, %r2", 0xffffffff},
		{"or", init + "lddw %r2, 0xf00000000\nlock or [%r10-8], %r2\nldxdw %r0, [%r10-8]", 0xfffffffff},
		{"and", init + "mov %r2, 0xff\nlock and [%r10-8], %r2\nldxdw %r0, [%r10-8]", 0xff},
		{"xor", init + "mov %r2, 0xff\nlock xor [%r10-8], %r2\nldxdw %r0, [%r10-8]", 0xffffff00},
		{"fetch xor", init + "mov %r2, 0xff\nlock fetch xor [%r10-8], %r2\nmov %r0, %r2", 0xffffffff},
		{"xchg", init + "mov %r2, 5\nlock xchg [%r10-8], %r2\nldxdw %r0, [%r10-8]\nadd %r0, %r2", 5 + 0xffffffff},
		{"cmpxchg succeeds", init + "mov32 %r0, -1\nmov %r2, 9\nlock cmpxchg [%r10-8], %r2\nldxdw %r0, [%r10-8]", 9},
		{"cmpxchg fails, r0 gets old", init + "mov %r0, 1\nmov %r2, 9\nlock cmpxchg [%r10-8], %r2", 0xffffffff},
		{"cmpxchg32 compares low half of r0", init + "mov %r0, -1\nmov %r2, 9\nlock cmpxchg32 [%r10-8], %r2\nldxdw %r0, [%r10-8]", 9},
	})
}

func TestCallsAndFrames(t *testing.T) {
	// The callee gets its own stack: its [r10-8] is not the caller's. r6–r9
	// come back as the caller left them.
	src := `
stdw [%r10-8], 100
mov %r6, 6
mov %r1, 2
call local f
ldxdw %r1, [%r10-8]
add %r0, %r1
add %r0, %r6
exit
f:
stdw [%r10-8], 50
mov %r6, 1000
ldxdw %r0, [%r10-8]
add %r0, %r1
exit`
	got, err := run(t, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(50 + 2 + 100 + 6); got != want {
		t.Errorf("r0 = %d, want %d", got, want)
	}
	// A callee may read its caller's stack through a pointer.
	src = `
stdw [%r10-8], 77
mov %r1, %r10
sub %r1, 8
call local g
exit
g:
ldxdw %r0, [%r1]
exit`
	if got, err := run(t, src, nil); err != nil || got != 77 {
		t.Errorf("caller stack through pointer: %d, %v", got, err)
	}
}

func TestHelpersOfConformanceSet(t *testing.T) {
	got, err := run(t, "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 0\nexit", nil)
	if err != nil || got != 0x0102030405 {
		t.Errorf("gather_bytes: %#x, %v", got, err)
	}
	// unwind (5) with 0 ends the program at once with r0 = 0.
	got, err = run(t, "mov %r1, 0\ncall 5\nmov %r0, 9\nexit", nil)
	if err != nil || got != 0 {
		t.Errorf("unwind(0): %#x, %v", got, err)
	}
	got, err = run(t, "mov %r2, 5\nmov %r1, 3\ncall %r2\nexit", nil)
	if err != nil || got != 3 {
		t.Errorf("callx unwind(3): %#x, %v", got, err)
	}
}

func TestHookNoneEntry(t *testing.T) {
	// Without memory r1 is 0 and r2 is 0.
	got, err := run(t, "mov %r0, %r1\nadd %r0, %r2\nexit", nil)
	if err != nil || got != 0 {
		t.Errorf("empty mem: %#x, %v", got, err)
	}
	_ = emulator.HookNone
}
