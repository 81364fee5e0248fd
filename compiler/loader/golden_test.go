package loader

import (
	"path/filepath"
	"testing"

	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestGolden pins the loader's output for the project's test programs:
// one archive section per object with its maps and linked programs, as
// Map.String and Program.String print them. Review the diff after
// `go test ./compiler/loader -run Golden -update`.
func TestGolden(t *testing.T) {
	objs, err := filepath.Glob(progsObject(t, "*.o"))
	gcc, _ := filepath.Glob(progsObject(t, "gcc/*.o"))
	objs = append(objs, gcc...)
	if err != nil || len(objs) == 0 {
		t.Fatalf("no objects in testdata/progs: %v", err)
	}
	a := golden.Open(t, filepath.Join("testdata", "progs.txtar"))
	for _, path := range objs {
		obj, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(progsObject(t, ""), path)
		a.Check(t, rel, dump(obj))
	}
	a.CheckNoOthers(t)
}
