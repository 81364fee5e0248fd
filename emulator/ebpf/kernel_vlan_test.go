package ebpf

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// TestKernelVlan compares bpf_skb_vlan_push/pop with the kernel
// (BPF_PROG_TEST_RUN), every sequence of calls on every frame, reading
// out one thing per program: the helpers' return values, vlan_present,
// vlan_tci, vlan_proto, protocol or len; and the packet after. What it
// shows of the kernel: a pushed tag stays offload metadata and is not in
// the output bytes unless a second push moves it into the packet; a pop
// takes the outer tag out of the packet and makes the next tag, if any,
// the offloaded one; a push that moves a tag into the frame leaves the
// network header where it was (4 bytes further from data), a pop puts it
// back (at least ETH_HLEN in), the mac header stays at data (LD_IND and
// LD_ABS at SKF_NET_OFF and SKF_LL_OFF). Skips without BPF.
func TestKernelVlan(t *testing.T) {
	eth := "020000000001020000000002"
	ipv4 := "45000024000100004011f9c4c0a80001c0a800021234003500105c5edeadbeefcafebabe"
	frames := map[string][]byte{
		"untagged":  mustHex(eth + "0800" + ipv4),
		"dot1q":     mustHex(eth + "8100" + "2005" + "0800" + ipv4),
		"qinq":      mustHex(eth + "88a8" + "0064" + "8100" + "2005" + "0800" + ipv4),
		"short":     mustHex(eth + "8100" + "0001"),
		"raw 802.3": mustHex(eth + "8100" + "0007" + "0040" + "ffff" + "00000000000000000000"),
		"llc 802.2": mustHex(eth + "8100" + "0007" + "0040" + "aaaa" + "03000000000000000000"),
	}
	push := func(proto, tci int32) asm.Instructions {
		return asm.Instructions{asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Imm(asm.R2, proto), asm.Mov.Imm(asm.R3, tci), asm.FnSkbVlanPush.Call(),
			asm.LSh.Imm(asm.R7, 8), asm.And.Imm(asm.R0, 0xff), asm.Or.Reg(asm.R7, asm.R0)}
	}
	pop := asm.Instructions{asm.Mov.Reg(asm.R1, asm.R6), asm.FnSkbVlanPop.Call(),
		asm.LSh.Imm(asm.R7, 8), asm.And.Imm(asm.R0, 0xff), asm.Or.Reg(asm.R7, asm.R0)}
	const q, ad = 0x0081, 0xa888 // htons(ETH_P_8021Q), htons(ETH_P_8021AD)
	seqs := map[string][]asm.Instructions{
		"push":             {push(q, 5)},
		"push other proto": {push(0x3412, 0xffff)},
		"push push":        {push(ad, 7), push(q, 9)},
		"push push push":   {push(ad, 7), push(q, 9), push(q, 0x1abc)},
		"pop":              {pop},
		"pop pop":          {pop, pop},
		"push pop":         {push(q, 3), pop},
		"push push pop":    {push(q, 3), push(ad, 4), pop},
		"pop push":         {pop, push(ad, 0x123)},
	}
	readouts := map[string]asm.Instructions{
		"returns":      {asm.Mov.Reg(asm.R0, asm.R7)},
		"vlan_present": {asm.LoadMem(asm.R0, asm.R6, 20, asm.Word)},
		"vlan_tci":     {asm.LoadMem(asm.R0, asm.R6, 24, asm.Word)},
		"vlan_proto":   {asm.LoadMem(asm.R0, asm.R6, 28, asm.Word)},
		"protocol":     {asm.LoadMem(asm.R0, asm.R6, 16, asm.Word)},
		"len":          {asm.LoadMem(asm.R0, asm.R6, 0, asm.Word)},
		"data_end - data": {asm.LoadMem(asm.R1, asm.R6, 76, asm.Word), asm.LoadMem(asm.R0, asm.R6, 80, asm.Word),
			asm.Sub.Reg(asm.R0, asm.R1)},
		// Where the network and mac headers are after the helpers.
		"ld_ind net+0": {asm.Mov.Imm(asm.R8, emulator.SKFNetOff), asm.LoadInd(asm.R0, asm.R8, 0, asm.Word)},
		"ld_abs ll+12": {asm.LoadAbs(emulator.SKFLLOff+12, asm.Word)},
	}
	for sname, seq := range seqs {
		for rname, ro := range readouts {
			insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R7, 0)}
			for _, s := range seq {
				insns = append(insns, s...)
			}
			insns = append(append(insns, ro...), asm.Return())
			t.Run(sname+"/"+rname, func(t *testing.T) {
				kp, err := cebpf.NewProgram(&cebpf.ProgramSpec{Type: cebpf.SchedCLS, Instructions: insns, License: "GPL"})
				if err != nil {
					if errors.Is(err, os.ErrPermission) || errors.Is(err, cebpf.ErrNotSupported) {
						t.Skipf("the kernel does not load programs here: %v", err)
					}
					t.Fatalf("kernel rejects: %v", err)
				}
				defer kp.Close()
				linked, err := linkForTest(insns)
				if err != nil {
					t.Fatal(err)
				}
				m, err := New([]Prog{{Name: "p", Hook: emulator.HookTC, Insns: linked}}, nil, nil, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for fname, frame := range frames {
					out := make([]byte, len(frame)+64)
					opts := &cebpf.RunOptions{Data: frame, DataOut: out}
					kret, err := kp.Run(opts)
					if err != nil {
						t.Skipf("BPF_PROG_TEST_RUN is not available: %v", err)
					}
					res, err := m.Run(0, Input{Packet: frame, IngressIfindex: 1})
					if err != nil {
						t.Fatalf("%s: %v", fname, err)
					}
					if uint32(res.Return) != kret {
						t.Errorf("%s: %s: kernel %#x, interpreter %#x", fname, rname, kret, uint32(res.Return))
					}
					if !bytes.Equal(opts.DataOut, res.Packet) {
						t.Errorf("%s: packet:\n kernel      %s\n interpreter %s", fname, hex.EncodeToString(opts.DataOut), hex.EncodeToString(res.Packet))
					}
				}
			})
		}
	}
}
