package backend

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/backend/regalloc"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestBanksGolden runs bank allocation on the machine IR of each
// testdata/banks/*.txtar's `in` section and compares the code with `out`,
// the webs (mir.Webs.Table: register before -> after, fixed, tied,
// interfering webs) and figures with `webs`. `go test ./backend -run
// BanksGolden -update` rewrites them.
func TestBanksGolden(t *testing.T) {
	golden.Run(t, "testdata/banks/*.txtar", func(t *testing.T, a *golden.Archive) {
		f, err := mir.Parse("in", a.Section("in"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := banks(f, true)
		if err != nil {
			t.Fatal(err)
		}
		summary := fmt.Sprintf("registers: bank A %d, bank B %d; %d writes to one bank; %d moves deleted\n", st.regsA, st.regsB, st.narrowed, st.copies)
		if st.skipped != "" {
			summary = "skipped: " + st.skipped + "\n"
		}
		a.Check(t, "webs", summary+st.table)
		a.Check(t, "out", f.Print())
	})
}

// TestBanksCheckCatches: the re-check after the rewrite (mir.Webs.Same)
// is what stands between a wrong allocation and a wrong image, so it must
// fail when two interfering webs are given one register. For every bank
// golden and every backend golden's selected code, each such corruption
// tried must be caught.
func TestBanksCheckCatches(t *testing.T) {
	tried := 0
	for k, c := range allocations(t, append(bankInputs(t), goldenSelections(t)...)) {
		ws, num := c.ws, c.num
		for x := 0; x < ws.N && tried < 400; x++ {
			for _, y := range ws.Interf[x] {
				if ws.Fixed[x] || !ws.Coded[x] || !ws.Coded[y] {
					continue
				}
				bad := slices.Clone(num)
				bad[x] = num[y]
				if g, err := rewritten(c.text, bad); err == nil {
					t.Errorf("text %d: webs %d and %d interfere, both given %d, and the check passed:\n%s", k, x, y, num[y], g.Print())
				}
				tried++
				break
			}
		}
	}
	if tried < 100 {
		t.Errorf("only %d corruptions tried", tried)
	}
}

// bankInputs are the bank goldens' `in` sections.
func bankInputs(t testing.TB) []string { return sections(t, "testdata/banks/*.txtar", "in") }

// sections returns the named section of every archive the pattern matches.
func sections(t testing.TB, pattern, name string) []string {
	files, _ := filepath.Glob(pattern)
	var out []string
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if f.Name == name {
				out = append(out, string(f.Data))
			}
		}
	}
	return out
}

// allocation is a machine IR text with its webs and their numbers.
type allocation struct {
	text string
	ws   *mir.Webs
	num  []int
}

// allocations analyses and allocates each text the webs can follow.
func allocations(t *testing.T, texts []string) []allocation {
	var out []allocation
	for k, text := range texts {
		f, err := mir.Parse("in", text)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := mir.AnalyzeWebs(f, webConfig)
		if err != nil {
			continue
		}
		num, err := regalloc.AllocBanks(bankWebs{ws}, regalloc.BankConfig{Pool: bankPool()})
		if err != nil {
			t.Fatalf("text %d: %v", k, err)
		}
		out = append(out, allocation{text, ws, num})
	}
	return out
}

// rewritten applies num to a fresh parse of text and re-checks it as the
// backend does: the rewritten code and the check's verdict.
func rewritten(text string, num []int) (*mir.Func, error) {
	g, err := mir.Parse("in", text)
	if err != nil {
		return nil, err
	}
	ws, err := mir.AnalyzeWebs(g, webConfig)
	if err != nil {
		return nil, err
	}
	ws.Rewrite(g, num)
	return g, ws.Recheck(g, num)
}

// goldenSelections compiles the backend goldens' IR and returns the
// selected code ("isel") of each.
func goldenSelections(t *testing.T) []string {
	maps := []image.Map{{Name: "h", Type: 1, KeySize: 4, ValueSize: 8, MaxEntries: 64}, {Name: "a", Type: 2, KeySize: 4, ValueSize: 16, MaxEntries: 4}}
	var out []string
	for _, src := range sections(t, "testdata/*.txtar", "ir") {
		m, err := ir.Parse(src)
		if err != nil {
			continue
		}
		if _, err := passes.Run(m, passes.Config{Level: passes.O2}); err != nil {
			continue
		}
		var sel string
		dump := func(stage, text string) {
			if stage == "isel" {
				sel = text
			}
		}
		if _, _, err := Compile(m, Options{Name: "g", Type: image.ProgXDP, Dump: dump, MapLayout: true, Maps: maps}); err == nil {
			out = append(out, sel)
		}
	}
	return out
}

// FuzzBanks runs bank allocation on machine IR text (seeded with the bank
// goldens): whatever parses is allocated, left alone with a reason, or
// refused with an error, never a panic.
func FuzzBanks(f *testing.F) {
	for _, text := range bankInputs(f) {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fn, err := mir.Parse("in", text)
		if err != nil {
			return
		}
		banks(fn, true)
	})
}

// TestBanksCheckCatchesFixed: a fixed web (an entry value, the firmware's
// registers, an argument or result) given another register must fail the
// re-check, whether or not a firmware read sees it.
func TestBanksCheckCatchesFixed(t *testing.T) {
	texts := []string{`
    immed[gprB_22, 0x3fff]
    alu[gprB_22, gprB_22, AND, *l$index1]
    alu[gprA_0, gprA_9, +, *l$index1[2]], gpr_wrboth
    immed[gprA_1, 0x0], gpr_wrboth
    br[@out(L1)]
L0:
    br[@next_pkt], defer[2]
    alu[gprA_0, --, B, 0x0]
    ld_field[gprA_0, 1100, 0x82, <<16]
L1:
    alu[--, 0x3, -, gprB_0]
    bcc[L0]
    br[@next_pkt], defer[2]
    alu[gprA_0, --, B, 0x0]
    ld_field[gprA_0, 1100, 0x11, <<16]
`}
	tried := 0
	for k, c := range allocations(t, append(texts, goldenSelections(t)...)) {
		ws, num := c.ws, c.num
		for x := 0; x < ws.N; x++ {
			if !ws.Fixed[x] || !ws.Coded[x] {
				continue
			}
			// The web and its tied partners move together, to a number
			// free of interference: only fixedness is broken.
			group := map[int]bool{x: true}
			for changed := true; changed; {
				changed = false
				for _, p := range ws.Tied {
					if group[p[0]] != group[p[1]] {
						group[p[0]], group[p[1]] = true, true
						changed = true
					}
				}
			}
			to := -1
			for _, c := range bankPool() {
				ok := c != num[x]
				for w := range group {
					for _, y := range ws.Interf[w] {
						ok = ok && num[y] != c
					}
				}
				if ok {
					to = c
					break
				}
			}
			if to < 0 {
				continue
			}
			bad := slices.Clone(num)
			for w := range group {
				bad[w] = to
			}
			if g, err := rewritten(c.text, bad); err == nil {
				t.Errorf("text %d: fixed web %d (%v) given %d, and the check passed:\n%s", k, x, ws.Res[x], to, g.Print())
			}
			tried++
		}
	}
	if tried < 50 {
		t.Errorf("only %d corruptions tried", tried)
	}
}

// TestBanksFallback: when first fit runs out of numbers (here a pool of
// two), every web keeps the register the code gave it, and the result
// passes the same re-check as an allocation.
func TestBanksFallback(t *testing.T) {
	fell := 0
	for k, c := range allocations(t, goldenSelections(t)) {
		num, packed := numberWebs(c.ws, []int{0, 1})
		if packed {
			continue
		}
		fell++
		if _, err := rewritten(c.text, num); err != nil {
			t.Errorf("selection %d: the code's own numbers fail the re-check: %v", k, err)
		}
	}
	if fell < 10 {
		t.Errorf("only %d selections needed the fallback with two numbers", fell)
	}
}
