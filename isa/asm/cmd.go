package asm

import (
	"strconv"
	"strings"
	"sync"

	"github.com/nfpcc/nfpcc/isa"
)

// cmdCode is one way to encode a command mnemonic: its tgt_cmd and token,
// and the set of length fields (bit n = length field n) that select it.
type cmdCode struct {
	tgtCmd, token uint8
	lens          uint8
}

var (
	cmdOnce  sync.Once
	cmdCodes map[string][]cmdCode // "mem read32_swap" → codes
)

// buildCmdCodes inverts isa's command decoder over every tgt_cmd, token and
// length field, so that the assembler knows exactly the commands the
// disassembler prints.
func buildCmdCodes() {
	cmdCodes = map[string][]cmdCode{}
	prefix := map[isa.Target]string{}
	for tc := 0; tc < 128; tc++ {
		t, _, ok := isa.SplitTgtCmd(uint8(tc))
		if !ok {
			continue
		}
		for tok := uint8(0); tok < 4; tok++ {
			for cnt := uint8(0); cnt < 8; cnt++ {
				in := isa.CmdInstr{TgtCmd: uint8(tc), Token: tok, Cnt: cnt, Mode: isa.Mode32}
				_, name := in.CmdName()
				if name == "" {
					continue
				}
				if prefix[t] == "" {
					text, _ := isa.Text(in, isa.Options{Mode: isa.Ctx4})
					prefix[t], _, _ = strings.Cut(text, "[")
				}
				k := prefix[t] + " " + name
				codes := cmdCodes[k]
				found := false
				for i := range codes {
					if codes[i].tgtCmd == uint8(tc) && codes[i].token == tok {
						codes[i].lens |= 1 << cnt
						found = true
					}
				}
				if !found {
					codes = append(codes, cmdCode{uint8(tc), tok, 1 << cnt})
				}
				cmdCodes[k] = codes
			}
		}
	}
}

// isCmdTarget reports whether a mnemonic is a command target prefix.
func isCmdTarget(m string) bool {
	switch m {
	case "mem", "cls", "sram", "nbi", "ila", "pcie", "crypto", "arm", "ct":
		return true
	}
	return false
}

// cmd encodes TARGET[command, operands…], indirect_ref, ctx_swap[sigN],
// defer[N], sig_done[sigN]. The operand form tells the address mode.
func (e *encoder) cmd(thirdParty32 bool) (isa.Instr, error) {
	cmdOnce.Do(buildCmdCodes)
	ms, err := e.mods("indirect_ref", "ctx_swap", "defer", "sig_done")
	if err != nil {
		return nil, err
	}
	args := e.in.Args
	if len(args) < 3 {
		return nil, e.errf("%s[] takes a command and its operands", e.in.Mnem)
	}
	name := args[0]
	codes := cmdCodes[e.in.Mnem+" "+name.Text]
	if codes == nil {
		return nil, e.errAt(name, "%s has no command %q", e.in.Mnem, name.Text)
	}
	in := isa.CmdInstr{Indirect: ms["indirect_ref"] != nil}
	rest := args[1:]
	num := func(a *arg, max uint32) (uint32, error) {
		v, ok := parseNum(a.Text)
		if !ok || v > max {
			return 0, e.errAt(a, "%q: want a number 0..%#x", a.Text, max)
		}
		return v, nil
	}
	xferArg := func(a *arg) error {
		n, err := strconv.Atoi(strings.TrimPrefix(a.Text, "$xfer_"))
		if !strings.HasPrefix(a.Text, "$xfer_") || err != nil || n < 0 || n > 63 {
			return e.errAt(a, "%q: want the first transfer register $xfer_0..$xfer_63", a.Text)
		}
		in.Xfer = uint8(n)
		return nil
	}
	count := func(a *arg) error {
		n, err := strconv.Atoi(a.Text)
		if err != nil || n < 1 || n > 8 {
			return e.errAt(a, "length %q: want 1..8", a.Text)
		}
		in.Cnt = uint8(n - 1)
		return nil
	}
	// addr places the two printed address operands; with swapModes the
	// first may be printed from the B field (modes 1 and 3).
	addr := func(first, second *arg, plain, swapped isa.AddrMode) error {
		for _, m := range []isa.AddrMode{plain, swapped} {
			fb, sb := isa.BankA, isa.BankB
			if m != plain {
				fb, sb = isa.BankB, isa.BankA
			}
			for _, i8 := range []bool{false} {
				f1, ok1 := lookup8(e.mode, fb, false, i8, first.Text)
				f2, ok2 := lookup8(e.mode, sb, false, i8, second.Text)
				if ok1 && ok2 {
					in.Mode = m
					if m != plain {
						in.A, in.B = f2, f1
					} else {
						in.A, in.B = f1, f2
					}
					return nil
				}
			}
			if plain == swapped {
				break
			}
		}
		return e.pairError(first, second, "restricted")
	}
	switch {
	case len(rest) == 5 && rest[2].Text == "<<8" && strings.HasPrefix(rest[0].Text, "$xfer_"):
		if err := xferArg(rest[0]); err != nil {
			return nil, err
		}
		if err := addr(rest[1], rest[3], isa.Mode40AB, isa.Mode40BA); err != nil {
			return nil, err
		}
		if err := count(rest[4]); err != nil {
			return nil, err
		}
	case (len(rest) == 5 && rest[2].Text == "<<8" && !thirdParty32) || (len(rest) == 4 && thirdParty32 && !strings.HasPrefix(rest[0].Text, "$")):
		v, err := num(rest[0], 0x7f)
		if err != nil {
			return nil, err
		}
		in.Xfer, in.Indirect = uint8(v&0x3f), v&0x40 != 0
		second := rest[2]
		if len(rest) == 5 {
			second = rest[3]
		}
		if err := addr(rest[1], second, isa.Mode3rdAB, isa.Mode3rdBA); err != nil {
			return nil, err
		}
		if err := count(rest[len(rest)-1]); err != nil {
			return nil, err
		}
		if ms["indirect_ref"] != nil {
			return nil, e.errf("third-party address modes carry indirect_ref in their first operand (0x40)")
		}
	case len(rest) == 4:
		if err := xferArg(rest[0]); err != nil {
			return nil, err
		}
		if err := addr(rest[1], rest[2], isa.Mode32, isa.Mode32); err != nil {
			return nil, err
		}
		if err := count(rest[3]); err != nil {
			return nil, err
		}
	case len(rest) == 3 && strings.HasPrefix(rest[0].Text, "$xfer_"):
		in.Mode = isa.ModeImmAddr
		if err := xferArg(rest[0]); err != nil {
			return nil, err
		}
		v, err := num(rest[1], 0xffff)
		if err != nil {
			return nil, err
		}
		in.A, in.B = isa.Opnd8(v), isa.Opnd8(v>>8)
		if err := count(rest[2]); err != nil {
			return nil, err
		}
	case len(rest) == 3 && rest[1].Text == "--":
		in.Mode = isa.ModeImmData
		v, err := num(rest[0], 0x3fffff)
		if err != nil {
			return nil, err
		}
		in.A, in.B, in.Xfer = isa.Opnd8(v), isa.Opnd8(v>>8), uint8(v>>16)
		if err := count(rest[2]); err != nil {
			return nil, err
		}
	case len(rest) == 2:
		in.Mode = isa.ModeImmAddrD
		v, err := num(rest[0], 0xffff)
		if err != nil {
			return nil, err
		}
		imm, err := num(rest[1], 0x3fff)
		if err != nil {
			return nil, err
		}
		in.A, in.B = isa.Opnd8(v), isa.Opnd8(v>>8)
		in.Sig, in.Cnt, in.Xfer, in.Token = uint8(imm>>10), uint8(imm>>7&7), uint8(imm>>2&0x1f), uint8(imm&3)
	default:
		return nil, e.errAt(rest[0], "operands of %s[%s, …] match no address mode", e.in.Mnem, name.Text)
	}
	// The command: a code whose length set holds our length field. In
	// mode 6 the token is data, and the command is looked up with token 0.
	found := false
	for _, c := range codes {
		if c.lens&(1<<in.Cnt) != 0 && (in.Mode != isa.ModeImmAddrD || c.token == 0) {
			in.TgtCmd = c.tgtCmd
			if in.Mode != isa.ModeImmAddrD {
				in.Token = c.token
			}
			found = true
			break
		}
	}
	if !found {
		return nil, e.errAt(name, "%s %s cannot have length %d", e.in.Mnem, name.Text, in.Cnt+1)
	}
	// Signal and context swap.
	in.Ctx = isa.CtxNoSwap
	sigOf := func(m *mod, allowNone bool) (uint8, error) {
		if len(m.Args) != 1 {
			return 0, &posError{col: m.Pos.Column, msg: m.Name + "[] takes one signal"}
		}
		t := m.Args[0].Text
		if t == "--" && allowNone {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimPrefix(t, "sig"))
		if !strings.HasPrefix(t, "sig") || err != nil || n < 1 || n > 15 {
			return 0, e.errAt(m.Args[0], "%q is not a signal sig1..sig15", t)
		}
		return uint8(n), nil
	}
	if m := ms["ctx_swap"]; m != nil {
		if ms["sig_done"] != nil {
			return nil, &posError{col: m.Pos.Column, msg: "ctx_swap and sig_done exclude each other"}
		}
		s, err := sigOf(m, true)
		if err != nil {
			return nil, err
		}
		d, err := e.modNum(ms["defer"], 2)
		if err != nil {
			return nil, err
		}
		in.Ctx = isa.CtxSwap(d)
		if in.Mode != isa.ModeImmAddrD {
			in.Sig = s
		}
	} else {
		if ms["defer"] != nil {
			return nil, &posError{col: ms["defer"].Pos.Column, msg: "defer[] needs ctx_swap[]"}
		}
		if m := ms["sig_done"]; m != nil {
			s, err := sigOf(m, false)
			if err != nil {
				return nil, err
			}
			if in.Mode != isa.ModeImmAddrD {
				in.Sig = s
			}
		}
	}
	return in, nil
}
