package compiler

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite"
)

func load(t *testing.T, name string) *loader.Object {
	t.Helper()
	obj, err := loader.Load(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", name))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestCompile(t *testing.T) {
	imgs, rep, err := Compile(load(t, "xdp_count.o"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || len(rep.Programs) != 1 || rep.Programs[0].Name != "xdp_count" || rep.Programs[0].Err != nil {
		t.Fatalf("images %d, report %+v", len(imgs), rep.Programs)
	}
	if err := imgs[0].Validate(); err != nil {
		t.Error(err)
	}
	if len(imgs[0].Maps) != 1 || imgs[0].Program.StackSize != 4 {
		t.Errorf("maps %d, stack %d", len(imgs[0].Maps), imgs[0].Program.StackSize)
	}
	if st := rep.Programs[0].Stats; st.BodyWords == 0 || st.Words <= st.BodyWords {
		t.Errorf("stats %+v", st)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		obj, prog, want string
	}{
		{"xdp_drop.o", "nope", `no program "nope"`},
		{"legacy_maps.o", "", "4: (r1 = map[id:2]) [nfp] map pkt_count: type PerCPUArray not supported by the firmware (hash and array only): the NFP has no per-CPU maps; a BPF_MAP_TYPE_ARRAY updated with __sync_fetch_and_add offloads"},
		{"tc_classify.o", "", "rejected: 14: (*(u32 *)(r1 +32) = r4) [nfp] unsupported write of __sk_buff (nfp) at off=32 size=4 (the NFP provides len (read), data (read), data_end (read))"},
	} {
		_, _, err := Compile(load(t, c.obj), Options{Prog: c.prog})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.obj, err, c.want)
		}
	}
}

// TestStagePanic: a panic inside a stage is an error naming the stage.
func TestStagePanic(t *testing.T) {
	err := stage("backend", func() error { panic("boom") })
	if err == nil || !strings.HasPrefix(err.Error(), "BUG in backend: boom") {
		t.Errorf("got %v", err)
	}
}
