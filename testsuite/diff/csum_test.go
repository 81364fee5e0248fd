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

// csumDiffStackProgram uses bpf_csum_diff the way NAT and load-balancer
// code updates checksums: the difference of an old and a new 4-byte field
// kept on the stack (from and to both set), seeded with the packet's
// checksum field complemented; then a 12-byte from range on the stack
// against 8 packet bytes, a from-only (removal) range of the packet, and a
// 16-byte stack range at a deeper frame address (the LM window). The
// results go into the packet and r0.
func csumDiffStackProgram() asm.Instructions {
	call := func(from int32, fromN int32, fromPkt bool, to int32, toN int32, toPkt bool) asm.Instructions {
		base := func(r asm.Register, off int32, pkt bool) asm.Instructions {
			if pkt {
				return asm.Instructions{asm.Mov.Reg(r, asm.R6), asm.Add.Imm(r, off)}
			}
			return asm.Instructions{asm.Mov.Reg(r, asm.R10), asm.Add.Imm(r, off)}
		}
		out := base(asm.R1, from, fromPkt)
		out = append(out, asm.Mov.Imm(asm.R2, fromN))
		out = append(out, base(asm.R3, to, toPkt)...)
		return append(out, asm.Mov.Imm(asm.R4, toN), asm.FnCsumDiff.Call())
	}
	code := packetGuard(48,
		asm.Mov.Reg(asm.R6, asm.R2),
		// old = packet word 26 (an IPv4 source address), new = word 30.
		asm.LoadMem(asm.R1, asm.R6, 26, asm.Word),
		asm.StoreMem(asm.R10, -8, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, 30, asm.Word),
		asm.StoreMem(asm.R10, -4, asm.R1, asm.Word),
		// 12 stack bytes at -24 and 16 at -160 from packet words.
		asm.LoadMem(asm.R1, asm.R6, 2, asm.DWord),
		asm.StoreMem(asm.R10, -24, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, 10, asm.Word),
		asm.StoreMem(asm.R10, -16, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, 14, asm.DWord),
		asm.StoreMem(asm.R10, -160, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, 22, asm.DWord),
		asm.StoreMem(asm.R10, -152, asm.R1, asm.DWord),
		// seed: ~checksum field (bytes 24..25)
		asm.LoadMem(asm.R5, asm.R6, 24, asm.Half),
		asm.Xor.Imm(asm.R5, -1),
	)
	code = append(code, call(-8, 4, false, -4, 4, false)...)
	code = append(code, asm.StoreMem(asm.R6, 24, asm.R0, asm.Half), asm.Mov.Reg(asm.R7, asm.R0), asm.Mov.Reg(asm.R5, asm.R0))
	code = append(code, call(-24, 12, false, 40, 8, true)...)
	code = append(code, asm.StoreMem(asm.R6, 0, asm.R0, asm.Half), asm.Add.Reg(asm.R7, asm.R0), asm.Mov.Imm(asm.R5, 0))
	code = append(code, call(32, 16, true, 0, 0, false)...)
	code = append(code, asm.StoreMem(asm.R6, 2, asm.R0, asm.Half), asm.Add.Reg(asm.R7, asm.R0), asm.Mov.Reg(asm.R5, asm.R7))
	code = append(code, call(-160, 16, false, -24, 12, false)...)
	code = append(code,
		asm.StoreMem(asm.R6, 4, asm.R0, asm.Half),
		asm.Add.Reg(asm.R0, asm.R7),
		asm.RSh.Imm(asm.R0, 3),
		asm.And.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return(),
	)
	return code
}
