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

// TestKernelXDPHelpers compares the XDP packet helpers with the kernel
// (BPF_PROG_TEST_RUN): each program moves data, data_end or data_meta,
// writes a byte at the new start, and returns the helper's result
// folded with the new length. Skips without BPF.
func TestKernelXDPHelpers(t *testing.T) {
	pkt := mustHex("0200000000010200000000020800" + "45000024000100004011f9c4c0a80001c0a80002" + "1234003500105c5e" + "deadbeefcafebabe")
	prog := func(fn asm.BuiltinFunc, delta int32) asm.Instructions {
		return asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.Mov.Imm(asm.R2, delta),
			fn.Call(),
			asm.Mov.Reg(asm.R7, asm.R0),
			asm.LoadMem(asm.R2, asm.R6, 0, asm.Word),
			asm.LoadMem(asm.R3, asm.R6, 4, asm.Word),
			asm.Mov.Reg(asm.R4, asm.R2),
			asm.Add.Imm(asm.R4, 1),
			asm.JGT.Reg(asm.R4, asm.R3, "out"),
			asm.StoreImm(asm.R2, 0, 0x5a, asm.Byte),
			asm.Mov.Reg(asm.R0, asm.R3).WithSymbol("out"),
			asm.Sub.Reg(asm.R0, asm.R2),
			asm.LSh.Imm(asm.R7, 16),
			asm.Or.Reg(asm.R0, asm.R7),
			asm.And.Imm(asm.R0, 0x7fffffff),
			asm.Return(),
		}
	}
	cases := []struct {
		name  string
		fn    asm.BuiltinFunc
		delta int32
	}{
		{"head -14", asm.FnXdpAdjustHead, -14}, {"head +14", asm.FnXdpAdjustHead, 14},
		{"head +50 (too short)", asm.FnXdpAdjustHead, 50}, {"head -300 (no room)", asm.FnXdpAdjustHead, -300},
		{"head -216", asm.FnXdpAdjustHead, -216}, {"head -217", asm.FnXdpAdjustHead, -217},
		{"tail -10", asm.FnXdpAdjustTail, -10}, {"tail +100", asm.FnXdpAdjustTail, 100},
		{"tail -50 (too short)", asm.FnXdpAdjustTail, -50}, {"tail +5000", asm.FnXdpAdjustTail, 5000},
		{"meta -8", asm.FnXdpAdjustMeta, -8}, {"meta -6 (unaligned)", asm.FnXdpAdjustMeta, -6},
		{"meta -36", asm.FnXdpAdjustMeta, -36}, {"meta -216", asm.FnXdpAdjustMeta, -216},
		{"meta -220 (no room)", asm.FnXdpAdjustMeta, -220}, {"meta +4 (past data)", asm.FnXdpAdjustMeta, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			insns := prog(c.fn, c.delta)
			kp, err := cebpf.NewProgram(&cebpf.ProgramSpec{Type: cebpf.XDP, Instructions: insns, License: "GPL"})
			if err != nil {
				if errors.Is(err, os.ErrPermission) || errors.Is(err, cebpf.ErrNotSupported) {
					t.Skipf("the kernel does not load programs here: %v", err)
				}
				t.Fatalf("kernel rejects: %v", err)
			}
			defer kp.Close()
			opts := &cebpf.RunOptions{Data: pkt, DataOut: make([]byte, 8192)}
			kret, err := kp.Run(opts)
			if err != nil {
				t.Skipf("BPF_PROG_TEST_RUN is not available: %v", err)
			}
			linked, err := linkForTest(insns)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New([]Prog{{Name: "p", Hook: emulator.HookXDP, Insns: linked}}, nil, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.Run(0, Input{Packet: pkt})
			if err != nil {
				t.Fatal(err)
			}
			if uint32(res.Return) != kret {
				t.Errorf("return: kernel %#x, interpreter %#x", kret, uint32(res.Return))
			}
			out := append(append([]byte{}, res.Meta...), res.Packet...)
			if !bytes.Equal(opts.DataOut, out) {
				t.Errorf("packet:\n kernel      %s\n interpreter %s", hex.EncodeToString(opts.DataOut), hex.EncodeToString(out))
			}
		})
	}
}

// TestKernelXDPRedirect compares the return values of bpf_redirect and
// bpf_redirect_map (present and missing keys, fallback actions, flags)
// with the kernel's. Skips without BPF.
func TestKernelXDPRedirect(t *testing.T) {
	cases := []struct {
		name   string
		filled bool // devmap[0] = ifindex 1
		body   asm.Instructions
	}{
		{"redirect", false, asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 0), asm.FnRedirect.Call()}},
		{"redirect with flags", false, asm.Instructions{asm.Mov.Imm(asm.R1, 5), asm.Mov.Imm(asm.R2, 1), asm.FnRedirect.Call()}},
		{"redirect_map missing, fallback pass", false, asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 2), asm.FnRedirectMap.Call()}},
		{"redirect_map missing, fallback 0", false, asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 1), asm.Mov.Imm(asm.R3, 0), asm.FnRedirectMap.Call()}},
		{"redirect_map present", true, asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 0), asm.FnRedirectMap.Call()}},
		{"redirect_map key past end", true, asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 100), asm.Mov.Imm(asm.R3, 1), asm.FnRedirectMap.Call()}},
		{"redirect_map broadcast", false, asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 8), asm.FnRedirectMap.Call()}},
		{"redirect_map bad flags", true, asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 64), asm.FnRedirectMap.Call()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			km, err := cebpf.NewMap(&cebpf.MapSpec{Name: "tx", Type: cebpf.DevMap, KeySize: 4, ValueSize: 4, MaxEntries: 4})
			if err != nil {
				if errors.Is(err, os.ErrPermission) || errors.Is(err, cebpf.ErrNotSupported) {
					t.Skipf("the kernel does not create maps here: %v", err)
				}
				t.Fatal(err)
			}
			defer km.Close()
			em, err := emulator.NewMap(emulator.MapSpec{Name: "tx", Type: emulator.MapDevMap, KeySize: 4, ValueSize: 4, MaxEntries: 4})
			if err != nil {
				t.Fatal(err)
			}
			if c.filled {
				if err := km.Put(uint32(0), uint32(1)); err != nil {
					t.Skipf("devmap update: %v", err)
				}
				if err := em.Update([]byte{0, 0, 0, 0}, []byte{1, 0, 0, 0}, 0); err != nil {
					t.Fatal(err)
				}
			}
			insns := append(append(asm.Instructions{}, c.body...), asm.Return())
			kinsns := make(asm.Instructions, len(insns))
			copy(kinsns, insns)
			for i := range kinsns {
				if kinsns[i].IsLoadFromMap() {
					kinsns[i] = kinsns[i].WithReference("tx")
				}
			}
			_ = kinsns.AssociateMap("tx", km) // fails only for bodies without the map
			kp, err := cebpf.NewProgram(&cebpf.ProgramSpec{Type: cebpf.XDP, Instructions: kinsns, License: "GPL"})
			if err != nil {
				t.Fatalf("kernel rejects: %v", err)
			}
			defer kp.Close()
			kret, err := kp.Run(&cebpf.RunOptions{Data: make([]byte, 64)})
			if err != nil {
				t.Skipf("BPF_PROG_TEST_RUN is not available: %v", err)
			}
			linked, err := linkForTest(insns)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New([]Prog{{Name: "p", Hook: emulator.HookXDP, Insns: linked}}, []emulator.Map{em}, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.Run(0, Input{Packet: make([]byte, 64)})
			if err != nil {
				t.Fatal(err)
			}
			if uint32(res.Return) != kret {
				t.Errorf("return: kernel %d, interpreter %d", kret, uint32(res.Return))
			}
		})
	}
}
