package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nfpcc/nfpcc/backend"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// writeStats prints the --stats of one compiled program: its words, the
// general-purpose registers its code writes per bank, what was spilled,
// what the scheduler did, and, for the given packets, each one's action
// and model cycles on the NFP emulator (published model; extended with
// firmware helpers), as llc -stats reports on stderr.
func writeStats(w io.Writer, img *image.Image, st backend.Stats, packets [][]byte) error {
	a, b := gprsWritten(img.Code)
	fmt.Fprintf(w, "%s: %d body words (%d with outro and padding); registers written: bank A %d, bank B %d (%s / %s); %d values spilled; bank allocation: %d writes to one bank instead of both, %d moves deleted; %d defer slots filled, %d compares dropped, %d LM pointer waits filled, %d words moved before memory commands\n",
		img.Program.Name, st.BodyWords, st.Words, len(a), len(b), regList(a), regList(b), st.Spilled, st.Narrowed, st.MovesDeleted, st.DeferFilled, st.ComparesDropped, st.LMWaitsFilled, st.MemHoisted)
	if st.BanksSkipped != "" {
		fmt.Fprintf(w, "  bank allocation skipped: %s\n", st.BanksSkipped)
	}
	if len(packets) == 0 {
		return nil
	}
	prog, err := nfp.LoadImage(img)
	if err != nil {
		return err
	}
	maps, err := nfp.MapsFor(img)
	if err != nil {
		return err
	}
	fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: maps})
	if err != nil {
		return err
	}
	for i, p := range packets {
		r, err := fw.RunPacket(p)
		if err != nil {
			return fmt.Errorf("packet %d: %v", i+1, err)
		}
		fmt.Fprintf(w, "  packet %d: %s, %d model cycles (program %d + firmware 224), extended %d, %d instructions, %d helper calls\n",
			i+1, r.Action, r.Cycles, r.Cycles-224, r.ExtCycles, r.Instructions, r.HelperCalls)
	}
	return nil
}

// gprsWritten lists the GPR numbers the code writes in each bank
// (gpr_wrboth counts for both).
func gprsWritten(code []uint64) (a, b []int) {
	seen := [2]map[int]bool{{}, {}}
	for _, w := range code {
		var d isa.Operand
		switch in := isa.Decode(isa.Word(w)).(type) {
		case isa.ALUInstr:
			d = in.Dest(isa.Ctx4)
		case isa.ShfInstr:
			d = in.Dest(isa.Ctx4)
		case isa.ImmedInstr:
			d = in.Dest(isa.Ctx4)
		case isa.LdFieldInstr:
			d, _ = in.Operands(isa.Ctx4)
		default:
			continue
		}
		if d.Kind != isa.KGPR {
			continue
		}
		if d.Bank != isa.BankB {
			seen[0][d.Num] = true
		}
		if d.Bank != isa.BankA {
			seen[1][d.Num] = true
		}
	}
	for r := range seen[0] {
		a = append(a, r)
	}
	for r := range seen[1] {
		b = append(b, r)
	}
	sort.Ints(a)
	sort.Ints(b)
	return a, b
}

func regList(rs []int) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = fmt.Sprint(r)
	}
	return strings.Join(s, ",")
}
