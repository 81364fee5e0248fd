package nfp

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/asm"
	"github.com/nfpcc/nfpcc/isa/image"
)

// LoadImage prepares an nfpcc image for running. The code runs at address
// 0: program-relative branch targets and immediates are right as stored,
// and the relocations say which branches leave the program (to the outro,
// the abort path, the next packet or a firmware helper).
func LoadImage(img *image.Image) (*Program, error) {
	ins := make([]isa.Instr, len(img.Code))
	for i, w := range img.Code {
		ins[i] = isa.Decode(isa.Word(w))
	}
	p, err := translate(ins, img.Relocs, nil)
	if err != nil {
		return nil, err
	}
	if int(img.Program.Entry) >= len(ins) {
		return nil, fmt.Errorf("image entry .%d is outside the code (%d words)", img.Program.Entry, len(ins))
	}
	p.Entry = img.Program.Entry
	p.Type = img.Program.Type
	return p, nil
}

// Shape of the Linux JIT's XDP outro (nfp-isa.md §8.1): tgt_abort, then two
// defer slots, then tgt_out; 13 words in all, followed by 8 nops.
const (
	xdpOutroWords = 13
	prefetchNops  = 8
	outroOutOff   = 3 // tgt_out - tgt_abort
)

// LoadDump prepares a pre-relocation Linux JIT dump (bpftool prog dump
// jited, as in the nfp-jit corpus), where every branch fixed at load still
// has the placeholder target 15000 (+ helper id). The relocation types are
// not in the text, so they are recovered from the JIT's layout: the XDP
// outro is the 13 words before the 8 trailing nops; in the body an
// unconditional branch to 15000 is an exit (RELO_BR_GO_OUT) and a
// conditional one an abort (RELO_BR_GO_ABORT); in the outro it goes to the
// next packet (RELO_BR_NEXT_PKT); 15000+n calls firmware helper n.
func LoadDump(ins []isa.Instr, text []string) (*Program, error) {
	n := len(ins)
	abort := n - prefetchNops - xdpOutroWords
	if abort < 0 || !isXDPOutro(ins[abort:n-prefetchNops]) {
		return nil, fmt.Errorf("no Linux JIT XDP outro before the final %d nops: only XDP dumps can be loaded", prefetchNops)
	}
	for i := n - prefetchNops; i < n; i++ {
		if im, ok := ins[i].(isa.ImmedInstr); !ok || !im.IsNop() {
			return nil, &RunError{PC: uint32(i), Instr: text[i], Msg: "expected a nop of the prefetch window"}
		}
	}
	out := abort + outroOutOff
	var relocs []image.Reloc
	for i, in := range ins {
		b, ok := in.(isa.BranchInstr)
		if !ok || int(b.Addr) < image.BranchRelocBase {
			continue
		}
		r := image.Reloc{Index: uint32(i)}
		switch {
		case int(b.Addr) > image.BranchRelocBase:
			r.Kind, r.Value = image.RelocBrHelper, uint32(b.Addr)-image.BranchRelocBase
		case i >= abort:
			r.Kind = image.RelocBrNextPkt
		case b.Cond == isa.BR && b.Defer != 0:
			// The JIT's deferred placeholder branches in the body are the
			// BPF-to-BPF call's register push/pop subroutines, whose
			// addresses a dump does not record.
			return nil, &RunError{PC: uint32(i), Instr: text[i], Msg: "deferred branch to a load-time target (BPF-to-BPF call register push/pop?): not recoverable from a dump"}
		case b.Cond == isa.BR:
			r.Kind, r.Value = image.RelocBrGoOut, uint32(out)
		default:
			r.Kind, r.Value = image.RelocBrGoAbort, uint32(abort)
		}
		relocs = append(relocs, r)
	}
	p, err := translate(ins, relocs, text)
	if err != nil {
		return nil, err
	}
	p.Type = image.ProgXDP
	return p, nil
}

// isXDPOutro checks the fixed words of nfp_outro_xdp: the abort path
// br[.., defer 2], the bound check alu[--, 3, -, B0], the table immediates
// and the final br[.., defer 2].
func isXDPOutro(w []isa.Instr) bool {
	if len(w) != xdpOutroWords {
		return false
	}
	b0, ok0 := w[0].(isa.BranchInstr)
	chk, ok3 := w[3].(isa.ALUInstr)
	b10, ok10 := w[10].(isa.BranchInstr)
	return ok0 && b0.Cond == isa.BR && b0.Defer == 2 &&
		ok3 && chk.Op == isa.OpSub &&
		ok10 && b10.Cond == isa.BR && b10.Defer == 2
}

// MapsFor creates the maps an image declares, with the shared emulator
// semantics, and stores their initial contents (global data).
func MapsFor(img *image.Image) ([]emulator.Map, error) {
	var out []emulator.Map
	for i, im := range img.Maps {
		m, err := emulator.NewMap(emulator.MapSpec{
			Name: im.Name, Type: emulator.MapType(im.Type), KeySize: im.KeySize,
			ValueSize: im.ValueSize, MaxEntries: im.MaxEntries, Flags: im.Flags,
		})
		if err != nil {
			return nil, fmt.Errorf("map %d: %v", i, err)
		}
		if len(im.Contents) > 0 {
			if im.ValueSize == 0 || uint32(len(im.Contents))%im.ValueSize != 0 {
				return nil, fmt.Errorf("map %s: initial contents of %d bytes are not whole values of %d bytes", im.Name, len(im.Contents), im.ValueSize)
			}
			key := make([]byte, 4)
			for j := uint32(0); j*im.ValueSize < uint32(len(im.Contents)); j++ {
				binary.LittleEndian.PutUint32(key, j)
				if err := m.Update(key, im.Contents[j*im.ValueSize:(j+1)*im.ValueSize], emulator.UpdateAny); err != nil {
					return nil, fmt.Errorf("map %s: initial value %d: %v", im.Name, j, err)
				}
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// dumpPrefix is the address and word-index columns of a dump line.
var dumpPrefix = regexp.MustCompile(`^\s*[0-9a-f]+:\s+\.\d+\s+`)

// LoadDumpText assembles a Linux JIT dump's text (isa/asm, 4-context
// mode) and prepares it with LoadDump, keeping each word's line as its
// text for messages and traces. name is the file name messages give.
func LoadDumpText(name string, src []byte) (*Program, error) {
	prog, err := asm.Assemble(name, src, asm.Options{Mode: isa.Ctx4})
	if err != nil {
		return nil, err
	}
	ins := make([]isa.Instr, len(prog.Words))
	text := make([]string, len(prog.Words))
	lines := strings.Split(string(src), "\n")
	for i, w := range prog.Words {
		ins[i] = isa.Decode(w)
		if l := prog.Lines[i]; l >= 1 && l <= len(lines) {
			text[i] = strings.TrimSpace(dumpPrefix.ReplaceAllString(lines[l-1], ""))
		}
	}
	p, err := LoadDump(ins, text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return p, nil
}
