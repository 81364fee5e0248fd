package ebpf_test

import (
	"encoding/hex"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
)

// The emulator's helper numbers are the kernel's (as cilium/ebpf has them).
func TestHelperNumbersMatchKernel(t *testing.T) {
	for id, fn := range map[int]asm.BuiltinFunc{
		emulator.FnMapLookupElem: asm.FnMapLookupElem, emulator.FnMapUpdateElem: asm.FnMapUpdateElem,
		emulator.FnMapDeleteElem: asm.FnMapDeleteElem, emulator.FnKtimeGetNs: asm.FnKtimeGetNs,
		emulator.FnTracePrintk: asm.FnTracePrintk, emulator.FnGetPrandomU32: asm.FnGetPrandomU32,
		emulator.FnGetSmpProcessorID: asm.FnGetSmpProcessorId, emulator.FnTailCall: asm.FnTailCall,
		emulator.FnRedirect: asm.FnRedirect, emulator.FnPerfEventOutput: asm.FnPerfEventOutput,
		emulator.FnSkbLoadBytes: asm.FnSkbLoadBytes, emulator.FnCsumDiff: asm.FnCsumDiff,
		emulator.FnXdpAdjustHead: asm.FnXdpAdjustHead, emulator.FnRedirectMap: asm.FnRedirectMap,
		emulator.FnXdpAdjustMeta: asm.FnXdpAdjustMeta, emulator.FnXdpAdjustTail: asm.FnXdpAdjustTail,
		emulator.FnKtimeGetBootNs: asm.FnKtimeGetBootNs, emulator.FnSkbStoreBytes: asm.FnSkbStoreBytes,
		emulator.FnL3CsumReplace: asm.FnL3CsumReplace, emulator.FnL4CsumReplace: asm.FnL4CsumReplace,
		emulator.FnFibLookup: asm.FnFibLookup, emulator.FnRingbufOutput: asm.FnRingbufOutput,
		emulator.FnRingbufReserve: asm.FnRingbufReserve, emulator.FnRingbufSubmit: asm.FnRingbufSubmit,
		emulator.FnRingbufDiscard: asm.FnRingbufDiscard,
	} {
		if int32(fn) != int32(id) {
			t.Errorf("%v is %d in the kernel, %d in the emulator", fn, int32(fn), id)
		}
		if emulator.KernelHelpers()[int32(id)] == nil {
			t.Errorf("%v (%d) is not in KernelHelpers", fn, id)
		}
	}
}

func TestRingBuffer(t *testing.T) {
	rb := newMap(t, emulator.MapSpec{Name: "events", Type: emulator.MapRingBuf, MaxEntries: 4096})
	prog := link(t, asm.Instructions{
		// r6 = reserve(events, 8); *(u64 *)r6 = 0x1122334455667788; submit(r6)
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Imm(asm.R2, 8),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R6, asm.R0),
		asm.LoadImm(asm.R1, 0x1122334455667788, asm.DWord),
		asm.StoreMem(asm.R6, 0, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRingbufSubmit.Call(),
		// a reservation that is discarded leaves no event
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Imm(asm.R2, 4),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRingbufDiscard.Call(),
		// output copies 4 bytes of the stack
		asm.StoreImm(asm.R10, -4, 0x0a0b0c0d, asm.Word),
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.Mov.Imm(asm.R3, 4),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnRingbufOutput.Call(),
		asm.Mov.Imm(asm.R0, 2).WithSymbol("out"),
		asm.Return(),
	})
	m, err := ebpf.New([]ebpf.Prog{{Name: "p", Hook: emulator.HookXDP, Insns: prog}}, []emulator.Map{rb}, nil, ebpf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(0, ebpf.Input{Packet: frame(60)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 || hex.EncodeToString(res.Events[0].Data) != "8877665544332211" || hex.EncodeToString(res.Events[1].Data) != "0d0c0b0a" {
		t.Errorf("events: %+v", res.Events)
	}
	// Submitting a pointer that is not a reservation stops the run.
	bad := link(t, asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R10),
		asm.Add.Imm(asm.R1, -8),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRingbufSubmit.Call(),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
	})
	m, err = ebpf.New([]ebpf.Prog{{Name: "p", Hook: emulator.HookXDP, Insns: bad}}, []emulator.Map{rb}, nil, ebpf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Run(0, ebpf.Input{Packet: frame(60)}); err == nil {
		t.Error("submit of a stack pointer must fail")
	}
}
