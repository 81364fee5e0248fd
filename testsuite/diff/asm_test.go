package diff

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
)

// handWritten is one program of TestHandWritten.
type handWritten struct {
	name string
	typ  ebpf.ProgramType
	code asm.Instructions
}

// TestHandWritten compiles small eBPF programs no corpus object covers — the
// tc outro's whole return table, legacy packet loads in and out of bounds,
// 64-bit arithmetic on packet words — and checks them against the
// reference like the corpus programs.
func TestHandWritten(t *testing.T) {
	progs := []handWritten{
		{"tc_codes", ebpf.SchedCLS, asm.Instructions{
			// r0 = packet byte 14 & 7 (every tc code), or -1 past the end.
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.LoadAbs(14, asm.Byte),
			asm.And.Imm(asm.R0, 7),
			asm.JNE.Imm(asm.R0, 6, "out"),
			asm.Mov.Imm(asm.R0, -1),
			asm.Return().WithSymbol("out"),
		}},
		{"tc_ldabs", ebpf.SchedCLS, asm.Instructions{
			// Big-endian halfword and word loads; 60 is past short frames.
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.LoadAbs(12, asm.Half),
			asm.Mov.Reg(asm.R7, asm.R0),
			asm.LoadAbs(60, asm.Word),
			asm.Xor.Reg(asm.R0, asm.R7),
			asm.RSh.Imm(asm.R0, 3),
			asm.And.Imm(asm.R0, 7),
			asm.Return(),
		}},
		{"xdp_arith64", ebpf.XDP, asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
			asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
			asm.Mov.Reg(asm.R4, asm.R2),
			asm.Add.Imm(asm.R4, 16),
			asm.JGT.Reg(asm.R4, asm.R3, "short"),
			asm.LoadMem(asm.R5, asm.R2, 0, asm.DWord),
			asm.LoadMem(asm.R6, asm.R2, 8, asm.DWord),
			asm.Mul.Reg(asm.R5, asm.R6),
			asm.Sub.Imm(asm.R5, 123456789),
			asm.ArSh.Imm(asm.R5, 17),
			asm.Mov.Reg(asm.R7, asm.R6),
			asm.LSh.Imm(asm.R7, 33),
			asm.Xor.Reg(asm.R5, asm.R7),
			asm.StoreMem(asm.R2, 0, asm.R5, asm.DWord),
			asm.JSGT.Reg(asm.R5, asm.R6, "two"),
			asm.Mov.Imm(asm.R0, 1),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 2).WithSymbol("two"),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 3).WithSymbol("short"),
			asm.Return(),
		}},
	}
	progs = append(progs,
		handWritten{"xdp_compares", ebpf.XDP, comparesProgram()},
		handWritten{"xdp_alu", ebpf.XDP, aluProgram()},
		handWritten{"xdp_maps", ebpf.XDP, mapsProgram()},
		handWritten{"xdp_adjust_head", ebpf.XDP, adjustHeadProgram()},
		handWritten{"xdp_adjust_tail", ebpf.XDP, adjustTailProgram()},
		handWritten{"xdp_unaligned_keys", ebpf.XDP, unalignedKeysProgram()},
		handWritten{"xdp_csum_diff", ebpf.XDP, csumProgram()},
		handWritten{"xdp_csum_diff_stack", ebpf.XDP, csumDiffStackProgram()},
		handWritten{"tc_ldind", ebpf.SchedCLS, ldIndProgram()},
		handWritten{"tc_ldind_negative", ebpf.SchedCLS, ldIndNegativeProgram()},
		handWritten{"xdp_div_const", ebpf.XDP, divProgram()},
		handWritten{"xdp_lsh", ebpf.XDP, shiftProgram(asm.LSh)},
		handWritten{"xdp_rsh", ebpf.XDP, shiftProgram(asm.RSh)},
		handWritten{"xdp_arsh", ebpf.XDP, shiftProgram(asm.ArSh)},
		handWritten{"xdp_dead_sext", ebpf.XDP, deadSextProgram()},
		handWritten{"xdp_stack_atomics", ebpf.XDP, stackAtomicsProgram()},
		handWritten{"xdp_div_wide", ebpf.XDP, divWideProgram()},
	)
	for _, p := range progs {
		t.Run(p.name, func(t *testing.T) {
			resolve(t, p.code)
			obj := &loader.Object{Path: p.name + ".o", Programs: []*loader.Program{{Name: p.name, Section: "prog", Type: p.typ, License: "GPL", Insns: p.code}}}
			if p.name == "xdp_maps" {
				obj.Maps = []*loader.Map{
					{Name: "hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 24, MaxEntries: 64},
					{Name: "array", Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4},
				}
			}
			if p.name == "xdp_unaligned_keys" {
				obj.Maps = unalignedMaps
			}
			imgs, _, err := compiler.Compile(obj, compiler.Options{MCPU: "emulator"})
			if err != nil {
				t.Fatal(err)
			}
			if n := checkProgram(t, p.name, obj, 0, obj.Programs[0].Type, imgs[0]); n < 70 {
				t.Errorf("only %d packets compared", n)
			}
			// Again with 3 registers, spilling.
			imgs, rep, err := compiler.Compile(obj, compiler.Options{Regs: 3, MCPU: "emulator"})
			if err != nil {
				t.Logf("with 3 registers: %v", err)
				return
			}
			t.Logf("with 3 registers: %d values spilled", rep.Programs[0].Stats.Spilled)
			if n := checkProgram(t, p.name+" (3 registers)", obj, 0, obj.Programs[0].Type, imgs[0]); n < 70 {
				t.Errorf("only %d packets compared with 3 registers", n)
			}
		})
	}
}

// resolve sets the offsets of jumps to symbols, in instruction slots
// (a 64-bit immediate load takes two).
func resolve(t *testing.T, insns asm.Instructions) {
	slot := make([]int, len(insns))
	at := map[string]int{}
	n := 0
	for i, ins := range insns {
		slot[i] = n
		n += int(ins.Size()) / asm.InstructionSize
		if s := ins.Symbol(); s != "" {
			at[s] = slot[i]
		}
	}
	for i := range insns {
		if r := insns[i].Reference(); r != "" && insns[i].OpCode.JumpOp() != asm.InvalidJumpOp && insns[i].OpCode.JumpOp() != asm.Call {
			tgt, ok := at[r]
			if !ok {
				t.Fatalf("no symbol %s", r)
			}
			insns[i].Offset = int16(tgt - slot[i] - 1)
		}
	}
}

// comparesProgram tests every ordered compare, 64- and 32-bit, against
// constants at the edges (0, -1, 255, 256, the signed maximum) with values
// next to them (c + d, d in -1..2 from the low bits of packet byte 22: an
// IPv4 TTL, or random), and flips one bit of packet bytes 0–9 per taken
// branch (packet contents keep the verifier's states after each test
// equal, so it does not explore 2^80 paths).
func comparesProgram() asm.Instructions {
	ops := []asm.JumpOp{asm.JGT, asm.JGE, asm.JLT, asm.JLE, asm.JSGT, asm.JSGE, asm.JSLT, asm.JSLE}
	consts := []int32{0, -1, 255, 256, 0x7fffffff}
	code := packetGuard(24)
	n := 0
	for _, wide := range []bool{true, false} {
		for _, op := range ops {
			for _, c := range consts {
				set, next := fmt.Sprintf("s%d", n), fmt.Sprintf("n%d", n)
				j := op.Imm(asm.R4, c, set)
				if !wide {
					j = op.Imm32(asm.R4, c, set)
				}
				code = append(code,
					asm.LoadMem(asm.R4, asm.R2, 22, asm.Byte),
					asm.And.Imm(asm.R4, 3),
					asm.Sub.Imm(asm.R4, 1),
					asm.Add.Imm(asm.R4, c),
					j,
					asm.Ja.Label(next),
					asm.LoadMem(asm.R7, asm.R2, int16(n/8), asm.Byte).WithSymbol(set),
					asm.Xor.Imm(asm.R7, 1<<(n%8)),
					asm.StoreMem(asm.R2, int16(n/8), asm.R7, asm.Byte),
					asm.Mov.Imm(asm.R4, 0).WithSymbol(next),
					asm.Mov.Imm(asm.R7, 0))
				n++
			}
		}
	}
	return append(code,
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return())
}

// aluProgram runs ALU ops, 64- and 32-bit, on packet words (bytes 0–7,
// 26–33 and 34–41: addresses, ports and payload, or random bytes) and edge
// constants, folding every result into a hash written to bytes 0–7.
func aluProgram() asm.Instructions {
	code := packetGuard(42,
		asm.LoadMem(asm.R6, asm.R2, 0, asm.DWord),
		asm.LoadMem(asm.R7, asm.R2, 26, asm.DWord),
		asm.LoadMem(asm.R8, asm.R2, 34, asm.DWord),
		asm.Mov.Imm(asm.R9, 0), // the hash
	)
	mix := func(r asm.Register) {
		code = append(code,
			asm.Xor.Reg(asm.R9, r),
			asm.Mov.Reg(asm.R5, asm.R9),
			asm.RSh.Imm(asm.R5, 57),
			asm.LSh.Imm(asm.R9, 7),
			asm.Or.Reg(asm.R9, asm.R5))
	}
	// Sign-extending packet loads at every size and lane.
	for _, sz := range []asm.Size{asm.Byte, asm.Half, asm.Word} {
		for off := int16(34); off < 38; off++ {
			code = append(code, asm.LoadMemSX(asm.R4, asm.R2, off, sz))
			mix(asm.R4)
		}
	}
	srcs := []asm.Register{asm.R6, asm.R7, asm.R8}
	for i, x := range srcs {
		y := srcs[(i+1)%3]
		for _, op := range []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.And, asm.Or, asm.Xor} {
			code = append(code, asm.Mov.Reg(asm.R4, x), op.Reg(asm.R4, y))
			mix(asm.R4)
			code = append(code, asm.Mov.Reg(asm.R4, x), op.Reg32(asm.R4, y))
			mix(asm.R4)
			for _, c := range []int32{-1, 1, 300, -300, 0x7fffffff, 0xffff, -256, 0x00ff00ff} {
				code = append(code, asm.Mov.Reg(asm.R4, x), op.Imm(asm.R4, c))
				mix(asm.R4)
				code = append(code, asm.Mov.Reg(asm.R4, x), op.Imm32(asm.R4, c))
				mix(asm.R4)
			}
		}
		for _, op := range []asm.ALUOp{asm.LSh, asm.RSh, asm.ArSh} {
			for _, n := range []int32{0, 1, 7, 31, 32, 33, 63} {
				code = append(code, asm.Mov.Reg(asm.R4, x), op.Imm(asm.R4, n))
				mix(asm.R4)
				if n < 32 {
					code = append(code, asm.Mov.Reg(asm.R4, x), op.Imm32(asm.R4, n))
					mix(asm.R4)
				}
			}
			// 32-bit shift by a register (its low 5 bits).
			code = append(code, asm.Mov.Reg(asm.R4, x), asm.Mov.Reg(asm.R5, y), asm.And.Imm(asm.R5, 31), op.Reg32(asm.R4, asm.R5))
			mix(asm.R4)
			// 64-bit shifts by a register: below 32, from 32, and either.
			for _, mask := range []int32{31, 63} {
				code = append(code, asm.Mov.Reg(asm.R4, x), asm.Mov.Reg(asm.R5, y), asm.And.Imm(asm.R5, mask), op.Reg(asm.R4, asm.R5))
				mix(asm.R4)
			}
			code = append(code, asm.Mov.Reg(asm.R4, x), asm.Mov.Reg(asm.R5, y), asm.And.Imm(asm.R5, 31), asm.Or.Imm(asm.R5, 32), op.Reg(asm.R4, asm.R5))
			mix(asm.R4)
		}
		for _, op := range []asm.ALUOp{asm.Div, asm.Mod} {
			code = append(code, asm.Mov.Reg(asm.R4, x), op.Imm32(asm.R4, 16))
			mix(asm.R4)
		}
		code = append(code, asm.Mov.Reg(asm.R4, x), asm.Neg.Imm(asm.R4, 0))
		mix(asm.R4)
		code = append(code, asm.Mov.Reg(asm.R4, x), asm.Neg.Imm32(asm.R4, 0))
		mix(asm.R4)
		for _, sz := range []asm.Size{asm.Half, asm.Word, asm.DWord} {
			code = append(code, asm.Mov.Reg(asm.R4, x), asm.HostTo(asm.BE, asm.R4, sz))
			mix(asm.R4)
		}
		// Sign extension: 64-bit and 32-bit movsx.
		for _, op := range []asm.ALUOp{asm.MovSX8, asm.MovSX16, asm.MovSX32} {
			code = append(code, op.Reg(asm.R4, x))
			mix(asm.R4)
			if op != asm.MovSX32 {
				code = append(code, op.Reg32(asm.R4, x))
				mix(asm.R4)
			}
		}
	}
	return append(code,
		asm.StoreMem(asm.R2, 0, asm.R9, asm.DWord),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return())
}

// mapsProgram updates, looks up and deletes hash entries keyed by packet
// bytes, with a 16-byte value built on the stack from sub-word stores;
// reads the found value at every size and lane into the packet, writes and
// atomically adds into it, bumps an array counter, and keeps a byte at
// fp-200 (beyond *l$index0's reach).
func mapsProgram() asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R2),
		asm.Add.Imm(asm.R1, 42),
		asm.JGT.Reg(asm.R1, asm.R3, "short"),
		asm.Mov.Reg(asm.R6, asm.R2),
		// key = packet word 26 & 7 at fp-4
		asm.LoadMem(asm.R1, asm.R6, 26, asm.Word),
		asm.And.Imm(asm.R1, 7),
		asm.StoreMem(asm.RFP, -4, asm.R1, asm.Word),
		// value at fp-32: u64, u32, u16, u8, u8, then a zero u64 counter
		// (atomics keep their words big-endian on the NFP: only a zero
		// looks the same both ways)
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, 34, asm.DWord),
		asm.StoreMem(asm.RFP, -32, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, 30, asm.Word),
		asm.StoreMem(asm.RFP, -24, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, 12, asm.Half),
		asm.StoreMem(asm.RFP, -20, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.R6, 22, asm.Byte),
		asm.StoreMem(asm.RFP, -18, asm.R1, asm.Byte),
		asm.Mov.Imm(asm.R1, 0x5a),
		asm.StoreMem(asm.RFP, -17, asm.R1, asm.Byte),
		asm.StoreMem(asm.RFP, -200, asm.R1, asm.Byte),
		// if ttl & 1: update
		asm.LoadMem(asm.R7, asm.R6, 22, asm.Byte),
		asm.Mov.Reg(asm.R1, asm.R7),
		asm.And.Imm(asm.R1, 1),
		asm.JEq.Imm(asm.R1, 0, "lookup"),
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -32),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
		asm.StoreMem(asm.R6, 8, asm.R0, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithSymbol("lookup"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "del"),
		asm.LoadMem(asm.R1, asm.R0, 3, asm.Byte),
		asm.StoreMem(asm.R6, 0, asm.R1, asm.Byte),
		asm.LoadMem(asm.R1, asm.R0, 6, asm.Half),
		asm.StoreMem(asm.R6, 1, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.R0, 8, asm.Word),
		asm.StoreMem(asm.R6, 3, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.StoreMem(asm.R6, 14, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 13, asm.Byte),
		asm.StoreMem(asm.R6, 7, asm.R1, asm.Byte),
		asm.LoadMem(asm.R1, asm.RFP, -200, asm.Byte),
		asm.StoreMem(asm.R0, 15, asm.R1, asm.Byte),
		asm.StoreMem(asm.R0, 4, asm.R7, asm.Half),
		asm.Mov.Imm(asm.R1, 3),
		atOffset(asm.StoreXAdd(asm.R0, asm.R1, asm.DWord), 16),
		asm.LoadMem(asm.R1, asm.RFP, -18, asm.Half),
		asm.StoreMem(asm.R6, 22, asm.R1, asm.Half),
		asm.Mov.Reg(asm.R1, asm.R7).WithSymbol("del"),
		asm.And.Imm(asm.R1, 2),
		asm.JEq.Imm(asm.R1, 0, "array"),
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapDeleteElem.Call(),
		asm.StoreMem(asm.R6, 10, asm.R0, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, 23, asm.Byte).WithSymbol("array"),
		asm.And.Imm(asm.R1, 3),
		asm.StoreMem(asm.RFP, -36, asm.R1, asm.Word),
		asm.LoadMapPtr(asm.R1, 1),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -36),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		atOffset(asm.StoreXAdd(asm.R0, asm.R1, asm.Word), 4),
		asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord),
		asm.Add.Reg(asm.R1, asm.R7),
		asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 2).WithSymbol("out"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return(),
	}
}

func atOffset(ins asm.Instruction, off int16) asm.Instruction {
	ins.Offset = off
	return ins
}

// adjustHeadProgram moves the packet start by 2 × (signed byte 0), from
// -256 to +254: in range, past the headroom and past the frame's end; on
// success it writes the new first byte and transmits, else drops.
func adjustHeadProgram() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R2),
		asm.Add.Imm(asm.R1, 1),
		asm.JGT.Reg(asm.R1, asm.R3, "short"),
		asm.LoadMemSX(asm.R2, asm.R2, 0, asm.Byte),
		asm.LSh.Imm(asm.R2, 1),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.FnXdpAdjustHead.Call(),
		asm.JNE.Imm(asm.R0, 0, "fail"),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R6, 4, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R2),
		asm.Add.Imm(asm.R1, 1),
		asm.JGT.Reg(asm.R1, asm.R3, "short"),
		asm.Mov.Imm(asm.R1, 0x5a),
		asm.StoreMem(asm.R2, 0, asm.R1, asm.Byte),
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("fail"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 2).WithSymbol("short"),
		asm.Return(),
	}
}

// adjustTailProgram shrinks the frame by byte 0 & 63 (0–63 bytes: some
// frames would keep fewer than 14) and transmits it, or drops on failure.
func adjustTailProgram() asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R2),
		asm.Add.Imm(asm.R1, 1),
		asm.JGT.Reg(asm.R1, asm.R3, "short"),
		asm.LoadMem(asm.R2, asm.R2, 0, asm.Byte),
		asm.And.Imm(asm.R2, 63),
		asm.Neg.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.FnXdpAdjustTail.Call(),
		asm.JNE.Imm(asm.R0, 0, "fail"),
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("fail"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 2).WithSymbol("short"),
		asm.Return(),
	}
}

// packetGuard starts a hand-written XDP program: r2 = data, r3 = data_end,
// and a jump to "short" unless n bytes are there (r1 = data + n); then the
// instructions given.
func packetGuard(n int32, then ...asm.Instruction) asm.Instructions {
	return append(asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R2),
		asm.Add.Imm(asm.R1, n),
		asm.JGT.Reg(asm.R1, asm.R3, "short"),
	}, then...)
}
