package nfp

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/isa"
)

// TestInlineArrayLayout runs the patched JIT's inline ARRAY lookup (the
// address B23 << 8 + index << log2(stride), nfp-isa.md §2.2, §2.12) for
// values of 4, 8, 12, 48 and 100 bytes: every index's first and last word
// read through that address are the host's value, a write lands in the
// value of that index only, and the firmware's map_lookup_elem returns the
// same address.
func TestInlineArrayLayout(t *testing.T) {
	for _, tc := range []struct {
		size   uint32
		stride uint64
	}{{4, 4}, {8, 8}, {12, 16}, {48, 64}, {100, 128}} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			if got := ArrayStride(tc.size); got != tc.stride {
				t.Fatalf("ArrayStride(%d) = %d, want %d", tc.size, got, tc.stride)
			}
			const entries = 8
			sh := 0
			for 1<<sh < tc.stride {
				sh++
			}
			m, err := emulator.NewMap(emulator.MapSpec{Name: "arr", Type: emulator.MapArray, KeySize: 4, ValueSize: tc.size, MaxEntries: entries})
			if err != nil {
				t.Fatal(err)
			}
			val := func(i uint32) []byte {
				v := make([]byte, tc.size)
				for j := range v {
					v[j] = byte(i*16 + uint32(j))
				}
				return v
			}
			for i := uint32(0); i < entries; i++ {
				if err := m.Update(binary.LittleEndian.AppendUint32(nil, i), val(i), emulator.UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
			last := tc.size - 4
			for i := uint32(0); i < entries; i++ {
				ins := []isa.Instr{
					/* 0 */ isa.Immed(A(4), i),
					/* 1 */ isa.Shf(B(5), none, isa.ShfB, A(4), isa.ShiftL, sh), // offset of value i
					/* 2 */ isa.Mov(A(6), B(23)), // the map's EMEM base >> 8
					/* 3 */ isa.Cmd(isa.TargetMU, "read32_swap", 0, A(6), B(5), isa.Mode40AB, 1, isa.CtxSwapWait),
					/* 4 */ isa.ALU(B(7), B(5), isa.OpAdd, K(last)), // its last word
					/* 5 */ isa.Nop(),
					/* 6 */ isa.Nop(),
					/* 7 */ isa.Cmd(isa.TargetMU, "read32_swap", 1, A(6), B(7), isa.Mode40AB, 1, isa.CtxSwapWait),
					/* 8 */ isa.Immed(isa.Xfer(2), 0xabcd),
					/* 9 */ isa.Cmd(isa.TargetMU, "write32_swap", 2, A(6), B(5), isa.Mode40AB, 1, isa.CtxSwapWait),
					/* 10 */ isa.Immed(A(0), 0),
					/* 11 */ isa.ImmedW(A(0), 0x11, 1), // XDP_PASS result word
					/* 12 */ isa.Br(isa.BR, 0),
				}
				if last >= 256 {
					t.Fatal("test: last word offset not an ALU constant")
				}
				img := buildImage(t, ins, nil, []int{len(ins) - 1})
				p, err := LoadImage(img)
				if err != nil {
					t.Fatal(err)
				}
				fw, err := NewFirmware(p, Options{Maps: []emulator.Map{m}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := fw.RunPacket(make([]byte, 64)); err != nil {
					t.Fatalf("index %d: %v", i, err)
				}
				c := &fw.M.ctxs[0]
				want := val(i)
				if got, w := c.r[rXin+0], binary.LittleEndian.Uint32(want); got != w {
					t.Errorf("index %d: first word %#x, want %#x", i, got, w)
				}
				if got, w := c.r[rXin+1], binary.LittleEndian.Uint32(want[last:]); got != w {
					t.Errorf("index %d: last word %#x, want %#x", i, got, w)
				}
				v := m.Lookup(binary.LittleEndian.AppendUint32(nil, i))
				if binary.LittleEndian.Uint32(v) != 0xabcd {
					t.Errorf("index %d: the inline write did not reach the value (%x)", i, v)
				}
				for j := uint32(0); j < entries; j++ {
					if w := m.Lookup(binary.LittleEndian.AppendUint32(nil, j)); j != i && binary.LittleEndian.Uint32(w) == 0xabcd {
						t.Errorf("index %d: the write landed in value %d", i, j)
					}
				}
				binary.LittleEndian.PutUint32(v, binary.LittleEndian.Uint32(want))
				mem := &fwMem{f: fw, key: binary.LittleEndian.AppendUint32(nil, i)}
				if got, w := mem.ValueAddr(0, v), EMEMBase+uint64(i)*tc.stride; got != w {
					t.Errorf("index %d: map_lookup_elem's address %#x, inline %#x", i, got, w)
				}
			}
		})
	}
}
