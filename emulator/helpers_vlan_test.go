package emulator

import (
	"encoding/hex"
	"testing"
)

// bpf_skb_vlan_push/pop without a kernel: what the steps leave in the
// frame and in the skb's metadata (TestKernelVlan in emulator/ebpf checks
// the same against BPF_PROG_TEST_RUN).
func TestSkbVlan(t *testing.T) {
	const macs = "020000000001020000000002"
	pushQ := func(tci uint64) func(*Env) uint64 {
		return func(e *Env) uint64 { r, _ := skbVlanPush(e, nil, &[5]uint64{0, 0x0081, tci}); return r }
	}
	pushOther := func(e *Env) uint64 { r, _ := skbVlanPush(e, nil, &[5]uint64{0, 0x3412, 9}); return r }
	pop := func(e *Env) uint64 { r, _ := skbVlanPop(e, nil, &[5]uint64{}); return r }
	cases := []struct {
		name, frame string
		steps       []func(*Env) uint64
		want        []uint64
		frameAfter  string
		meta        SKBMeta
	}{
		{"push keeps the tag out of the frame", macs + "0800aa", []func(*Env) uint64{pushQ(5)}, []uint64{0},
			macs + "0800aa", SKBMeta{true, 0x0800, true, 0x8100, 5}},
		{"another protocol becomes 802.1Q", macs + "0800aa", []func(*Env) uint64{pushOther}, []uint64{0},
			macs + "0800aa", SKBMeta{true, 0x0800, true, 0x8100, 9}},
		{"second push moves the first tag into the frame", macs + "0800aa", []func(*Env) uint64{pushQ(5), pushQ(6)}, []uint64{0, 0},
			macs + "81000005" + "0800aa", SKBMeta{true, 0x8100, true, 0x8100, 6}},
		{"pop of an untagged frame", macs + "0800aa", []func(*Env) uint64{pop}, []uint64{0},
			macs + "0800aa", SKBMeta{Valid: true, Protocol: 0x0800}},
		{"pop takes the tag out of the frame", macs + "8100" + "0005" + "0800aaaaaa", []func(*Env) uint64{pop}, []uint64{0},
			macs + "0800aaaaaa", SKBMeta{Valid: true, Protocol: 0x0800}},
		{"pop offloads the next tag", macs + "88a8" + "0064" + "8100" + "0005" + "0800aa", []func(*Env) uint64{pop}, []uint64{0},
			macs + "0800aa", SKBMeta{true, 0x0800, true, 0x8100, 5}},
		{"pop of a short tagged frame", macs + "8100" + "0001", []func(*Env) uint64{pop}, []uint64{ENOMEM.Ret()},
			macs + "81000001", SKBMeta{Valid: true, Protocol: 0x8100}},
		{"raw 802.3 inside", macs + "8100" + "0007" + "0040" + "ffff00", []func(*Env) uint64{pop}, []uint64{0},
			macs + "0040ffff00", SKBMeta{Valid: true, Protocol: ethP8023}},
		{"802.2 inside", macs + "8100" + "0007" + "0040" + "aaaa03", []func(*Env) uint64{pop}, []uint64{0},
			macs + "0040aaaa03", SKBMeta{Valid: true, Protocol: ethP8022}},
	}
	for _, c := range cases {
		frame, _ := hex.DecodeString(c.frame)
		e := NewEnv(HookTC, nil, 1)
		e.Packet = NewPacket(frame)
		for i, step := range c.steps {
			if got := step(e); got != c.want[i] {
				t.Errorf("%s: step %d returned %#x, want %#x", c.name, i, got, c.want[i])
			}
		}
		if got := hex.EncodeToString(e.Packet.Bytes()); got != c.frameAfter {
			t.Errorf("%s: frame %s, want %s", c.name, got, c.frameAfter)
		}
		if e.Packet.SKB != c.meta {
			t.Errorf("%s: skb %+v, want %+v", c.name, e.Packet.SKB, c.meta)
		}
		if e.Packet.Reset(frame); e.Packet.SKB != (SKBMeta{}) {
			t.Errorf("%s: Reset keeps the skb state %+v", c.name, e.Packet.SKB)
		}
	}
	if r, _ := skbVlanPop(NewEnv(HookNone, nil, 1), nil, &[5]uint64{}); r != EINVAL.Ret() {
		t.Errorf("pop without a packet: %#x", r)
	}
}
