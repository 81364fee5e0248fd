package fuzz

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite/gen"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestRegressions replays every finding kept in testdata/regress: the
// interpreter must still give the archive's -- expect -- (go test -update
// rewrites it) and the compiled image must agree with the interpreter.
func TestRegressions(t *testing.T) {
	golden.Run(t, "testdata/regress/*.txtar", func(t *testing.T, a *golden.Archive) {
		data, err := os.ReadFile(a.Name())
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseCase(a.Name(), data)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := c.Expect()
		if err != nil {
			t.Fatal(err)
		}
		a.Check(t, "expect", exp)
		configs, err := ReplayOptions(a.Section("level"), a.Section("regs"))
		if err != nil {
			t.Fatal(err)
		}
		for _, co := range configs {
			if o := c.Check(Options{Compile: co, RoundTrip: true}); o.Kind != Agreed {
				t.Errorf("%s, %d registers: %s: %s\n%s", co.Passes.Level, co.Regs, o.Kind, o.Reason, o.Detail)
			}
		}
	})
}

// TestCampaign is the bounded campaign go test runs: a fixed seed, a fixed
// number of programs, every one compared; no mismatch and no generator bug
// is allowed. (nfpcc fuzz runs the same for longer.)
func TestCampaign(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 60
	}
	c := &Campaign{Gen: gen.DefaultConfig(), Seed: 20261207, Workers: 2, MaxPrograms: n, Packets: 12, Minimize: true}
	st, findings := c.Run(context.Background())
	t.Logf("%s", st.Summary())
	for _, f := range findings {
		r := f.Reduced
		if r == nil {
			r = f.Case
		}
		text, _ := r.Marshal("")
		t.Errorf("seed %#x: %s\n%s\nminimized:\n%s", f.Seed, f.Outcome.Reason, f.Outcome.Detail, text)
	}
	if st.GenBugs > 0 {
		t.Errorf("%d generator bugs: %v", st.GenBugs, st.GenBugList)
	}
	if st.Compiled < st.Checked*7/10 {
		t.Errorf("only %d of %d programs compiled: the campaign checks too little", st.Compiled, st.Checked)
	}
}

// TestMinimize shrinks a program under an oracle that calls any program
// "failing" whose packet output has its first byte 0x2a: the minimizer
// must keep it valid and failing and cut it down to a few instructions,
// one packet and a short frame.
func TestMinimize(t *testing.T) {
	c := Generated(7, gen.DefaultConfig(), 8)
	// Make it fail: store 0x2a at packet byte 0 on every path (prologue
	// inserted after the entry's bounds check would be fragile; instead
	// the oracle looks for a store of 0x2a anywhere).
	fails := func(q *Case) Outcome {
		if o := q.Check(Options{}); o.Kind == GenBug || o.Kind == Refused {
			return o
		}
		for _, ins := range q.P.Insns {
			if ins.OpCode.Class() == asm.ALU64Class && ins.OpCode.ALUOp() == asm.Xor {
				return Outcome{Kind: Mismatch, Reason: "packet differ", Packet: 0}
			}
		}
		return Outcome{Kind: Agreed, Packet: -1}
	}
	first := fails(c)
	if first.Kind != Mismatch {
		t.Skipf("seed 7 has no 64-bit xor (%s): pick another seed", first.Kind)
	}
	r, o := Minimize(c, fails, first)
	if o.Kind != Mismatch {
		t.Fatalf("minimized case does not fail: %v", o)
	}
	text, _ := r.Marshal("")
	t.Logf("%d → %d instructions, %d → %d packets:\n%s", len(c.P.Insns), len(r.P.Insns), len(c.Packets), len(r.Packets), text)
	if len(r.P.Insns) > 12 || len(r.Packets) != 1 || len(r.Packets[0]) > 16 {
		t.Errorf("not minimal: %d instructions, %d packets", len(r.P.Insns), len(r.Packets))
	}
}

// TestCompact: removing no-ops re-aims jumps, calls and function starts.
func TestCompact(t *testing.T) {
	p := &gen.Program{Insns: asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		nop,
		{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.JEq).SetSource(asm.ImmSource), Dst: asm.R0, Offset: 2},
		nop,
		{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoCall, Constant: 2},
		asm.Return(),
		nop,
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
	}, Funcs: []loader.Func{{Name: "main", Slot: 0}, {Name: "f", Slot: 6}}}
	if !compact(p) {
		t.Fatal("nothing removed")
	}
	var got []string
	for _, ins := range p.Insns {
		got = append(got, fmt.Sprint(ins))
	}
	if len(p.Insns) != 6 {
		t.Errorf("%d instructions, want 6: %q", len(p.Insns), got)
	}
	if p.Insns[1].Offset != 1 || p.Insns[2].Constant != 1 || p.Funcs[1].Slot != 4 {
		t.Errorf("jump %d (want 1), call %d (want 1), f at %d (want 4): %q", p.Insns[1].Offset, p.Insns[2].Constant, p.Funcs[1].Slot, got)
	}
}

// TestRoundTrip: a generated case survives Marshal and ParseCase.
func TestRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		c := Generated(seed, gen.DefaultConfig(), 3)
		data, err := c.Marshal("x\n")
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseCase("rt", data)
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, data)
		}
		again, err := back.Marshal("x\n")
		if err != nil || string(again) != string(data) {
			t.Fatalf("seed %d: round trip differs (%v)\n%s\n----\n%s", seed, err, data, again)
		}
		if back.P.Type != c.P.Type || (c.P.Type != ebpf.XDP && c.P.Type != ebpf.SchedCLS) {
			t.Errorf("seed %d: type %v, want %v", seed, back.P.Type, c.P.Type)
		}
	}
}

// FuzzDifferential is the native Go fuzz target over the same harness:
// the fuzzer's input picks the program seed (go test -fuzz=FuzzDifferential
// ./testsuite/fuzz; the form OSS-Fuzz and ClusterFuzzLite build as is).
func FuzzDifferential(f *testing.F) {
	for _, s := range []uint64{1, 2, 3, 0xdeadbeef} {
		f.Add(s)
	}
	cfg := gen.DefaultConfig()
	f.Fuzz(func(t *testing.T, seed uint64) {
		c := Generated(seed, cfg, 8)
		switch o := c.Check(Options{}); o.Kind {
		case Mismatch:
			t.Fatalf("seed %#x: %s\n%s", seed, o.Reason, o.Detail)
		case GenBug:
			t.Fatalf("seed %#x: generator bug: %s\n%s", seed, o.Reason, o.Detail)
		}
	})
}

// TestKernelCampaign is the three-way check: a bounded campaign whose
// programs also run in the kernel (BPF_PROG_TEST_RUN), where root and the
// kernel allow; it skips elsewhere.
func TestKernelCampaign(t *testing.T) {
	if err := KernelAvailable(); err != nil {
		t.Skipf("kernel oracle unavailable: %v", err)
	}
	c := &Campaign{Gen: gen.DefaultConfig(), Seed: 20261208, Workers: 2, MaxPrograms: 150, Packets: 16, Minimize: true, Kernel: true}
	st, findings := c.Run(context.Background())
	t.Logf("%s", st.Summary())
	for _, f := range findings {
		r := f.Reduced
		if r == nil {
			r = f.Case
		}
		text, _ := r.Marshal("")
		t.Errorf("seed %#x: %s\n%s\nminimized:\n%s", f.Seed, f.Outcome.Reason, f.Outcome.Detail, text)
	}
	if st.GenBugs > 0 {
		t.Errorf("%d generator bugs (the kernel rejects a generated program?): %v", st.GenBugs, st.GenBugList)
	}
	if st.KernelRuns == 0 {
		t.Error("no run was compared with the kernel")
	}
}
