package image

import (
	"fmt"
	"strings"
)

// String describes everything of the image but the code (which objdump
// shows): program metadata, relocations, maps and the line table, one item
// a line, for listings and golden tests.
func (img *Image) String() string {
	var b strings.Builder
	p := img.Program
	fmt.Fprintf(&b, "program %s: type %v, entry .%d, stack %d, caps %v, %d words",
		p.Name, p.Type, p.Entry, p.StackSize, p.Caps, len(img.Code))
	if p.MCPU != MCPUCoreNIC {
		fmt.Fprintf(&b, ", mcpu %v", p.MCPU)
	}
	b.WriteByte('\n')
	for _, r := range img.Relocs {
		fmt.Fprintf(&b, "reloc .%d %v", r.Index, r.Kind)
		switch {
		case relocInfo[r.Kind].valueIsTgt:
			fmt.Fprintf(&b, " -> .%d", r.Value)
		case r.Kind == RelocBrHelper:
			fmt.Fprintf(&b, " helper %d (%s)", r.Value, HelperName(r.Value))
		case r.Value != 0:
			fmt.Fprintf(&b, " value %d", r.Value)
		}
		b.WriteByte('\n')
	}
	for i, m := range img.Maps {
		fmt.Fprintf(&b, "map %d %s: type %d, key %d, value %d, entries %d, flags %#x", i, m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)
		if len(m.Contents) > 0 {
			fmt.Fprintf(&b, ", %d bytes initialised", len(m.Contents))
		}
		b.WriteByte('\n')
	}
	for _, l := range img.Lines {
		fmt.Fprintf(&b, "line .%d", l.Addr)
		if l.PC != NoPC {
			fmt.Fprintf(&b, " pc %d", l.PC)
		}
		if l.File != "" || l.Line != 0 {
			fmt.Fprintf(&b, " %s:%d", l.File, l.Line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
