package ebpf_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
)

// FuzzInterpreter feeds random instruction streams to the loader checks and
// the run loop, as XDP, tc and plain programs, with a small hash map and
// array available: whatever the bytes, the result is a clean error or a
// result, never a panic.
func FuzzInterpreter(f *testing.F) {
	seeds := [][]byte{
		{0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},
		{0x61, 0x12, 0, 0, 0, 0, 0, 0, 0x71, 0x20, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},
		{0x18, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbf, 0xa2, 0, 0, 0, 0, 0, 0, 0x85, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},
		{0x05, 0, 0xff, 0xff, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},
	}
	for _, s := range seeds {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, code []byte, hookSel uint8) {
		insns, err := asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
		if err != nil {
			return
		}
		hash, _ := emulator.NewMap(emulator.MapSpec{Name: "h", Type: emulator.MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 4})
		arr, _ := emulator.NewMap(emulator.MapSpec{Name: "a", Type: emulator.MapArray, KeySize: 4, ValueSize: 16, MaxEntries: 2})
		hook := []emulator.Hook{emulator.HookNone, emulator.HookXDP, emulator.HookTC}[hookSel%3]
		m, err := ebpf.New([]ebpf.Prog{{Name: "fuzz", Hook: hook, Insns: insns}}, []emulator.Map{hash, arr}, nil,
			ebpf.Options{MaxInstructions: 10_000})
		if err != nil {
			return
		}
		pkt := make([]byte, 64)
		pkt[12] = 0x08
		_, _ = m.Run(0, ebpf.Input{Packet: pkt, Mem: []byte{1, 2, 3, 4, 5, 6, 7, 8}})
	})
}
