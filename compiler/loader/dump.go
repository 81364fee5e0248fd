package loader

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// EntrySlots is the size of the entry function alone, in 64-bit slots: the
// program as it sits in its ELF section, before subprograms were appended.
func (p *Program) EntrySlots() int {
	if len(p.Funcs) > 1 {
		return p.Funcs[1].Slot
	}
	return p.Slots()
}

// Slots is the size of the linked program in 64-bit slots (LD_IMM64
// counts 2), the unit of pcs, jump and call offsets.
func (p *Program) Slots() int {
	n := 0
	for _, ins := range p.Insns {
		n += int(ins.Size() / asm.InstructionSize)
	}
	return n
}

// String lists the linked program, one instruction per line with its pc
// (slot), function labels before their first instruction:
//
//	xdp_prog:
//	   0: MovImm dst: r0 imm: 2
//	   1: Exit
func (p *Program) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "program %s section %q type %v (%d slots)\n", p.Name, p.Section, p.Type, p.Slots())
	funcs := map[int]string{}
	for _, f := range p.Funcs {
		funcs[f.Slot] = f.Name
	}
	slot := 0
	for _, ins := range p.Insns {
		if name, ok := funcs[slot]; ok {
			fmt.Fprintf(&b, "%s:\n", name)
		}
		fmt.Fprintf(&b, "%6d: %v\n", slot, ins)
		slot += int(ins.Size() / asm.InstructionSize)
	}
	return b.String()
}

// String summarises a map definition on one line.
func (m *Map) String() string {
	s := fmt.Sprintf("%s %v key %d value %d max %d flags %#x (%s)", m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags, m.Section)
	if m.InnerMap != nil {
		s += " inner: " + m.InnerMap.String()
	}
	return s
}
