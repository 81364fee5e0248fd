package backend

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa/image"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/*.txtar")

// TestGolden compiles the `ir` section of each testdata/*.txtar (an XDP
// program in IR text with the verifier's facts written as !facts) and
// compares the listing with `out`, or the error with `error`. A `maps`
// section lists the program's maps, a `type` section "tc" makes it a tc
// program, one a line: NAME TYPE KEY VALUE ENTRIES.
// `go test ./backend -run Golden -update` rewrites the expected sections.
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
			sec := map[string]string{}
			for _, f := range ar.Files {
				sec[f.Name] = string(f.Data)
			}
			m, err := ir.Parse(sec["ir"])
			if err != nil {
				t.Fatalf("ir: %v", err)
			}
			if err := ir.CheckModule(m); err != nil {
				t.Fatalf("ir: %v", err)
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
			var got, want, name string
			if err != nil {
				got, name = err.Error()+"\n", "error"
			} else {
				got, name = Listing(img), "out"
				var buf strings.Builder
				if err := img.Write(&buf); err != nil {
					t.Fatalf("the image does not validate: %v", err)
				}
			}
			want = sec[name]
			if *update {
				var files []txtar.File
				for _, f := range ar.Files {
					if f.Name != "out" && f.Name != "error" {
						files = append(files, f)
					}
				}
				ar.Files = append(files, txtar.File{Name: name, Data: []byte(got)})
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("%s differs (go test ./backend -run Golden -update):\n--- got\n%s--- want\n%s", name, got, want)
			}
		})
	}
}
