package backend

import (
	"fmt"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// Listing is an image's code as text: word index, GNU objdump's text (ctx4
// numbering), the relocation of the word if any, and the eBPF slot the
// word came from where that changes.
func Listing(img *image.Image) string {
	rel := map[uint32]image.Reloc{}
	for _, r := range img.Relocs {
		rel[r.Index] = r
	}
	pcAt := map[uint32]uint32{}
	for _, l := range img.Lines {
		pcAt[l.Addr] = l.PC
	}
	var b strings.Builder
	for i, w := range img.Code {
		txt := isa.Disasm(isa.Word(w), isa.Options{Mode: isa.Ctx4})
		line := fmt.Sprintf("%4d: %s", i, txt)
		var notes []string
		if r, ok := rel[uint32(i)]; ok {
			switch r.Kind {
			case image.RelocBrRel, image.RelocImmedRel, image.RelocBrNextPkt:
				notes = append(notes, r.Kind.String())
			case image.RelocBrHelper:
				notes = append(notes, fmt.Sprintf("%s %s", r.Kind, image.HelperName(r.Value)))
			default:
				notes = append(notes, fmt.Sprintf("%s .%d", r.Kind, r.Value))
			}
		}
		if pc, ok := pcAt[uint32(i)]; ok && pc != image.NoPC {
			notes = append(notes, fmt.Sprintf("@%d", pc))
		}
		if len(notes) > 0 {
			line = fmt.Sprintf("%-56s ; %s", line, strings.Join(notes, " "))
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	return b.String()
}
