package diff

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/backend"
	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestGolden compiles the object named in each testdata/*.txtar (a path
// from the project root) and compares the listing with `out`
// (`go test ./testsuite/diff -run Golden -update` rewrites it).
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata/*.txtar", func(t *testing.T, a *golden.Archive) {
		obj := strings.TrimSpace(a.Section("object"))
		o, err := loader.Load(filepath.Join(testsuite.ProjectRoot(), obj))
		if err != nil {
			t.Fatal(err)
		}
		imgs, _, err := compiler.Compile(o, compiler.Options{MCPU: "emulator"})
		if err != nil {
			t.Fatal(err)
		}
		a.Check(t, "out", backend.Listing(imgs[0]))
	})
}
