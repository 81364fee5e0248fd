package asm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/isa"
)

// aluOps maps the printed ALU operators back to op codes.
var aluOps = func() map[string]isa.ALUOp {
	m := map[string]isa.ALUOp{}
	for op := isa.ALUOp(0); op < 32; op++ {
		if s := op.String(); !strings.HasPrefix(s, "<") {
			m[s] = op
		}
	}
	return m
}()

func (e *encoder) alu() (isa.Instr, error) {
	if err := e.nargs(4); err != nil {
		return nil, err
	}
	ms, err := e.mods("no_cc", "gpr_wrboth", "predicate_cc")
	if err != nil {
		return nil, err
	}
	opArg := e.in.Args[2]
	op, ok := aluOps[opArg.Text]
	if !ok {
		if strings.HasPrefix(opArg.Text, "<operator:0x") {
			v, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(opArg.Text, "<operator:0x"), ">"), 16, 5)
			if err == nil {
				op, ok = isa.ALUOp(v), true
			}
		}
		if !ok {
			return nil, e.errAt(opArg, "unknown ALU operator %q", opArg.Text)
		}
	}
	if special[op] {
		return nil, e.errAt(opArg, "%s is written %s[…], not as an alu operator", opArg.Text, opArg.Text)
	}
	in := isa.ALUInstr{Op: op, Flags: ms.flags()}
	var dlm, slm bool
	if in.Dst, in.DstB, dlm, err = e.dst10(e.in.Args[0]); err != nil {
		return nil, err
	}
	left := e.in.Args[1]
	if op == isa.OpB || op == isa.OpNotB {
		if left.Text != "--" {
			return nil, e.errAt(left, "alu operator %s takes no A operand (write --)", opArg.Text)
		}
		left = nil
	}
	if in.A, in.B, in.Swap, slm, err = e.pair10(left, e.in.Args[3]); err != nil {
		return nil, err
	}
	if left == nil && in.Swap {
		// A swapped move (its source a bank-A register) leaves the B field
		// unprinted; Netronome's assembler writes gpr 0 there (CoreNIC:
		// about 1100 of 1722), not the constant it uses otherwise.
		in.B = 0
	}
	in.Flags |= lmFlags(slm, dlm)
	return in, nil
}

// special marks the ALU op codes printed as mnemonics of their own.
var special = map[isa.ALUOp]bool{
	isa.OpPopCount3: true, isa.OpPopCount1: true, isa.OpPopCount2: true, isa.OpFFS: true,
	isa.OpCamReadTag: true, isa.OpCamReadSt: true, isa.OpCamClear: true, isa.OpCamLookup: true,
	isa.OpCamWrite: true, isa.OpCamWriteSt: true, isa.OpCRC: true,
}

// aluSpecial encodes pop_count*, ffs and cam_* forms: op[dst, B] or op[B].
func (e *encoder) aluSpecial(op isa.ALUOp) (isa.Instr, error) {
	ms, err := e.mods("no_cc", "gpr_wrboth", "predicate_cc", "lm_addr0", "lm_addr1", "lm_addr2", "lm_addr3")
	if err != nil {
		return nil, err
	}
	in := isa.ALUInstr{Op: op, Flags: ms.flags(), Dst: hiddenDst10}
	var dlm, slm bool
	switch op {
	case isa.OpPopCount1, isa.OpPopCount2:
		if err := e.nargs(1); err != nil {
			return nil, err
		}
		in.A, in.B, in.Swap, slm, err = e.pair10h(nil, e.in.Args[0], hiddenSpec10)
	case isa.OpCamClear:
		if e.in.Bracket {
			return nil, e.errf("cam_clear takes no operands")
		}
		in.A, in.B = 0, hiddenSrc10
	case isa.OpCamLookup:
		if err := e.nargs(2); err != nil {
			return nil, err
		}
		if in.Dst, in.DstB, dlm, err = e.dst10(e.in.Args[0]); err != nil {
			return nil, err
		}
		in.A, in.B, in.Swap, slm, err = e.pair10h(e.in.Args[1], nil, hiddenSpec10)
		if err == nil {
			in.B, err = e.lmAddr(ms, in.B)
			if in.Swap {
				in.A, err = e.lmAddr(ms, in.A)
			}
		}
	case isa.OpCamWrite, isa.OpCamWriteSt:
		n := 3
		if op == isa.OpCamWriteSt {
			n = 2
		}
		if err := e.nargs(n); err != nil {
			return nil, err
		}
		var left *arg
		if op == isa.OpCamWrite {
			left = e.in.Args[1]
		}
		// Netronome's assembler puts cam_write's value operand in the B
		// field (binutils test1: all 10), unless a GPR bank says otherwise.
		in.A, in.B, in.Swap, slm, err = e.pair10o(left, e.in.Args[0], hiddenSpec10, op == isa.OpCamWrite && !isGPR(e.in.Args[1].Text) && !isGPR(e.in.Args[0].Text))
		last := e.in.Args[n-1]
		v, ok := parseNum(last.Text)
		if !ok || v > 15 {
			return nil, e.errAt(last, "CAM entry %q: want 0..15", last.Text)
		}
		in.Dst = 0x300 | isa.Opnd10(v) // the entry in a constant-form field
	default: // pop_count3, ffs, cam_read_tag, cam_read_state: op[dst, B]
		if err := e.nargs(2); err != nil {
			return nil, err
		}
		if in.Dst, in.DstB, dlm, err = e.dst10(e.in.Args[0]); err != nil {
			return nil, err
		}
		hidden := hiddenSpec10
		if op == isa.OpFFS {
			hidden = hiddenSrc10
		}
		in.A, in.B, in.Swap, slm, err = e.pair10h(nil, e.in.Args[1], hidden)
	}
	if err != nil {
		return nil, err
	}
	in.Flags |= lmFlags(slm, dlm)
	return in, nil
}

// lmAddr encodes cam_lookup's `, lm_addrN[M]` in the unprinted B field.
func (e *encoder) lmAddr(ms modifiers, f isa.Opnd10) (isa.Opnd10, error) {
	for n := 0; n < 4; n++ {
		m := ms[fmt.Sprintf("lm_addr%d", n)]
		if m == nil {
			continue
		}
		v, err := e.modNum(m, 3)
		if err != nil {
			return 0, err
		}
		f = f&^0x1f | isa.Opnd10(v<<2)
		switch n {
		case 0:
			f |= 1
		case 1:
			f |= 2
		case 2:
			f |= 0x10 | 1
		case 3:
			f |= 0x10 | 2
		}
	}
	return f, nil
}

// crcOps and crcBytes are the CRC operator and byte-selection codes of
// the A-field control word (nfp-isa.md §2.1; binutils' names).
var crcOps = map[string]uint16{"--": 0, "crc_ccitt": 2, "crc_32": 4, "crc_iscsi": 5, "crc_10": 6, "crc_5": 7}

var crcBytes = map[string]uint16{
	"bytes_1_3": 1, "bytes_2_3": 2, "byte_3": 3, "bytes_0_2": 4, "bytes_0_1": 5, "byte_0": 6,
}

// crc encodes crc_le/crc_be[op, dst, B], bytes, bit_swap.
func (e *encoder) crc(le bool) (isa.Instr, error) {
	if err := e.nargs(3); err != nil {
		return nil, err
	}
	allowed := []string{"no_cc", "gpr_wrboth", "predicate_cc", "bit_swap"}
	for b := range crcBytes {
		allowed = append(allowed, b)
	}
	ms, err := e.mods(allowed...)
	if err != nil {
		return nil, err
	}
	op, ok := crcOps[e.argText(0)]
	if !ok {
		return nil, e.errAt(e.in.Args[0], "unknown CRC operator %q", e.argText(0))
	}
	in := isa.ALUInstr{Op: isa.OpCRC, Flags: ms.flags()}
	var dlm, slm bool
	if in.Dst, in.DstB, dlm, err = e.dst10(e.in.Args[1]); err != nil {
		return nil, err
	}
	if in.A, in.B, in.Swap, slm, err = e.pair10(nil, e.in.Args[2]); err != nil {
		return nil, err
	}
	ctl := op << 5
	if le {
		ctl |= 8
	}
	for name, v := range crcBytes {
		if ms[name] != nil {
			ctl |= v
		}
	}
	if ms["bit_swap"] != nil {
		ctl |= 0x10
	}
	if in.Swap {
		in.B = isa.Opnd10(ctl) | in.B&0x300
	} else {
		in.A = isa.Opnd10(ctl) | in.A&0x300
	}
	in.Flags |= lmFlags(slm, dlm)
	return in, nil
}
