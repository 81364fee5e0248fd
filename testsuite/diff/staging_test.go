package diff

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// unalignedMaps are the maps of unalignedKeysProgram: key and value sizes
// that are not whole words, so their stack copies straddle LM words.
var unalignedMaps = []*loader.Map{
	{Name: "six", Type: ebpf.Hash, KeySize: 6, ValueSize: 8, MaxEntries: 16},
	{Name: "port", Type: ebpf.Hash, KeySize: 2, ValueSize: 8, MaxEntries: 16},
	{Name: "far", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 16},
}

// unalignedKeysProgram calls the map helpers with keys and values at stack
// addresses that are not 4-byte aligned, which the NFP firmware cannot take
// (it addresses LM words): a 6-byte key at fp-7 (lane 1, three words), a
// 7-byte value at fp-21 (lane 3), a 2-byte key at fp-10 (lane 2, like
// xdp_fw's __u16 port) and a 4-byte key at fp-203 (beyond *l$index0). The
// keys come from the low bits of packet bytes so that packets hit each
// other's entries; found values are copied into the packet.
func unalignedKeysProgram() asm.Instructions {
	b := func(off int16, r asm.Register) asm.Instruction { return asm.StoreMem(asm.RFP, off, r, asm.Byte) }
	code := packetGuard(48,
		asm.Mov.Reg(asm.R6, asm.R2),
		asm.LoadMem(asm.R7, asm.R6, 22, asm.Byte), // TTL: which calls run
		asm.Mov.Reg(asm.R8, asm.R7),
		asm.And.Imm(asm.R8, 3),
		// key six at fp-7..fp-2: r8, 0xaa, r8^0x55, 0x01, 0x80, r8
		b(-7, asm.R8),
		asm.Mov.Imm(asm.R1, 0xaa),
		b(-6, asm.R1),
		asm.Mov.Reg(asm.R1, asm.R8),
		asm.Xor.Imm(asm.R1, 0x55),
		b(-5, asm.R1),
		asm.Mov.Imm(asm.R1, 1),
		b(-4, asm.R1),
		asm.Mov.Imm(asm.R1, 0x80),
		b(-3, asm.R1),
		b(-2, asm.R8),
	)
	// value at fp-21..fp-14: packet bytes 30..37
	for i := int16(0); i < 8; i++ {
		code = append(code, asm.LoadMem(asm.R1, asm.R6, 30+i, asm.Byte), b(-21+i, asm.R1))
	}
	code = append(code,
		// key port at fp-10: packet half 12 & 3
		asm.LoadMem(asm.R1, asm.R6, 12, asm.Half),
		asm.And.Imm(asm.R1, 3),
		asm.StoreMem(asm.RFP, -10, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.R6, 38, asm.DWord),
		asm.StoreMem(asm.RFP, -32, asm.R1, asm.DWord),
		// key far at fp-203..fp-200: r8, 0, 0, 7
		b(-203, asm.R8),
		asm.Mov.Imm(asm.R1, 0),
		b(-202, asm.R1),
		b(-201, asm.R1),
		asm.Mov.Imm(asm.R1, 7),
		b(-200, asm.R1),
		asm.LoadMem(asm.R1, asm.R6, 40, asm.Word),
		asm.StoreMem(asm.RFP, -208, asm.R1, asm.Word),

		// TTL & 4: update six and port
		asm.Mov.Reg(asm.R1, asm.R7),
		asm.And.Imm(asm.R1, 4),
		asm.JEq.Imm(asm.R1, 0, "lookup"),
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -7),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -21),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
		asm.StoreMem(asm.R6, 44, asm.R0, asm.Byte),
		asm.LoadMapPtr(asm.R1, 1),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -10),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -32),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
		asm.StoreMem(asm.R6, 45, asm.R0, asm.Byte),

		// lookup six: its 8 value bytes to packet bytes 0..7
		asm.LoadMapPtr(asm.R1, 0).WithSymbol("lookup"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -7),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "port"),
	)
	for i := int16(0); i < 8; i++ {
		code = append(code, asm.LoadMem(asm.R1, asm.R0, i, asm.Byte), asm.StoreMem(asm.R6, i, asm.R1, asm.Byte))
	}
	code = append(code,
		// lookup port: the value's low word to packet bytes 8..11
		asm.LoadMapPtr(asm.R1, 1).WithSymbol("port"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -10),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "far"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.StoreMem(asm.R6, 8, asm.R1, asm.Word),

		// far: TTL & 8 updates, TTL & 16 deletes, then a lookup
		asm.Mov.Reg(asm.R1, asm.R7).WithSymbol("far"),
		asm.And.Imm(asm.R1, 8),
		asm.JEq.Imm(asm.R1, 0, "fardel"),
		asm.LoadMapPtr(asm.R1, 2),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -203),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -208),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
		asm.Mov.Reg(asm.R1, asm.R7).WithSymbol("fardel"),
		asm.And.Imm(asm.R1, 16),
		asm.JEq.Imm(asm.R1, 0, "farlook"),
		asm.LoadMapPtr(asm.R1, 2),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -203),
		asm.FnMapDeleteElem.Call(),
		asm.StoreMem(asm.R6, 46, asm.R0, asm.Byte),
		asm.LoadMapPtr(asm.R1, 2).WithSymbol("farlook"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -203),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
		asm.StoreMem(asm.R6, 12, asm.R1, asm.Word),
		asm.Mov.Imm(asm.R0, 3),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 2).WithSymbol("out"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return(),
	)
	return code
}
