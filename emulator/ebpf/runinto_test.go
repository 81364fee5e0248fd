package ebpf

import (
	"reflect"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// dirtyResult is a Result with every field set to something no run
// produces, by reflection, so that a field added to emulator.Result and
// forgotten by RunInto shows up as a difference from Run.
func dirtyResult(t *testing.T) *emulator.Result {
	res := &emulator.Result{}
	v := reflect.ValueOf(res).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Uint64, reflect.Uint32, reflect.Int:
			f.SetUint(0xdead)
		case reflect.String:
			f.SetString("junk")
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 4096))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Map:
			m := reflect.MakeMap(f.Type())
			m.SetMapIndex(reflect.Zero(f.Type().Key()), reflect.Zero(f.Type().Elem()))
			f.Set(m)
		default:
			t.Fatalf("dirtyResult: field %s of kind %s: teach the test to fill it", v.Type().Field(i).Name, f.Kind())
		}
	}
	return res
}

// TestRunIntoOverwritesEveryField runs the same sequence of programs with
// Run on one machine and RunInto, reusing one result that starts dirty, on
// another: every result must be the same.
func TestRunIntoOverwritesEveryField(t *testing.T) {
	progs := []Prog{
		{Name: "meta", Hook: emulator.HookXDP, Insns: asm.Instructions{ // 4 bytes of metadata, XDP_PASS
			asm.Mov.Imm(asm.R2, -4), asm.FnXdpAdjustMeta.Call(), asm.Mov.Imm(asm.R0, 2), asm.Return(),
		}},
		{Name: "plain", Hook: emulator.HookXDP, Insns: asm.Instructions{asm.Mov.Imm(asm.R0, 3), asm.Return()}},
		{Name: "mark", Hook: emulator.HookTC, Insns: asm.Instructions{ // skb->mark = 7, TC_ACT_OK
			asm.StoreImm(asm.R1, skbMark, 7, asm.Word), asm.Mov.Imm(asm.R0, 0), asm.Return(),
		}},
		{Name: "mem", Hook: emulator.HookNone, Insns: asm.Instructions{asm.Mov.Reg(asm.R0, asm.R2), asm.Return()}},
	}
	runs := []struct {
		prog int
		in   Input
	}{
		{0, Input{Packet: benchFrames[0]}},
		{1, Input{Packet: benchFrames[1]}},
		{2, Input{Packet: benchFrames[0], Mark: 1}},
		{3, Input{Mem: []byte{1, 2, 3}}},
		{1, Input{Packet: benchFrames[2]}},
		{1, Input{Packet: []byte{}}},
	}
	newMachine := func() *Machine {
		m, err := New(progs, nil, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := newMachine(), newMachine()
	res := dirtyResult(t)
	for i, r := range runs {
		want, werr := a.Run(r.prog, r.in)
		gerr := b.RunInto(r.prog, r.in, res)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("run %d: Run error %v, RunInto error %v", i, werr, gerr)
		}
		if !reflect.DeepEqual(want, res) {
			t.Errorf("run %d (%s): RunInto gave\n%+v\nRun gave\n%+v", i, progs[r.prog].Name, res, want)
		}
	}
	if res.Meta != nil || len(res.Packet) != 0 || res.Packet == nil {
		t.Errorf("after an empty frame: packet %x (nil %v), meta %x", res.Packet, res.Packet == nil, res.Meta)
	}
}

// TestRunIntoNoProgram leaves the result alone when nothing runs.
func TestRunIntoNoProgram(t *testing.T) {
	m, err := New([]Prog{{Name: "p", Hook: emulator.HookXDP, Insns: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()}}}, nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := emulator.Result{Return: 42}
	if err := m.RunInto(1, Input{}, &res); err == nil || res.Return != 42 {
		t.Errorf("RunInto of program 1 of 1: error %v, result %+v", err, res)
	}
}
