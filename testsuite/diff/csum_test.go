package diff

import "github.com/cilium/ebpf/asm"

// csumProgram calls bpf_csum_diff on packet ranges: 36 bytes from offset 2
// (two chunks of the NFP's transfer registers) with a 64-bit seed from the
// packet (only its low half counts), 4 bytes with the first result as seed,
// and 92 bytes (the ICMP sample's size) seeded with 0xffffffff on frames
// long enough; the results go into the packet and r0. Random packet bytes
// make the end-around carries frequent.
func csumProgram() asm.Instructions {
	csum := func(off int32, size int32) asm.Instructions {
		return asm.Instructions{
			asm.Mov.Imm(asm.R1, 0),
			asm.Mov.Imm(asm.R2, 0),
			asm.Mov.Reg(asm.R3, asm.R6),
			asm.Add.Imm(asm.R3, off),
			asm.Mov.Imm(asm.R4, size),
			asm.FnCsumDiff.Call(),
		}
	}
	code := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.Mov.Reg(asm.R1, asm.R2),
		asm.Add.Imm(asm.R1, 40),
		asm.JGT.Reg(asm.R1, asm.R3, "short"),
		asm.Mov.Reg(asm.R6, asm.R2),
		asm.Mov.Reg(asm.R9, asm.R3),
	}
	first := csum(2, 36)
	first = append(asm.Instructions{asm.LoadMem(asm.R5, asm.R6, 0, asm.DWord)}, first...)
	code = append(code, first...)
	code = append(code,
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.StoreMem(asm.R6, 0, asm.R0, asm.Half),
		asm.Mov.Reg(asm.R5, asm.R7),
	)
	code = append(code, csum(36, 4)...)
	code = append(code,
		asm.StoreMem(asm.R6, 38, asm.R0, asm.Half),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Add.Imm(asm.R1, 92),
		asm.JGT.Reg(asm.R1, asm.R9, "done"),
		asm.LoadImm(asm.R5, 0x1234ffffffff, asm.DWord),
	)
	code = append(code, csum(0, 92)...)
	code = append(code,
		asm.StoreMem(asm.R6, 2, asm.R0, asm.Half),
		asm.Add.Reg(asm.R7, asm.R0),
		asm.Mov.Reg(asm.R0, asm.R7).WithSymbol("done"),
		asm.RSh.Imm(asm.R0, 3),
		asm.And.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return(),
	)
	return code
}
