package backend

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/backend/sched"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestGolden compiles the `ir` section of each testdata/*.txtar (an XDP
// program in IR text with the verifier's facts written as !facts) and
// compares the listing with `out`, or the error with `error`. A `maps`
// section lists the program's maps, a `type` section "tc" makes it a tc
// program, one a line: NAME TYPE KEY VALUE ENTRIES. A `level` section
// (O1, O2) runs the passes of that level first; without, only the
// required ones (inlining). A `regs` section limits the registers (to
// exercise spilling). The `alloc` section is the allocation stage's text
// (where each value lives), `out` the final listing.
// `go test ./backend -run Golden -update` rewrites the expected sections.
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata/*.txtar", func(t *testing.T, a *golden.Archive) {
		sec := map[string]string{"ir": a.Section("ir"), "maps": a.Section("maps"), "type": a.Section("type")}
		m, err := ir.Parse(sec["ir"])
		if err != nil {
			t.Fatalf("ir: %v", err)
		}
		if err := ir.CheckModule(m); err != nil {
			t.Fatalf("ir: %v", err)
		}
		// The passes run first: the required ones (inlining), or the level
		// a `level` section names (O1, O2).
		level := passes.O0
		if l := strings.TrimSpace(a.Section("level")); l != "" {
			if level, err = passes.ParseLevel(l); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := passes.Run(m, passes.Config{Level: level, Check: true}); err != nil {
			t.Fatalf("passes: %v", err)
		}
		var maps []image.Map
		for _, l := range strings.Split(strings.TrimSpace(sec["maps"]), "\n") {
			fs := strings.Fields(l)
			if len(fs) != 5 {
				continue
			}
			n := make([]uint32, 4)
			for i := range n {
				v, _ := strconv.Atoi(fs[i+1])
				n[i] = uint32(v)
			}
			maps = append(maps, image.Map{Name: fs[0], Type: n[0], KeySize: n[1], ValueSize: n[2], MaxEntries: n[3]})
		}
		typ := image.ProgXDP
		if strings.TrimSpace(sec["type"]) == "tc" {
			typ = image.ProgTC
		}
		stages := map[string]string{}
		dump := func(stage, text string) { stages[stage] = text }
		regs := 0
		if r := strings.TrimSpace(a.Section("regs")); r != "" {
			if regs, err = strconv.Atoi(r); err != nil {
				t.Fatalf("regs: %v", err)
			}
		}
		img, _, err := Compile(m, Options{Name: m.Funcs[0].Name, Type: typ, Maps: maps, Dump: dump, MapLayout: true, Regs: regs})
		out, errText := "", ""
		if err != nil {
			errText = err.Error() + "\n"
		} else {
			out = Listing(img)
			var buf strings.Builder
			if err := img.Write(&buf); err != nil {
				t.Fatalf("the image does not validate: %v", err)
			}
			checkStages(t, stages, img)
		}
		// Where the allocator put each value (when it got that far).
		a.Check(t, "alloc", stages["alloc"])
		// One of the two is produced; the other must be absent.
		a.Check(t, "out", out)
		a.Check(t, "error", errText)
	})
}

// checkStages checks that each stage's machine IR is a faithful text: the
// bank allocation run on the parsed selection output prints the backend's
// "banks" text, the scheduler run on that prints what the backend's
// scheduler produced, and the parsed final text encodes to the image's
// words and relocations.
func checkStages(t *testing.T, stages map[string]string, img *image.Image) {
	t.Helper()
	sel, err := mir.Parse("isel", stages["isel"])
	if err != nil {
		t.Fatalf("isel text does not parse: %v", err)
	}
	if _, err := allocateBanks(sel); err != nil {
		t.Fatalf("banks on the parsed isel text: %v", err)
	}
	if got := sel.Print(); got != stages["banks"] {
		t.Errorf("bank allocation of the parsed isel text differs from the backend's:\n%s", golden.Diff(stages["banks"], got))
	}
	sched.Run(sel)
	if got := sel.Print(); got != stages["sched"] {
		t.Errorf("scheduling the parsed isel text differs from the backend's:\n%s", golden.Diff(stages["sched"], got))
	}
	f, err := mir.Parse("sched", stages["sched"])
	if err != nil {
		t.Fatalf("sched text does not parse: %v", err)
	}
	code, relocs, _, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(code, img.Code) || !slices.Equal(relocs, img.Relocs) {
		for i := range code {
			if i < len(img.Code) && code[i] != img.Code[i] {
				t.Errorf("word %d: text gives %s, the image has %s", i, isa.Disasm(isa.Word(code[i]), isa.Options{Mode: isa.Ctx4}), isa.Disasm(isa.Word(img.Code[i]), isa.Options{Mode: isa.Ctx4}))
			}
		}
		t.Errorf("the sched text does not encode to the image (%d words vs %d, relocs %v vs %v)", len(code), len(img.Code), len(relocs), len(img.Relocs))
	}
}
