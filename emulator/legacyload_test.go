package emulator

import (
	"math"
	"testing"
)

// LD_ABS/LD_IND offsets without a kernel (TestKernelLegacyLoadOffsets in
// emulator/ebpf compares them with BPF_PROG_TEST_RUN): a 20-byte frame
// whose byte i is i.
func TestLegacyLoad(t *testing.T) {
	frame := make([]byte, 20)
	for i := range frame {
		frame[i] = byte(i)
	}
	pk := NewPacket(frame)
	cases := []struct {
		off  int32
		size int
		want uint64
		ok   bool
	}{
		{0, 4, 0x00010203, true},
		{16, 4, 0x10111213, true},
		{17, 4, 0, false},
		{SKFNetOff, 2, 0x0e0f, true}, // the network header: byte 14
		{SKFNetOff + 5, 1, 0x13, true},
		{SKFNetOff + 5, 2, 0, false},
		{-1, 1, 0, false},            // network header + 0xfffff
		{-0x1000, 4, 0, false},       // SKF_AD_OFF: ancillary data only for classic BPF
		{SKFNetOff - 1, 1, 0, false}, // mac header + 0xfffff
		{SKFLLOff, 4, 0x00010203, true},
		{SKFLLOff + 18, 2, 0x1213, true},
		{SKFLLOff + 19, 2, 0, false},
		{SKFLLOff - 1, 1, 0, false},
		{math.MinInt32, 1, 0, false},
		{math.MaxInt32, 1, 0, false},
	}
	for _, c := range cases {
		v, ok := pk.LegacyLoad(c.off, c.size)
		if v != c.want || ok != c.ok {
			t.Errorf("LegacyLoad(%#x, %d) = %#x, %v; want %#x, %v", c.off, c.size, v, ok, c.want, c.ok)
		}
	}
}
