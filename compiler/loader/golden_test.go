package loader

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite testdata/progs.txtar from the loader's output")

// TestGolden pins the loader's output for the project's test programs:
// one archive file per object with its maps and linked programs, as
// Map.String and Program.String print them. Review the diff after
// `go test ./compiler/loader -run Golden -update`.
func TestGolden(t *testing.T) {
	objs, err := filepath.Glob(progsObject(t, "*.o"))
	gcc, _ := filepath.Glob(progsObject(t, "gcc/*.o"))
	objs = append(objs, gcc...)
	if err != nil || len(objs) == 0 {
		t.Fatalf("no objects in testdata/progs: %v", err)
	}
	got := &txtar.Archive{Comment: []byte("Loader output for testdata/progs/*.o and gcc/*.o (go test ./compiler/loader -run Golden -update).\n")}
	for _, path := range objs {
		obj, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(progsObject(t, ""), path)
		got.Files = append(got.Files, txtar.File{Name: rel, Data: []byte(dump(obj))})
	}
	golden := filepath.Join("testdata", "progs.txtar")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, txtar.Format(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := txtar.ParseFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if len(want.Files) != len(got.Files) {
		t.Errorf("%d objects, golden has %d", len(got.Files), len(want.Files))
	}
	for i := range min(len(want.Files), len(got.Files)) {
		w, g := want.Files[i], got.Files[i]
		if w.Name != g.Name || !bytes.Equal(w.Data, g.Data) {
			t.Errorf("%s differs from the golden %s:\n%s", g.Name, w.Name, g.Data)
		}
	}
}
