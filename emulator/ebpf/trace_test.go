package ebpf

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/emulator"
)

// TestTraceAndLimit: a trace has one step per executed instruction, in
// order, with the registers read; the instruction limit stops a run after
// exactly that many instructions, traced or not.
func TestTraceAndLimit(t *testing.T) {
	linked, err := linkForTest(aluLoop(3)) // 2 + 3×3 + 1 instructions
	if err != nil {
		t.Fatal(err)
	}
	progs := []Prog{{Name: "loop", Hook: emulator.HookNone, Insns: linked}}
	for _, trace := range []bool{false, true} {
		m, err := New(progs, nil, nil, Options{Trace: trace})
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Run(0, Input{})
		if err != nil || res.Return != 6 || res.Instructions != 12 {
			t.Fatalf("trace %v: r0 %d after %d instructions, error %v; want 6 after 12", trace, res.Return, res.Instructions, err)
		}
		var pcs []int
		for _, s := range res.Trace {
			pcs = append(pcs, s.PC)
		}
		want := []int{0, 1, 2, 3, 4, 2, 3, 4, 2, 3, 4, 5}
		if !trace {
			want = nil
		}
		if !reflect.DeepEqual(pcs, want) {
			t.Errorf("trace %v: pcs %v, want %v", trace, pcs, want)
		}
		if trace && !strings.Contains(res.Trace[2].Text, "r0=0x0 r1=0x3") {
			t.Errorf("step 2 %q does not show r0 and r1", res.Trace[2].Text)
		}

		m, err = New(progs, nil, nil, Options{Trace: trace, MaxInstructions: 5})
		if err != nil {
			t.Fatal(err)
		}
		res, err = m.Run(0, Input{})
		if !errors.Is(err, ErrInstructionLimit) && (err == nil || !strings.Contains(err.Error(), ErrInstructionLimit.Error())) {
			t.Fatalf("trace %v, limit 5: error %v", trace, err)
		}
		if res.Instructions != 5 || (trace && len(res.Trace) != 5) {
			t.Errorf("trace %v, limit 5: %d instructions, %d steps", trace, res.Instructions, len(res.Trace))
		}
		if !strings.Contains(err.Error(), "pc 2 ") {
			t.Errorf("limit error %q should name pc 2, the sixth instruction", err)
		}
	}
}
