package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite"
)

// TestListingRoundTrip: for every program of the corpora that compiles
// (testdata/progs, ebpf-samples, nfp-jit, cilium, findings), the listing
// `nfpcc -S` writes, assembled by `nfpcc as`, is the identical image:
// code, maps, relocations, program type, target and line table.
func TestListingRoundTrip(t *testing.T) {
	var objs []string
	own, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "progs", "*.o"))
	objs = append(objs, own...)
	if !testing.Short() {
		for _, c := range []string{"ebpf-samples", "nfp-jit", "cilium", "findings"} {
			filepath.WalkDir(testsuite.Corpus(t, c), func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".o") {
					objs = append(objs, p)
				}
				return nil
			})
		}
	}
	work := t.TempDir()
	images, same := 0, 0
	for _, path := range objs {
		obj, err := loader.Load(path)
		if err != nil {
			continue
		}
		for _, p := range obj.Programs {
			imgs, _, err := compiler.Compile(obj, compiler.Options{Prog: p.Name, DefaultXDP: true})
			if err != nil || len(imgs) != 1 {
				continue
			}
			images++
			var want bytes.Buffer
			if err := imgs[0].Write(&want); err != nil {
				t.Fatal(err)
			}
			s := filepath.Join(work, "prog.s")
			out := filepath.Join(work, "prog.nfp")
			if err := os.WriteFile(s, []byte(writeListing(imgs[0])), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := nfpcc("as", s, "-o", out); code != 0 {
				t.Errorf("%s: %s: as: exit %d: %s", path, p.Name, code, errOut)
				continue
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%s: %s: the assembled listing differs from the image (%d vs %d bytes)", path, p.Name, len(got), want.Len())
				continue
			}
			same++
		}
	}
	t.Logf("%d objects, %d images, %d identical after -S and as", len(objs), images, same)
	if images == 0 {
		t.Fatal("no program compiled")
	}
}
