package backend

import (
	"fmt"

	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/backend/regalloc"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// Bank-aware allocation, after selection. Selection (lower*.go) writes
// every value to one register number in both banks, as the Linux JIT
// does; here the selected code's registers become webs again
// (mir.AnalyzeWebs), a write whose other bank no read sees writes one bank,
// and regalloc.AllocBanks gives each web a number in its own bank. The
// rewritten code is analysed again and must partition its reads and writes
// into the same webs (mir.Webs.Recheck): a failed check is a bug, never a
// wrong image.

// webConfig is the firmware ABI as the webs see it (nfp-isa.md §4): a
// helper reads its arguments (R0–R5's registers, both banks) and the
// stack base, and keeps only eBPF r6–r9's registers (GPR 12–19); the
// branch to the outro has r0 in both banks; the exit to the firmware reads
// r0 and the packet length; A22/B22 (stack base, packet length) keep their
// numbers.
var webConfig = mir.WebConfig{
	Implicit: func(it *mir.Instr) (mir.Implicit, error) {
		switch it.Reloc {
		case image.RelocBrHelper:
			var uses, kept mir.ResSet
			for n := 0; n < 12; n++ {
				uses |= mir.Both(n)
			}
			for _, n := range calleeSaved {
				kept |= mir.Both(n)
			}
			kept |= mir.Both(regStack)
			return mir.Implicit{Uses: uses | mir.Both(regStack), Defs: ^kept}, nil
		case image.RelocBrNextPkt:
			return mir.Implicit{Uses: mir.Both(0) | mir.Both(1) | mir.Both(regStack)}, nil
		case image.RelocBrGoOut, image.RelocBrGoAbort:
			// The outro reads r0 from bank B; the firmware ABI (and the
			// emulator's report of r0) has it in both banks at the exit.
			return mir.Implicit{Uses: mir.Both(0) | mir.Both(1)}, nil
		}
		return mir.Implicit{}, fmt.Errorf("load-time branch %d", it.Reloc)
	},
	Fixed: mir.Both(regStack),
}

// numberWebs gives each web a number from pool, first fit
// (regalloc.AllocBanks). First fit with ties can run out where the code's
// own numbering does not — that numbering is always a solution, since two
// webs of one register never interfere and tied webs share their number —
// so then each web keeps its register (packed false; the narrowed writes
// still write one bank).
func numberWebs(ws *mir.Webs, pool []int) (num []int, packed bool) {
	num, err := regalloc.AllocBanks(bankWebs{ws}, regalloc.BankConfig{Pool: pool, Copies: ws.Copies})
	if err == nil {
		return num, true
	}
	num = make([]int, ws.N)
	for w := range num {
		num[w] = ws.Res[w].Num()
	}
	return num, false
}

// bankPool is the register numbers free webs may take: all but the stack
// base and packet length's.
func bankPool() []int {
	var pool []int
	for n := 0; n < 32; n++ {
		if n != regStack {
			pool = append(pool, n)
		}
	}
	return pool
}

// bankWebs is mir.Webs as regalloc sees them.
type bankWebs struct{ w *mir.Webs }

func (b bankWebs) NumWebs() int { return b.w.N }
func (b bankWebs) Bank(w int) regalloc.Bank {
	if b.w.Res[w].Bank() == isa.BankB {
		return regalloc.BankB
	}
	return regalloc.BankA
}
func (b bankWebs) Fixed(w int) (int, bool) { return b.w.Res[w].Num(), b.w.Fixed[w] }
func (b bankWebs) Tied() [][2]int          { return b.w.Tied }
func (b bankWebs) Interf(w int) []int      { return b.w.Interf[w] }

// bankStats are what allocateBanks did.
type bankStats struct {
	regsA, regsB int // register numbers used in each bank
	narrowed     int // wrboth writes now writing one bank
	copies       int // moves that became no-ops and were deleted
	skipped      string
	table        string // the webs (mir.Webs.Table), when asked for
}

// allocateBanks re-allocates the registers of selected code per bank (the
// "banks" stage); it leaves code whose registers or control it cannot
// follow as it is (bankStats.skipped says why).
func allocateBanks(f *mir.Func) (bankStats, error) { return banks(f, false) }

// banks is allocateBanks, with the table of webs if asked for.
func banks(f *mir.Func, table bool) (bankStats, error) {
	var st bankStats
	ws, err := mir.AnalyzeWebs(f, webConfig)
	if err != nil {
		st.skipped = err.Error()
		return st, nil
	}
	num, _ := numberWebs(ws, bankPool())
	if table {
		st.table = ws.Table(num)
	}
	ws.Rewrite(f, num)
	if err := ws.Recheck(f, num); err != nil {
		return st, fmt.Errorf("bank allocation: the rewritten code: %v", err)
	}
	st.copies = ws.DropSelfCopies(f)
	st.regsA, st.regsB = ws.Used(num)
	st.narrowed = len(ws.Narrow)
	return st, nil
}
