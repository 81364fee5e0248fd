package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/engine"
	"github.com/nfpcc/nfpcc/testsuite"
)

func prog(name string) string { return filepath.Join("..", "..", "testdata", "progs", name) }

// routerFrames are three frames for the router example and its routes:
// one routed, one whose TTL runs out, one without a route.
func routerFrames(t testing.TB) ([][]byte, *emulator.State) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "router", "routes.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := emulator.ParseState(data)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(ttl byte, dst byte) []byte {
		f := make([]byte, 60)
		copy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x10\x08\x00\x45\x00\x00\x22\x00\x00\x00\x00")
		f[22], f[23] = ttl, 17
		copy(f[26:], []byte{192, 0, 2, 1, 10, 0, 1, dst})
		return f
	}
	return [][]byte{frame(64, 5), frame(1, 5), frame(64, 200)}, st
}

// TestBothEngines: the router and its compiled image give the same
// results and leave the same maps through the one API.
func TestBothEngines(t *testing.T) {
	frames, st := routerFrames(t)
	obj, err := loader.Load(prog("xdp_router.o"))
	if err != nil {
		t.Fatal(err)
	}
	imgs, _, err := compiler.Compile(obj, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := imgs[0].Write(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "router.nfp")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ri, si, err := engine.RunFile(prog("xdp_router.o"), "xdp_router", frames, engine.Options{Maps: st})
	if err != nil {
		t.Fatal(err)
	}
	rn, sn, err := engine.RunFile(path, "", frames, engine.Options{Maps: st})
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		if ri[i].Action != rn[i].Action || !bytes.Equal(ri[i].Packet, rn[i].Packet) {
			t.Errorf("frame %d: interpreter %s %x, NFP %s %x", i+1, ri[i].Action, ri[i].Packet, rn[i].Action, rn[i].Packet)
		}
	}
	if !reflect.DeepEqual(si, sn) {
		t.Errorf("maps differ: interpreter %v, NFP %v", si, sn)
	}
	if ri[0].Action != "XDP_TX" {
		t.Errorf("frame 1: %s, want XDP_TX", ri[0].Action)
	}
}

func TestErrors(t *testing.T) {
	if _, err := engine.Open(prog("xdp_router.o"), "nope", engine.Options{}); err == nil || !strings.Contains(err.Error(), `no program "nope"`) {
		t.Errorf("unknown program: %v", err)
	}
	if _, err := engine.Open(prog("xdp_router.c"), "", engine.Options{}); err == nil || !strings.Contains(err.Error(), "compile it with clang first") {
		t.Errorf("C source: %v", err)
	}
	dir := testsuite.Corpus(t, "ebpf-samples")
	_, err := engine.Open(filepath.Join(dir, "build", "nullmapref.o"), "", engine.Options{})
	var rej *engine.RejectedError
	if !errors.As(err, &rej) {
		t.Errorf("a program the verifier rejects: %v", err)
	}
	if _, err := engine.Open(filepath.Join(dir, "build", "nullmapref.o"), "", engine.Options{NoVerify: true}); err != nil {
		t.Errorf("NoVerify: %v", err)
	}
}

// Run a program on frames in one call: the result type is the same for an
// eBPF object (the reference interpreter) and an NFP image (the emulator).
func ExampleRunFile() {
	drop := filepath.Join("..", "..", "testdata", "progs", "xdp_drop.o")
	frames := [][]byte{make([]byte, 60)}
	results, _, err := engine.RunFile(drop, "", frames, engine.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(results[0].Action, results[0].Return)
	// Output: XDP_DROP 1
}
