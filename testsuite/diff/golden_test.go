package diff

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/backend"
	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite"
)

var update = flag.Bool("update", false, "rewrite the out sections of testdata/*.txtar")

// TestGolden compiles the object named in each testdata/*.txtar (a path
// from the project root) and compares the listing with `out`.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no goldens")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var obj, want string
			for _, f := range ar.Files {
				switch f.Name {
				case "object":
					obj = strings.TrimSpace(string(f.Data))
				case "out":
					want = string(f.Data)
				}
			}
			o, err := loader.Load(filepath.Join(testsuite.ProjectRoot(), obj))
			if err != nil {
				t.Fatal(err)
			}
			imgs, _, err := compiler.Compile(o, compiler.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := backend.Listing(imgs[0])
			if *update {
				var keep []txtar.File
				for _, f := range ar.Files {
					if f.Name != "out" {
						keep = append(keep, f)
					}
				}
				ar.Files = append(keep, txtar.File{Name: "out", Data: []byte(got)})
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("listing differs (go test ./testsuite/diff -run Golden -update):\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}
