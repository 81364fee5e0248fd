package ebpf

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
)

func TestFromObject(t *testing.T) {
	obj := &loader.Object{
		Path: "fake.o",
		Maps: []*loader.Map{
			{Name: ".rodata", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Contents: []byte{7, 0, 0, 0}, ReadOnly: true},
			{Name: "inner", Type: ebpf.Queue, KeySize: 0, ValueSize: 4, MaxEntries: 1},
		},
		Programs: []*loader.Program{
			{Name: "uses_rodata", Type: ebpf.XDP, Insns: asm.Instructions{
				{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R1, Src: asm.PseudoMapValue, Constant: 0},
				asm.LoadMem(asm.R0, asm.R1, 0, asm.Word),
				asm.Return(),
			}},
			{Name: "uses_inner", Type: ebpf.XDP, Insns: asm.Instructions{
				asm.LoadMapPtr(asm.R1, 1),
				asm.Mov.Imm(asm.R0, 2),
				asm.Return(),
			}},
		},
	}
	m, err := FromObject(obj, 0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(0, Input{Packet: make([]byte, 60)})
	if err != nil || res.Return != 7 || res.Action != "XDP_UNKNOWN(7)" {
		t.Errorf("uses_rodata: %+v %v", res, err)
	}
	if _, err := m.Run(1, Input{Packet: make([]byte, 60)}); err == nil || !strings.Contains(err.Error(), "inner") || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("a program using an unsupported map must be refused naming it: %v", err)
	}
	if _, err := FromObject(obj, -1, Options{}); err == nil {
		t.Error("with entry -1 every program must load")
	}
	if HookOf(ebpf.SchedCLS) != emulator.HookTC || HookOf(ebpf.Kprobe) != emulator.HookNone {
		t.Error("HookOf")
	}
}

func TestPktType(t *testing.T) {
	mac := [6]byte{2, 0, 0, 0, 0, 1}
	cases := []struct {
		dst  string
		want uint32
	}{
		{"\xff\xff\xff\xff\xff\xff", 1}, {"\x01\x00\x5e\x00\x00\x01", 2},
		{"\x02\x00\x00\x00\x00\x01", 0}, {"\x02\x00\x00\x00\x00\x02", 3},
	}
	for _, c := range cases {
		frame := append([]byte(c.dst), make([]byte, 8)...)
		if got := pktType(frame, mac); got != c.want {
			t.Errorf("dst %x: pkt_type %d, want %d", c.dst, got, c.want)
		}
	}
}
