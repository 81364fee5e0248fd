package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestAsGolden runs `nfpcc as` on each testdata/as/*.txtar: its "args"
// section holds the flags, "prog.s" the source. A successful run is
// checked against "objdump" (nfpcc objdump of the image, GNU's format) and
// "image" (the metadata, relocations and line table read back from the
// image); a failing one (the archive has a "stderr" section) against
// "stderr" and "exit". go test -update rewrites them.
func TestAsGolden(t *testing.T) {
	golden.Run(t, "testdata/as/*.txtar", func(t *testing.T, a *golden.Archive) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "prog.s"), []byte(a.Section("prog.s")), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		args := append([]string{"as", "prog.s", "-o", "prog.nfp"}, strings.Fields(a.Section("args"))...)
		var stdout, stderr bytes.Buffer
		rc := Main(args, &stdout, &stderr)
		if _, wantsErr := a.Lookup("stderr"); wantsErr {
			a.Check(t, "stderr", stderr.String())
			a.Check(t, "exit", fmt.Sprintln(rc))
			return
		}
		if rc != 0 {
			t.Fatalf("nfpcc %s: exit %d\n%s", strings.Join(args, " "), rc, stderr.String())
		}
		var dump bytes.Buffer
		if rc := Main([]string{"objdump", "prog.nfp"}, &dump, &stderr); rc != 0 {
			t.Fatalf("nfpcc objdump: exit %d\n%s", rc, stderr.String())
		}
		a.Check(t, "objdump", dump.String())
		a.Check(t, "image", describeImage(t, "prog.nfp"))
		// Assembling again gives the same bytes.
		first, _ := os.ReadFile("prog.nfp")
		if Main(args, &stdout, &stderr) != 0 {
			t.Fatal("second run failed")
		}
		second, _ := os.ReadFile("prog.nfp")
		if !bytes.Equal(first, second) {
			t.Error("two runs wrote different images")
		}
	})
}

// describeImage prints what objdump does not show: the metadata, the
// relocations and the line table.
func describeImage(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.Unmarshal(data)
	if err != nil {
		t.Fatalf("nfpcc as wrote an image that does not read back: %v", err)
	}
	return img.String()
}

// TestAsKernelImage relocates images of the kernel's §8.1 program for
// CoreNIC (start_off 3072, tgt_done 1) and compares them with the words
// the kernel hands to the card (nfp-isa.md §8.1).
func TestAsKernelImage(t *testing.T) {
	final := []uint64{
		0x000f20f003f05bff, 0x000700b441605a20, 0x000502f0000c0800, 0x000cc2f0000c0001,
		0x000ae0db02008038, 0x000060d800608038, 0x000a00a0000c0000, 0x000800c10c048a00,
		0x000460aab0000303, 0x000540db01408125, 0x000da0f002200b82, 0x000b60f444400b11,
		0x000b0081d0100200, 0x000200aa300c0001, 0x000bc094002409ff, 0x000060d800608038,
		0x000a00a0000c0000, 0x000100c10c000a00,
	}
	// The same program written with load-time targets, and as the JIT's
	// dump read back with --jit.
	for _, c := range []struct{ archive, flag string }{
		{"testdata/as/kernel-xdp-pass.txtar", ""},
		{"testdata/as/xdp-pass.txtar", "--jit"},
	} {
		ar, err := txtar.ParseFile(c.archive)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, f := range ar.Files {
			if f.Name == "prog.s" {
				os.WriteFile(filepath.Join(dir, "prog.s"), f.Data, 0o644)
			}
		}
		var stdout, stderr bytes.Buffer
		out := filepath.Join(dir, "p.nfp")
		args := []string{"as", filepath.Join(dir, "prog.s"), "-o", out}
		if c.flag != "" {
			args = append(args, c.flag)
		}
		if rc := Main(args, &stdout, &stderr); rc != 0 {
			t.Fatalf("%s: exit %d: %s", c.archive, rc, stderr.String())
		}
		data, _ := os.ReadFile(out)
		img, err := image.Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		code, err := img.Relocate(image.LoadParams{StartOff: 3072, TgtDone: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range final {
			if code[i] != w {
				t.Errorf("%s word %d: %#016x, kernel %#016x", c.archive, i, code[i], w)
			}
		}
		for i := len(final); i < len(code); i++ {
			if code[i] != 0x000000f0000c0300 {
				t.Errorf("%s word %d: %#016x, want nop", c.archive, i, code[i])
			}
		}
	}
}

var jitDumpLine = regexp.MustCompile(`^\s*[0-9a-f]+:\t\s*\.([0-9]+)\s+(.*)$`)

// TestAsJITDumps assembles the 8 Linux JIT dumps of the nfp-jit corpus
// into images and checks that nfpcc objdump prints every instruction as the
// dump does.
func TestAsJITDumps(t *testing.T) {
	dir := filepath.Join(testsuite.Corpus(t, "nfp-jit"), "programs")
	files, _ := filepath.Glob(filepath.Join(dir, "*.asm"))
	if len(files) != 8 {
		t.Fatalf("%d dumps, want 8", len(files))
	}
	out := t.TempDir()
	for _, f := range files {
		nfp := filepath.Join(out, filepath.Base(f)+".nfp")
		var stdout, stderr, dump bytes.Buffer
		if rc := Main([]string{"as", f, "-o", nfp}, &stdout, &stderr); rc != 0 {
			t.Fatalf("%s: exit %d\n%s", f, rc, stderr.String())
		}
		if rc := Main([]string{"objdump", nfp}, &dump, &stderr); rc != 0 {
			t.Fatalf("objdump %s: exit %d\n%s", nfp, rc, stderr.String())
		}
		want := map[int]string{}
		src, _ := os.ReadFile(f)
		for _, l := range strings.Split(string(src), "\n") {
			if m := jitDumpLine.FindStringSubmatch(l); m != nil {
				n, _ := strconv.Atoi(m[1])
				want[n] = m[2]
			}
		}
		got := 0
		for _, l := range strings.Split(dump.String(), "\n") {
			m := regexp.MustCompile(`^\s*[0-9a-f]+:\t[0-9a-f]{16} \t\s*\.([0-9]+)\s+(.*)$`).FindStringSubmatch(l)
			if m == nil {
				continue
			}
			n, _ := strconv.Atoi(m[1])
			if m[2] != want[n] {
				t.Errorf("%s .%d: objdump %q, dump %q", filepath.Base(f), n, m[2], want[n])
			}
			got++
		}
		if got != len(want) {
			t.Errorf("%s: %d instructions in the image, %d in the dump", filepath.Base(f), got, len(want))
		}

		// With --jit the image carries the kernel's relocations and loads
		// at CoreNIC's offset: every exit then lands on the XDP outro's
		// return-code check, every placeholder is gone.
		if rc := Main([]string{"as", "--jit", f, "-o", nfp}, &stdout, &stderr); rc != 0 {
			t.Fatalf("as --jit %s: exit %d\n%s", f, rc, stderr.String())
		}
		data, _ := os.ReadFile(nfp)
		img, err := image.Unmarshal(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		code, err := img.Relocate(image.LoadParams{StartOff: 3072, TgtDone: 1, Helpers: map[uint32]uint32{1: 100, 2: 101, 3: 102, 25: 103}})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		kinds := map[image.RelocKind]int{}
		for _, r := range img.Relocs {
			kinds[r.Kind]++
			if r.Kind == image.RelocBrGoOut && want[int(r.Value)] != "alu[--, 0x3, -, gprB_0]" {
				t.Errorf("%s: exit at .%d goes to .%d: %q, not the XDP outro", filepath.Base(f), r.Index, r.Value, want[int(r.Value)])
			}
		}
		if kinds[image.RelocBrGoOut] == 0 || kinds[image.RelocBrNextPkt] != 2 {
			t.Errorf("%s: relocations %v: want exits and the outro's two next-packet branches", filepath.Base(f), kinds)
		}
		for i, w := range code {
			if strings.Contains(isa.Disasm(isa.Word(w), isa.Options{Mode: isa.Ctx4}), "[.150") {
				t.Errorf("%s .%d: placeholder left after relocation: %s", filepath.Base(f), i, isa.Disasm(isa.Word(w), isa.Options{Mode: isa.Ctx4}))
			}
		}
	}
}

func TestAsUsage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "p.s")
	os.WriteFile(src, []byte("nop\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"as"}, "usage: nfpcc as FILE.s"},
		{[]string{"as", filepath.Join(dir, "missing.s")}, "no such file"},
		{[]string{"as", src, "--style", "gnu"}, `unknown --style "gnu"`},
		{[]string{"as", src, "--entry", "5"}, "entry .5 is outside the code (1 words)"},
		{[]string{"as", src, "--stack", "4096"}, "stack size 4096 exceeds 512 bytes"},
	} {
		var stdout, stderr bytes.Buffer
		if rc := Main(c.args, &stdout, &stderr); rc != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, rc)
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, stderr.String(), c.want)
		}
	}
	// Without -o the image goes next to the source.
	var stdout, stderr bytes.Buffer
	if rc := Main([]string{"as", src}, &stdout, &stderr); rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "p.nfp")); err != nil {
		t.Error(err)
	}
}

// TestAsJITDumpRuns: `nfpcc as X.asm -o X.nfp` (the companion X.bpf.o
// found beside the dump, or --obj) and then `nfpcc run X.nfp` give, on both
// example packets of every nfp-jit dump, the cycles, DRAM cycles, action,
// r0, packet and maps of running the dump itself (`nfpcc run X.asm X.bpf.o`).
func TestAsJITDumpRuns(t *testing.T) {
	corpus := testsuite.Corpus(t, "nfp-jit")
	dir := filepath.Join(corpus, "programs")
	cb, err := os.ReadFile(filepath.Join(corpus, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]map[string]struct {
		Packet string `json:"packet_pattern_hex"`
	}
	if err := json.Unmarshal(cb, &cases); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.asm"))
	if len(files) != 8 {
		t.Fatalf("%d dumps, want 8", len(files))
	}
	out := t.TempDir()
	for i, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".asm")
		obj := filepath.Join(dir, name+".bpf.o")
		img := filepath.Join(out, name+".nfp")
		args := []string{"as", f, "-o", img}
		if i%2 == 1 {
			// The dump copied alone: the object given with --obj.
			alone := filepath.Join(out, name+".asm")
			src, _ := os.ReadFile(f)
			if err := os.WriteFile(alone, src, 0o644); err != nil {
				t.Fatal(err)
			}
			args = []string{"as", alone, "--obj", obj, "-o", img}
		}
		var stdout, stderr bytes.Buffer
		if rc := Main(args, &stdout, &stderr); rc != 0 {
			t.Fatalf("%v: exit %d\n%s", args, rc, stderr.String())
		}
		var pkts []string
		for _, k := range []string{"k_first", "i_first"} {
			pkts = append(pkts, "--packet", cases[name][k].Packet)
		}
		run := func(a ...string) string {
			var o, e bytes.Buffer
			if rc := Main(append(append([]string{"run", "--json"}, a...), pkts...), &o, &e); rc != 0 {
				t.Fatalf("run %v: exit %d\n%s%s", a, rc, o.String(), e.String())
			}
			// The reports differ only in the file named.
			var rep map[string]any
			if err := json.Unmarshal(o.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			delete(rep, "object")
			b, _ := json.Marshal(rep)
			return string(b)
		}
		if got, want := run(img), run(f, obj); got != want {
			t.Errorf("%s: the assembled image runs\n%s\nthe dump\n%s", name, got, want)
		}
	}
}
