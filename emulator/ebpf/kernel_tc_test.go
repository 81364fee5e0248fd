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

// TestKernelTCHelpers compares tc programs that use the packet-editing
// and checksum helpers and read __sk_buff fields with the kernel
// (BPF_PROG_TEST_RUN): return value and packet after. Skips without BPF.
func TestKernelTCHelpers(t *testing.T) {
	// Ethernet + IPv4 (checksum correct) + UDP (checksum correct).
	pkt := mustHex("0200000000010200000000020800" +
		"45000024000100004011f9c4c0a80001c0a80002" +
		"1234003500105c5e" + "deadbeefcafebabe")
	call := func(fn asm.BuiltinFunc, args ...asm.Instruction) asm.Instructions {
		return append(append(asm.Instructions{asm.Mov.Reg(asm.R1, asm.R6)}, args...), fn.Call())
	}
	progs := map[string]asm.Instructions{
		"l3 replace2 (ttl)": call(asm.FnL3CsumReplace,
			asm.Mov.Imm(asm.R2, 24), asm.Mov.Imm(asm.R3, 0x1140), asm.Mov.Imm(asm.R4, 0x113f), asm.Mov.Imm(asm.R5, 2)),
		"l3 replace4 (saddr)": call(asm.FnL3CsumReplace,
			asm.Mov.Imm(asm.R2, 24), asm.Mov.Imm(asm.R3, 0x0100a8c0), asm.Mov.Imm(asm.R4, 0x0900a8c0), asm.Mov.Imm(asm.R5, 4)),
		"l4 replace4 pseudo (saddr)": call(asm.FnL4CsumReplace,
			asm.Mov.Imm(asm.R2, 40), asm.Mov.Imm(asm.R3, 0x0100a8c0), asm.Mov.Imm(asm.R4, 0x0900a8c0), asm.Mov.Imm(asm.R5, 0x10|4)),
		"l4 replace2 (port)": call(asm.FnL4CsumReplace,
			asm.Mov.Imm(asm.R2, 40), asm.Mov.Imm(asm.R3, 0x3412), asm.Mov.Imm(asm.R4, 0x5000), asm.Mov.Imm(asm.R5, 2)),
		"l4 by diff": call(asm.FnL4CsumReplace,
			asm.Mov.Imm(asm.R2, 40), asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 0x1234), asm.Mov.Imm(asm.R5, 0)),
		"l3 bad offset": call(asm.FnL3CsumReplace,
			asm.Mov.Imm(asm.R2, 25), asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 1), asm.Mov.Imm(asm.R5, 2)),
		"l3 bad size": call(asm.FnL3CsumReplace,
			asm.Mov.Imm(asm.R2, 24), asm.Mov.Imm(asm.R3, 0), asm.Mov.Imm(asm.R4, 1), asm.Mov.Imm(asm.R5, 3)),
		"store bytes": append(asm.Instructions{asm.StoreImm(asm.R10, -4, 0x04030201, asm.Word)}, call(asm.FnSkbStoreBytes,
			asm.Mov.Imm(asm.R2, 42), asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -4), asm.Mov.Imm(asm.R4, 4), asm.Mov.Imm(asm.R5, 0))...),
		"store bytes past end": append(asm.Instructions{asm.StoreImm(asm.R10, -4, 0x04030201, asm.Word)}, call(asm.FnSkbStoreBytes,
			asm.Mov.Imm(asm.R2, 48), asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -4), asm.Mov.Imm(asm.R4, 4), asm.Mov.Imm(asm.R5, 0))...),
		"load bytes": append(call(asm.FnSkbLoadBytes,
			asm.Mov.Imm(asm.R2, 26), asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 8)),
			asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord), asm.Mov.Reg(asm.R1, asm.R0), asm.RSh.Imm(asm.R1, 32), asm.Xor.Reg(asm.R0, asm.R1)),
		"csum diff": append(asm.Instructions{asm.StoreImm(asm.R10, -8, 0x11223344, asm.Word), asm.StoreImm(asm.R10, -4, 0x55667788, asm.Word)},
			asm.Mov.Imm(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), asm.Mov.Reg(asm.R3, asm.R10), asm.Add.Imm(asm.R3, -8),
			asm.Mov.Imm(asm.R4, 8), asm.Mov.Imm(asm.R5, 0x1234), asm.FnCsumDiff.Call()),
		"ctx len protocol": {
			asm.LoadMem(asm.R0, asm.R6, 0, asm.Word), asm.LSh.Imm(asm.R0, 16),
			asm.LoadMem(asm.R1, asm.R6, 16, asm.Word), asm.Or.Reg(asm.R0, asm.R1),
		},
		"ctx pkt_type queue_mapping": {
			asm.LoadMem(asm.R0, asm.R6, 4, asm.Word), asm.LSh.Imm(asm.R0, 8),
			asm.LoadMem(asm.R1, asm.R6, 12, asm.Word), asm.Or.Reg(asm.R0, asm.R1),
		},
		"ld_abs in range": {
			asm.LoadAbs(12, asm.Half), asm.Mov.Reg(asm.R7, asm.R0), asm.LoadAbs(26, asm.Word), asm.Xor.Reg(asm.R0, asm.R7),
			asm.LoadAbs(23, asm.Byte), asm.LSh.Imm(asm.R0, 4), asm.Xor.Reg(asm.R0, asm.R7),
		},
		"ld_abs out of range ends the program": {
			asm.Mov.Imm(asm.R0, 9), asm.LoadAbs(60, asm.Word), asm.Mov.Imm(asm.R0, 7),
		},
		"ld_ind": {
			asm.Mov.Imm(asm.R7, 20), asm.LoadInd(asm.R0, asm.R7, 6, asm.Half), asm.Mov.Reg(asm.R8, asm.R0),
			asm.Mov.Imm(asm.R7, -4), asm.LoadInd(asm.R0, asm.R7, 30, asm.Word), asm.Xor.Reg(asm.R0, asm.R8),
		},
		"ctx data pointers": {
			asm.LoadMem(asm.R1, asm.R6, 76, asm.Word), asm.LoadMem(asm.R2, asm.R6, 80, asm.Word),
			asm.Mov.Reg(asm.R0, asm.R2), asm.Sub.Reg(asm.R0, asm.R1),
		},
	}
	for name, body := range progs {
		t.Run(name, func(t *testing.T) {
			insns := append(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}, body...)
			insns = append(insns, asm.Return())
			kp, err := cebpf.NewProgram(&cebpf.ProgramSpec{Type: cebpf.SchedCLS, Instructions: insns, License: "GPL"})
			if err != nil {
				if errors.Is(err, os.ErrPermission) || errors.Is(err, cebpf.ErrNotSupported) {
					t.Skipf("the kernel does not load programs here: %v", err)
				}
				t.Fatalf("kernel rejects: %v", err)
			}
			defer kp.Close()
			out := make([]byte, len(pkt)+64)
			opts := &cebpf.RunOptions{Data: pkt, DataOut: out}
			kret, err := kp.Run(opts)
			if err != nil {
				t.Skipf("BPF_PROG_TEST_RUN is not available: %v", err)
			}
			linked, err := linkForTest(insns)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New([]Prog{{Name: "p", Hook: emulator.HookTC, Insns: linked}}, nil, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := m.Run(0, Input{Packet: pkt, IngressIfindex: 1})
			if err != nil {
				t.Fatal(err)
			}
			if uint32(res.Return) != kret {
				t.Errorf("return: kernel %#x, interpreter %#x", kret, uint32(res.Return))
			}
			if !bytes.Equal(opts.DataOut, res.Packet) {
				t.Errorf("packet:\n kernel      %s\n interpreter %s", hex.EncodeToString(opts.DataOut), hex.EncodeToString(res.Packet))
			}
		})
	}
}
