package backend

import (
	"strconv"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/ir"
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
// required ones (inlining).
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
		img, _, err := Compile(m, Options{Name: m.Funcs[0].Name, Type: typ, Maps: maps})
		out, errText := "", ""
		if err != nil {
			errText = err.Error() + "\n"
		} else {
			out = Listing(img)
			var buf strings.Builder
			if err := img.Write(&buf); err != nil {
				t.Fatalf("the image does not validate: %v", err)
			}
		}
		// One of the two is produced; the other must be absent.
		a.Check(t, "out", out)
		a.Check(t, "error", errText)
	})
}
