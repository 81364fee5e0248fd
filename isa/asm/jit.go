package asm

import (
	"fmt"
	"sort"

	"github.com/nfpcc/nfpcc/isa"
)

// InferJITRelocs recovers the relocations of a Linux JIT dump. The JIT
// writes every branch fixed at load with the placeholder target 15000
// (BR_OFF_RELO) and keeps the relocation kind aside, so a dump (bpftool's
// `prog dump jited`, the nfp-jit corpus) shows only the placeholders. The
// kernel's emitters make the kind readable from the branch itself
// (drivers/net/ethernet/netronome/nfp/bpf/jit.c):
//
//	br[.15000]                 exit: RELO_BR_GO_OUT to tgt_out (goto_out)
//	bcc[.15000] (conditional)  RELO_BR_GO_ABORT to tgt_abort (bounds checks)
//	br[.15000], defer[2]       RELO_BR_NEXT_PKT (the outros)
//	br[.15000+id], defer[2]    RELO_BR_HELPER, helper id (a helper call), and
//	                           the immed[gprB_0, ret] in its second defer slot
//	                           RELO_IMMED_REL (the return address)
//
// Both outros (nfp_outro_xdp, nfp_outro_tc_da) begin at tgt_abort with
// the first next-packet branch and its two defer slots, so tgt_out is
// tgt_abort + 3. BPF-to-BPF calls (register push/pop subroutines) use the
// same placeholders with patterns this function does not take apart: it
// refuses them rather than guess.
func InferJITRelocs(p *Program) error {
	have := map[int]bool{}
	for _, r := range p.Relocs {
		have[r.Word] = true
	}
	br := func(i int) (isa.BranchInstr, bool) {
		b, ok := isa.Decode(p.Words[i]).(isa.BranchInstr)
		return b, ok && !have[i] && b.Addr >= branchRelocBase
	}
	abort := -1
	for i := range p.Words {
		if b, ok := br(i); ok && b.Cond == isa.BR && b.Addr == branchRelocBase && b.Defer == 2 {
			abort = i
			break
		}
	}
	var found []Reloc
	for i := range p.Words {
		b, ok := br(i)
		if !ok {
			continue
		}
		id := int(b.Addr) - branchRelocBase
		switch {
		case id == 0 && b.Cond == isa.BR && b.Defer == 0:
			if abort < 0 || abort+3 >= len(p.Words) {
				return fmt.Errorf("word .%d: an exit branch, but no outro (a br[.15000], defer[2]) to find tgt_out", i)
			}
			found = append(found, Reloc{Word: i, Kind: RelocBrGoOut, Value: abort + 3})
		case id == 0 && b.Cond != isa.BR && b.Defer == 0:
			if abort < 0 {
				return fmt.Errorf("word .%d: an abort branch, but no outro to find tgt_abort", i)
			}
			found = append(found, Reloc{Word: i, Kind: RelocBrGoAbort, Value: abort})
		case id == 0 && b.Cond == isa.BR && b.Defer == 2:
			found = append(found, Reloc{Word: i, Kind: RelocBrNextPkt})
		case id > 0 && b.Cond == isa.BR && b.Defer == 2 && knownHelper(id):
			found = append(found, Reloc{Word: i, Kind: RelocBrHelper, Value: id})
			if i+2 < len(p.Words) && !have[i+2] {
				if im, ok := isa.Decode(p.Words[i+2]).(isa.ImmedInstr); ok && int(im.Value()) < len(p.Words) && im.Width == isa.WidthAll && !im.Inv && im.Shift == 0 {
					found = append(found, Reloc{Word: i + 2, Kind: RelocImmedRel})
				}
			}
		default:
			return fmt.Errorf("word .%d: %s is no branch form the JIT relocates (BPF-to-BPF calls are not inferred)", i, isa.Disasm(p.Words[i], isa.Options{Mode: isa.Ctx4}))
		}
	}
	p.Relocs = append(p.Relocs, found...)
	sortRelocs(p.Relocs)
	return nil
}

func knownHelper(id int) bool {
	for _, v := range helperIDs {
		if v == id {
			return true
		}
	}
	return false
}

func sortRelocs(r []Reloc) {
	sort.Slice(r, func(i, j int) bool { return r[i].Word < r[j].Word })
}
