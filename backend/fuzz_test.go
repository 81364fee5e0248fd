package backend

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/passes"
)

// FuzzCompile feeds IR text (seeded with the goldens) to the passes and the
// backend: what
// parses and checks must compile or be refused with an error, never a BUG
// (an internal panic) and never an image that does not validate.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range ar.Files {
			if s.Name == "ir" {
				f.Add(string(s.Data), uint8(0))
				f.Add(string(s.Data), uint8(6))
			}
		}
	}
	maps := []image.Map{{Name: "h", Type: 1, KeySize: 4, ValueSize: 8, MaxEntries: 64}, {Name: "a", Type: 2, KeySize: 4, ValueSize: 16, MaxEntries: 4}}
	f.Fuzz(func(t *testing.T, src string, regs uint8) {
		m, err := ir.Parse(src)
		if err != nil || ir.CheckModule(m) != nil || len(m.Funcs) == 0 {
			return
		}
		// The passes run first, as in the compiler: the required ones
		// (inlining), or all of -O1/-O2 by the high bits of regs; ARRAY
		// lookups inline (MapLayout) for even regs.
		lv := []passes.Level{passes.O0, passes.O1, passes.O2}[int(regs/32)%3]
		if _, err := passes.Run(m, passes.Config{Level: lv, Check: true}); err != nil {
			if strings.Contains(err.Error(), "BUG") {
				t.Fatalf("%v\n%s", err, src)
			}
			return
		}
		img, _, err := Compile(m, Options{Name: "p", Type: image.ProgXDP, Maps: maps, Regs: int(regs % 32), MapLayout: regs&1 == 0})
		if err != nil {
			if strings.Contains(err.Error(), "BUG") {
				t.Fatalf("%v\n%s", err, src)
			}
			return
		}
		if err := img.Validate(); err != nil {
			t.Fatalf("invalid image: %v\n%s", err, src)
		}
	})
}
