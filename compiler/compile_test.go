package compiler

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/isa/image"
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

// TestRodataConstants: reads of a frozen .rodata at constant offsets are
// constants; on CoreNIC the image then has no map at all.
func TestRodataConstants(t *testing.T) {
	path := filepath.Join(testsuite.Corpus(t, "ebpf-samples"), "build", "global_variable_2.o")
	obj, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	imgs, _, err := Compile(obj, Options{Type: ebpf.XDP})
	if err != nil {
		t.Fatal(err)
	}
	if p := imgs[0].Program; len(imgs[0].Maps) != 0 || p.MCPU != image.MCPUCoreNIC {
		t.Errorf("maps %v, mcpu %v; want none on corenic", imgs[0].Maps, p.MCPU)
	}
}

// TestProgramScopedMaps: a program is judged, and its image built, on the
// maps it uses; the object's other maps do not matter.
func TestProgramScopedMaps(t *testing.T) {
	path := filepath.Join(testsuite.Corpus(t, "ebpf-samples"), "linux", "xdp_redirect_kern.o")
	obj, err := loader.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	imgs, _, err := Compile(obj, Options{Prog: "xdp_redirect_dummy_prog"})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs[0].Maps) != 0 {
		t.Errorf("maps %v, want none", imgs[0].Maps)
	}
	_, _, err = Compile(obj, Options{Prog: "xdp_redirect_prog"})
	if want := "[nfp] map rxcnt: type PerCPUArray not supported by the firmware (hash and array only): the NFP has no per-CPU maps"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

// TestMCPU: what only nfpcc's firmware model has is refused on CoreNIC
// with a word that --mcpu=emulator accepts it, and compiles there, named
// in the image.
func TestMCPU(t *testing.T) {
	obj := load(t, "xdp_lb.o")
	_, _, err := Compile(obj, Options{})
	if want := "(--mcpu=emulator accepts this"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("corenic: got %v, want %q", err, want)
	}
	imgs, _, err := Compile(obj, Options{MCPU: "emulator"})
	if err != nil {
		t.Fatal(err)
	}
	if imgs[0].Program.MCPU != image.MCPUEmulator {
		t.Errorf("mcpu %v", imgs[0].Program.MCPU)
	}
	if _, _, err := Compile(obj, Options{MCPU: "nfp-9000"}); err == nil || !strings.Contains(err.Error(), `unknown --mcpu "nfp-9000"`) {
		t.Errorf("got %v", err)
	}
}

// TestCodeStore: an image over CoreNIC's 2560 words is refused after code
// generation, and compiles for the emulator.
func TestCodeStore(t *testing.T) {
	insns := asm.Instructions{
		asm.FnGetPrandomU32.Call(),
		asm.Mov.Reg32(asm.R6, asm.R0),
		asm.FnGetPrandomU32.Call(),
		asm.Mov.Reg32(asm.R7, asm.R0),
	}
	for i := 0; i < 20; i++ { // ~200 words each: restoring division by a register
		insns = append(insns, asm.Div.Reg32(asm.R6, asm.R7), asm.Add.Imm32(asm.R7, 3))
	}
	insns = append(insns, asm.Mov.Reg32(asm.R0, asm.R6), asm.And.Imm(asm.R0, 3), asm.Return())
	insns[0] = insns[0].WithSymbol("big")
	obj := &loader.Object{Path: "big.o", Programs: []*loader.Program{{Name: "big", Section: "xdp", Type: ebpf.XDP, License: "GPL", Insns: insns, Funcs: []loader.Func{{Name: "big"}}}}}
	_, _, err := Compile(obj, Options{})
	var cs *CodeSizeError
	if !errors.As(err, &cs) || cs.Words <= 2560 || !strings.Contains(err.Error(), "--mcpu=emulator accepts this") {
		t.Fatalf("corenic: %v", err)
	}
	if _, _, err := Compile(obj, Options{MCPU: "emulator"}); err != nil {
		t.Errorf("emulator: %v", err)
	}
}
