package image

import "fmt"

// LoadParams is what the firmware tells the loader (the kernel's
// struct nfp_bpf_vnic and the firmware helper table).
type LoadParams struct {
	// StartOff is the code-store address of the program's first word
	// (CoreNIC: NFD_BPF_START_OFF = 3072).
	StartOff uint32
	// TgtDone is the firmware's next-packet address (absolute).
	TgtDone uint32
	// Helpers maps an eBPF helper id to its firmware address (absolute).
	Helpers map[uint32]uint32
}

// Relocate returns the code as the card runs it at p.StartOff: every
// relocation applied as nfp_bpf_relo_for_vnic does, and ECC recomputed for
// the patched words. The image itself is not changed.
func (img *Image) Relocate(p LoadParams) ([]uint64, error) {
	code := append([]uint64(nil), img.Code...)
	for _, r := range img.Relocs {
		if int(r.Index) >= len(code) {
			return nil, fmt.Errorf("relocation at .%d: outside the code (%d words)", r.Index, len(code))
		}
		w := code[r.Index] & insnMask
		var target uint32
		switch r.Kind {
		case RelocBrRel:
			target = branchTarget(w) + p.StartOff
		case RelocBrGoOut, RelocBrGoAbort, RelocBrGoCallPushRegs, RelocBrGoCallPopRegs:
			target = r.Value + p.StartOff
		case RelocBrNextPkt:
			target = p.TgtDone
		case RelocBrHelper:
			addr, ok := p.Helpers[r.Value]
			if !ok {
				return nil, fmt.Errorf("relocation at .%d: the firmware provides no address for helper %d (%s)", r.Index, r.Value, HelperName(r.Value))
			}
			target = addr
		case RelocImmedRel:
			v := immedValue(w) + p.StartOff
			if v > 0xffff {
				return nil, fmt.Errorf("relocation at .%d: immediate %d + start offset %d does not fit 16 bits", r.Index, immedValue(w), p.StartOff)
			}
			code[r.Index] = WithECC(setImmedValue(w, v))
			continue
		default:
			return nil, fmt.Errorf("relocation at .%d: unknown kind %d", r.Index, uint8(r.Kind))
		}
		if target >= MaxCode {
			return nil, fmt.Errorf("relocation at .%d (%v): target %d beyond the %d-word code store", r.Index, r.Kind, target, MaxCode)
		}
		code[r.Index] = WithECC(setBranchTarget(w, target))
	}
	return code, nil
}
