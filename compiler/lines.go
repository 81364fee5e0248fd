package compiler

import (
	"github.com/cilium/ebpf/btf"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/isa/image"
)

// fillSourceLines gives each entry of img's line table the C file and line
// of its eBPF instruction, from the object's BTF line info (clang -g): the
// backend knows eBPF slots, not source, so this runs after it. A line info
// record covers its instruction and those after it up to the next record,
// as in the kernel's verifier log; entries without an eBPF slot, or in a
// program without BTF, keep File "" and Line 0. `nfpcc objdump -S` and the
// run profile read the result.
func fillSourceLines(img *image.Image, p *loader.Program) {
	type src struct {
		file string
		line uint32
	}
	at := map[uint32]src{}
	var cur *src
	slot := uint32(0)
	for _, ins := range p.Insns {
		if l, ok := ins.Source().(*btf.Line); ok && l.LineNumber() > 0 {
			cur = &src{file: l.FileName(), line: l.LineNumber()}
		}
		if cur != nil {
			at[slot] = *cur
		}
		slot += uint32(ins.Width())
	}
	for i := range img.Lines {
		if s, ok := at[img.Lines[i].PC]; ok && img.Lines[i].PC != image.NoPC {
			img.Lines[i].File, img.Lines[i].Line = s.file, s.line
		}
	}
}
