package image

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// xdpPass is the kernel JIT's image of `r0 = 2; exit` (nfp-isa.md §8.1):
// the pre-relocation words with the relocation type in bits 63:56, and the
// words the card runs at start_off 3072 with tgt_done 1.
var xdpPass = []struct{ pre, final uint64 }{
	{0x000000f003f05bff, 0x000f20f003f05bff},
	{0x000000b441605a20, 0x000700b441605a20},
	{0x000002f0000c0800, 0x000502f0000c0800},
	{0x000002f0000c0001, 0x000cc2f0000c0001},
	{0x020001dea6008038, 0x000ae0db02008038}, // RELO_BR_GO_OUT → tgt_out .8
	{0x060001dea6208038, 0x000060d800608038}, // RELO_BR_NEXT_PKT
	{0x000000a0000c0000, 0x000a00a0000c0000},
	{0x000000c10c048a00, 0x000800c10c048a00},
	{0x000000aab0000303, 0x000460aab0000303},
	{0x010000d801408125, 0x000540db01408125}, // RELO_BR_REL
	{0x000000f002200b82, 0x000da0f002200b82},
	{0x000000f444400b11, 0x000b60f444400b11},
	{0x00000081d0100200, 0x000b0081d0100200},
	{0x000000aa300c0001, 0x000200aa300c0001},
	{0x00000094002409ff, 0x000bc094002409ff},
	{0x060001dea6208038, 0x000060d800608038}, // RELO_BR_NEXT_PKT
	{0x000000a0000c0000, 0x000a00a0000c0000},
	{0x000000c10c000a00, 0x000100c10c000a00},
}

const nop = 0x000000f0000c0300

// xdpPassImage builds the §8.1 program as an image, the way a JIT would:
// the relocation type taken out of bits 63:56 into a relocation record.
func xdpPassImage(t testing.TB) *Image {
	img := &Image{Program: Program{Name: "xdp_pass", Type: ProgXDP}}
	for i, w := range xdpPass {
		if kind := RelocKind(w.pre >> 56); kind != 0 {
			r := Reloc{Index: uint32(i), Kind: kind}
			if kind == RelocBrGoOut {
				r.Value = 8 // tgt_out
			}
			img.Relocs = append(img.Relocs, r)
		}
		img.Code = append(img.Code, WithECC(w.pre))
	}
	for range 8 {
		img.Code = append(img.Code, nop)
	}
	if err := img.Validate(); err != nil {
		t.Fatalf("xdp_pass image invalid: %v", err)
	}
	return img
}

// richImage exercises every section: maps with and without contents,
// helper calls, a line table, every relocation kind.
func richImage(t testing.TB) *Image {
	img := xdpPassImage(t)
	img.Program = Program{Name: "prog_with_maps", Type: ProgTC, Entry: 0, StackSize: 64,
		Caps: CapFunc | CapMaps | CapRandom}
	n := uint32(len(img.Code))
	// Two helper calls, a push/pop and an abort branch, an immed holding a
	// code address: appended after the nops.
	br := func(target uint32) uint64 {
		return WithECC(setBranchTarget(xdpPass[4].pre&insnMask, target))
	}
	img.Code = append(img.Code,
		br(BranchRelocBase+1), br(BranchRelocBase+2), br(BranchRelocBase), br(BranchRelocBase), br(BranchRelocBase),
		WithECC(setImmedValue(0x2f0000c0800, 3)), // immed[gprA_0, 3], gpr_wrboth: the address .3
	)
	img.Relocs = append(img.Relocs,
		Reloc{Index: n, Kind: RelocBrHelper, Value: 1},
		Reloc{Index: n + 1, Kind: RelocBrHelper, Value: 2},
		Reloc{Index: n + 2, Kind: RelocBrGoAbort, Value: 9},
		Reloc{Index: n + 3, Kind: RelocBrGoCallPushRegs, Value: 2},
		Reloc{Index: n + 4, Kind: RelocBrGoCallPopRegs, Value: 3},
		Reloc{Index: n + 5, Kind: RelocImmedRel},
	)
	img.Maps = []Map{
		{Name: "counters", Type: 2, KeySize: 4, ValueSize: 8, MaxEntries: 16},
		{Name: ".data", Type: 2, KeySize: 4, ValueSize: 12, MaxEntries: 1, Contents: []byte("hello world!")},
		{Name: "flows", Type: 1, KeySize: 16, ValueSize: 8, MaxEntries: 1024, Flags: 1},
		{Name: ".rodata", Type: 2, KeySize: 4, ValueSize: 3, MaxEntries: 1, Flags: 1 << 7, Contents: []byte{1, 2, 3}},
	}
	img.Lines = []Line{
		{Addr: 0, PC: NoPC},
		{Addr: 2, PC: 0, File: "prog.c", Line: 10},
		{Addr: 4, PC: 1, File: "prog.c", Line: 11},
		{Addr: 5, PC: NoPC},
		{Addr: n, PC: 7, File: "lib/maps.h", Line: 3},
	}
	if err := img.Validate(); err != nil {
		t.Fatalf("rich image invalid: %v", err)
	}
	return img
}

func TestECCGolden(t *testing.T) {
	for i, w := range xdpPass {
		if got := WithECC(w.pre &^ (0xff << 56)); got&insnMask != w.final&insnMask {
			continue // a relocated word: its ECC is checked by TestRelocateGolden
		} else if got != w.final {
			t.Errorf("word %d: WithECC = %#016x, want %#016x", i, got, w.final)
		}
	}
}

func TestRelocateGolden(t *testing.T) {
	img := xdpPassImage(t)
	code, err := img.Relocate(LoadParams{StartOff: 3072, TgtDone: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range xdpPass {
		if code[i] != w.final {
			t.Errorf("word %d: relocated %#016x, want %#016x (kernel, nfp-isa.md §8.1)", i, code[i], w.final)
		}
	}
	if !reflect.DeepEqual(img.Code, xdpPassImage(t).Code) {
		t.Error("Relocate changed the image's own code")
	}
}

func TestRelocateEveryKind(t *testing.T) {
	img := richImage(t)
	n := len(xdpPass) + 8
	code, err := img.Relocate(LoadParams{StartOff: 3072, TgtDone: 1, Helpers: map[uint32]uint32{1: 100, 2: 200}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint32{100, 200, 3072 + 9, 3072 + 2, 3072 + 3} {
		if got := branchTarget(code[n+i]); got != want {
			t.Errorf("word .%d: target %d, want %d", n+i, got, want)
		}
	}
	if got := immedValue(code[n+5]); got != 3072+3 {
		t.Errorf("immed: %d, want %d", got, 3072+3)
	}
	if err := (&Image{Program: img.Program, Code: code, Maps: img.Maps}).Validate(); err != nil {
		t.Errorf("relocated code fails ECC: %v", err)
	}
	if _, err := img.Relocate(LoadParams{StartOff: 3072}); err == nil || !strings.Contains(err.Error(), "no address for helper 1") {
		t.Errorf("missing helper address: err = %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, img := range []*Image{xdpPassImage(t), richImage(t)} {
		b, err := img.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", img.Program.Name, err)
		}
		if !reflect.DeepEqual(got, img) {
			t.Errorf("%s: Read(Write(img)) differs:\n got %+v\nwant %+v", img.Program.Name, got, img)
		}
		b2, _ := got.Marshal()
		if !bytes.Equal(b, b2) {
			t.Errorf("%s: writing the same image twice gives different bytes", img.Program.Name)
		}
	}
}

// TestStandardELF reads an image with Go's debug/elf, an independent ELF
// reader, and checks what other tools rely on.
func TestStandardELF(t *testing.T) {
	img := richImage(t)
	b, _ := img.Marshal()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != EMNFP || f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB {
		t.Errorf("header: machine %d class %v data %v", f.Machine, f.Class, f.Data)
	}
	text := f.Section(".text.i32.me0")
	if text == nil || text.Flags != elf.SHF_ALLOC|elf.SHF_EXECINSTR || text.Size != uint64(8*len(img.Code)) {
		t.Fatalf("code section: %+v", text)
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range syms {
		names = append(names, s.Name)
	}
	want := []string{"", "prog_with_maps"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("symbols %q, want %q", names, want)
	}
}

func TestReadelf(t *testing.T) {
	path, err := exec.LookPath("readelf")
	if err != nil {
		t.Skip("readelf not installed")
	}
	b, _ := richImage(t).Marshal()
	file := filepath.Join(t.TempDir(), "prog.nfp")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "-a", "-W", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("readelf -a: %v\n%s", err, stderr.String())
	}
	// readelf warns about the sh_info of the code section, which holds the
	// island and ME number as NFP firmware files do; nothing else.
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if l != "" && !strings.Contains(l, "Unexpected value (536870913) in info field") {
			t.Errorf("readelf: %s", l)
		}
	}
	out := stdout.String()
	for _, want := range []string{
		"ELF64", "little endian", "Netronome Flow Processor", "NFP-6xxx", ".text.i32.me0", ".nfp.relo",
		".nfp.prog", ".nfp.maps", ".nfp.mapinit", ".nfp.lines", "FUNC    GLOBAL DEFAULT    1 prog_with_maps",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("readelf -a output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("readelf -a:\n%s", out)
	}
}

func TestString(t *testing.T) {
	got := richImage(t).String()
	for _, want := range []string{
		"program prog_with_maps: type tc, entry .0, stack 64, caps func,maps,random, 32 words\n",
		"reloc .4 RELO_BR_GO_OUT -> .8\n",
		"reloc .26 RELO_BR_HELPER helper 1 (bpf_map_lookup_elem)\n",
		"map 1 .data: type 2, key 4, value 12, entries 1, flags 0x0, 12 bytes initialised\n",
		"line .0\n",
		"line .2 pc 0 prog.c:10\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("String() lacks %q:\n%s", want, got)
		}
	}
}
