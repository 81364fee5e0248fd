package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/testsuite"
)

func corpusObject(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(testsuite.Corpus(t, "ebpf-samples"), rel)
}

func mustLoad(t *testing.T, path string) *Object {
	t.Helper()
	obj, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func mapIndex(t *testing.T, obj *Object, name string) int {
	t.Helper()
	for i, m := range obj.Maps {
		if m.Name == name {
			return i
		}
	}
	t.Fatalf("%s: no map %s", obj.Path, name)
	return -1
}

// slotOf maps each instruction index to its pc.
func insAt(p *Program, pc int) (asm.Instruction, bool) {
	slot := 0
	for _, ins := range p.Insns {
		if slot == pc {
			return ins, true
		}
		slot += int(ins.Size() / asm.InstructionSize)
	}
	return asm.Instruction{}, false
}

// TestGlobalData: .data/.rodata/.bss become one-entry arrays with their
// contents, and loads of their addresses carry index | offset<<32.
func TestGlobalData(t *testing.T) {
	obj := mustLoad(t, corpusObject(t, "build/global_variable.o"))
	want := map[string]struct {
		size     int
		readOnly bool
	}{".bss": {8, false}, ".data": {40, false}, ".rodata": {4, true}}
	if len(obj.Maps) != len(want) {
		t.Fatalf("maps: %v", obj.Maps)
	}
	for _, m := range obj.Maps {
		w := want[m.Name]
		if m.Type != ebpf.Array || m.MaxEntries != 1 || m.KeySize != 4 || int(m.ValueSize) != w.size ||
			len(m.Contents) != w.size || m.ReadOnly != w.readOnly || m.Section != m.Name {
			t.Errorf("map %v: want value size %d, read-only %v", m, w.size, w.readOnly)
		}
	}
	p := obj.Programs[0]
	bss := mapIndex(t, obj, ".bss")
	// pc 5 loads &bss[4] (the second counter of the program).
	ins, ok := insAt(p, 5)
	if !ok || ins.Src != asm.PseudoMapValue || ins.Constant != int64(bss)|4<<32 {
		t.Errorf("pc 5: %v, want a map value load of map %d offset 4\n%s", ins, bss, p)
	}
}

// TestCalls: subprograms are appended once, each call lands on the start
// of the function it names.
func TestCalls(t *testing.T) {
	obj := mustLoad(t, corpusObject(t, "build/bpf2bpf.o"))
	var prog *Program
	for _, p := range obj.Programs {
		if p.Section == "test" {
			prog = p
		}
	}
	if prog == nil {
		t.Fatal("no program in section test")
	}
	want := []Func{{"func", 0}, {"add2", 37}, {"add1", 45}}
	if len(prog.Funcs) != len(want) {
		t.Fatalf("funcs %v, want %v", prog.Funcs, want)
	}
	for i := range want {
		if prog.Funcs[i] != want[i] {
			t.Errorf("funcs %v, want %v", prog.Funcs, want)
		}
	}
	calls := 0
	for _, p := range obj.Programs {
		slot := 0
		for _, ins := range p.Insns {
			if ins.IsFunctionCall() {
				calls++
				tgt := slot + 1 + int(ins.Constant)
				if !isFuncStart(p.Funcs, tgt) {
					t.Errorf("%s pc %d: call to %d, not a function start", p.Name, slot, tgt)
				}
				for _, f := range p.Funcs {
					if f.Slot == tgt && f.Name != ins.Reference() {
						t.Errorf("%s pc %d: call lands on %s, meant %s", p.Name, slot, f.Name, ins.Reference())
					}
				}
			}
			slot += int(ins.Size() / asm.InstructionSize)
		}
	}
	if calls != 2+2+2 { // test: 2 calls to add2; add2 twice (once in test, once as .text program): 2 each
		t.Errorf("%d calls", calls)
	}
}

// TestLegacyMapInMap: 28-byte legacy definitions name their inner map by
// position among the legacy definitions.
func TestLegacyMapInMap(t *testing.T) {
	obj := mustLoad(t, corpusObject(t, "linux/test_map_in_map_kern.o"))
	inner := map[string]string{"a_of_port_a": "port_a", "h_of_port_a": "port_a", "h_of_port_h": "port_h"}
	for _, m := range obj.Maps {
		w, isOuter := inner[m.Name]
		switch {
		case isOuter && (m.InnerMap == nil || m.InnerMap.Name != w):
			t.Errorf("%v: want inner map %s", m, w)
		case !isOuter && m.InnerMap != nil:
			t.Errorf("%v: unexpected inner map", m)
		}
		if m.Section != "maps" {
			t.Errorf("%v: section %q", m, m.Section)
		}
	}
	obj = mustLoad(t, corpusObject(t, "build/map_in_map_legacy.o"))
	m := obj.Maps[mapIndex(t, obj, "array_of_maps")]
	if m.InnerMap == nil || m.InnerMap.Name != "inner_map" || m.InnerMap.ValueSize != 8 {
		t.Errorf("%v: want inner map inner_map", m)
	}
}

// TestBTFMapInMap: BTF `.maps` with an inner map template.
func TestBTFMapInMap(t *testing.T) {
	obj := mustLoad(t, corpusObject(t, "build/map_in_map.o"))
	m := obj.Maps[mapIndex(t, obj, "array_of_maps")]
	if m.Type != ebpf.ArrayOfMaps || m.InnerMap == nil || m.InnerMap.Type != ebpf.Array || m.Section != ".maps" {
		t.Errorf("%v", m)
	}
}

// TestOldObject: pre-clang-8 objects (no symbol sizes, legacy maps) load;
// xdp1's map reference resolves to its only map.
func TestOldObject(t *testing.T) {
	obj := mustLoad(t, corpusObject(t, "linux/xdp1_kern.o"))
	if len(obj.Programs) != 1 || len(obj.Maps) != 1 {
		t.Fatalf("%d programs, %d maps", len(obj.Programs), len(obj.Maps))
	}
	p, m := obj.Programs[0], obj.Maps[0]
	if p.Name != "xdp_prog1" || p.Section != "xdp1" || p.Type != ebpf.XDP || p.Slots() != 61 || p.License != "GPL" {
		t.Errorf("program %s %q %v %d slots license %q", p.Name, p.Section, p.Type, p.Slots(), p.License)
	}
	if m.Name != "rxcnt" || m.Type != ebpf.PerCPUArray || m.KeySize != 4 || m.ValueSize != 8 || m.MaxEntries != 256 {
		t.Errorf("map %v", m)
	}
	loads := 0
	for _, ins := range p.Insns {
		if ins.IsLoadFromMap() {
			loads++
			if ins.Src != asm.PseudoMapFD || ins.Constant != 0 {
				t.Errorf("map load %v", ins)
			}
		}
	}
	if loads != 1 {
		t.Errorf("%d map loads", loads)
	}
}

// TestEMNone: old LLVM wrote e_machine 0; such an object loads exactly like
// its EM_BPF twin.
func TestEMNone(t *testing.T) {
	path := corpusObject(t, "linux/xdp_router_ipv4_kern.o")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := mustLoad(t, path)
	binary.LittleEndian.PutUint16(b[eMachineOff:], 0)
	got, err := LoadBytes(filepath.Base(path), b)
	if err != nil {
		t.Fatal(err)
	}
	if dump(got) != dump(want) {
		t.Errorf("EM_NONE object differs:\n%s\nwant\n%s", dump(got), dump(want))
	}
}

func dump(obj *Object) string {
	var b strings.Builder
	for _, m := range obj.Maps {
		b.WriteString(m.String() + "\n")
	}
	for _, p := range obj.Programs {
		b.WriteString(p.String())
	}
	return b.String()
}

// TestDeterministic: loading twice gives identical objects.
func TestDeterministic(t *testing.T) {
	_, files := corpusFiles(t)
	for _, f := range files {
		a, errA := Load(f)
		b, errB := Load(f)
		if (errA == nil) != (errB == nil) || (errA != nil && errA.Error() != errB.Error()) {
			t.Errorf("%s: errors %v / %v", f, errA, errB)
			continue
		}
		if errA == nil && dump(a) != dump(b) {
			t.Errorf("%s: two loads differ", f)
		}
	}
}

// cutObject is the first 300 bytes of a real object.
func cutObject(t *testing.T) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "progs", "xdp_drop.o"))
	if err != nil {
		t.Fatal(err)
	}
	return b[:300]
}

// TestErrors: bad input is named, with the stage that refused it.
func TestErrors(t *testing.T) {
	nfpImage := make([]byte, 64)
	copy(nfpImage, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(nfpImage[18:], 250) // EM_NFP
	x86 := make([]byte, 64)
	copy(x86, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(x86[16:], 1)  // ET_REL
	binary.LittleEndian.PutUint16(x86[18:], 62) // EM_X86_64
	binary.LittleEndian.PutUint32(x86[20:], 1)
	binary.LittleEndian.PutUint16(x86[52:], 64)
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty.o", nil, "loader: empty.o: elf: empty file: not an eBPF object"},
		{"text.o", []byte("hello, world, this is not an object file at all...................."), "loader: text.o: elf: not an ELF file (it starts with \"hello, w\")"},
		{"prog.c", []byte("#include <linux/bpf.h>\nint f(void) { return 2; }\n"), "loader: prog.c: elf: this is C source, not an eBPF object: compile it with clang first"},
		{"short.o", []byte("\x7fEL"), "loader: short.o: elf: truncated ELF: 3 bytes"},
		{"header.o", x86[:40], "loader: header.o: elf: truncated ELF: 40 bytes"},
		{"cut.o", cutObject(t), "loader: cut.o: elf: truncated ELF: the file (300 bytes) ends inside"},
		{"prog.nfp", nfpImage, "loader: prog.nfp: elf: an NFP image (ELF for the NFP), not an eBPF object"},
		{"x86.o", x86, "loader: x86.o: elf: e_machine EM_X86_64: not an eBPF object"},
	}
	for _, c := range cases {
		_, err := LoadBytes(c.name, c.b)
		var le *Error
		if err == nil || !errors.As(err, &le) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q…", c.name, err, c.want)
		}
	}
	if _, err := ReadCapped("/dev/zero", 1<<20); err == nil || !strings.Contains(err.Error(), "more than 1 MiB") {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	_, err := Load(filepath.Join(t.TempDir(), "missing.o"))
	if err == nil || !strings.HasPrefix(err.Error(), "loader: missing.o: read: ") {
		t.Errorf("missing file: %v", err)
	}
	// A section naming error from the parser carries the section.
	_, err = Load(corpusObject(t, "invalid/invalid-lddw.o"))
	var le *Error
	if !errors.As(err, &le) || le.Section != ".text" || !strings.Contains(err.Error(), `section ".text"`) {
		t.Errorf("invalid-lddw.o: %v", err)
	}
	// A call to a function that is not in the object.
	_, err = Load(corpusObject(t, "build/externalfunction.o"))
	if err == nil || err.Error() != `loader: externalfunction.o: section ".text": link: program func: offset 0x30 (func+0x30): call to undefined function "bpf_map_lookup_elem"` {
		t.Errorf("externalfunction.o: %v", err)
	}
}

// TestTruncated: every prefix of a real object is refused cleanly or loads;
// none panics.
func TestTruncated(t *testing.T) {
	b, err := os.ReadFile(corpusObject(t, "linux/xdp1_kern.o"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n += 7 {
		if _, err := LoadBytes("cut.o", b[:n]); err != nil {
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("%d bytes: %v", n, err)
			}
		}
	}
}

func progsObject(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", name)
}

// TestBTFMapInMapTypedef: a map-in-map whose inner map type is a typedef
// (cilium/ebpf alone refuses it; see btfpatch.go).
func TestBTFMapInMapTypedef(t *testing.T) {
	obj := mustLoad(t, corpusObject(t, "build/map_in_map_typedef.o"))
	for _, name := range []string{"outer_map_1", "outer_map_2"} {
		m := obj.Maps[mapIndex(t, obj, name)]
		if m.Type != ebpf.ArrayOfMaps || m.InnerMap == nil || m.InnerMap.Type != ebpf.Array || m.InnerMap.ValueSize != 4 {
			t.Errorf("%v", m)
		}
	}
}

// toRELA rewrites every SHT_REL section of program code in the ELF object
// b as the SHT_RELA section another toolchain would write: the addend
// moves from the instruction (zeroed) into the entry, and the new table
// goes at the end of the file. It returns the number of entries moved.
func toRELA(t *testing.T, b []byte) ([]byte, int) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	shoff := le.Uint64(b[40:])
	moved := 0
	for i, s := range f.Sections {
		if s.Type != elf.SHT_REL || int(s.Info) >= len(f.Sections) || f.Sections[s.Info].Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		code := f.Sections[s.Info]
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		at := uint64(len(b))
		for k := uint64(0); k < s.Size/16; k++ {
			e := s.Offset + 16*k
			off, info := le.Uint64(b[e:]), le.Uint64(b[e+8:])
			imm := code.Offset + off + 4
			a := int64(int32(le.Uint32(b[imm:])))
			if b[code.Offset+off] == 0x85 { // call: libbpf's imm is A/8 - 1
				a = (a + 1) * 8
			}
			le.PutUint32(b[imm:], 0xdeadbeef) // ignored under RELA
			var r [24]byte
			le.PutUint64(r[0:], off)
			le.PutUint64(r[8:], info)
			le.PutUint64(r[16:], uint64(a))
			b = append(b, r[:]...)
			moved++
		}
		hdr := shoff + uint64(i)*64
		le.PutUint32(b[hdr+4:], uint32(elf.SHT_RELA))
		le.PutUint64(b[hdr+24:], at)
		le.PutUint64(b[hdr+32:], uint64(len(b))-at)
		le.PutUint64(b[hdr+56:], 24)
	}
	return b, moved
}

// TestRELA: objects whose relocations are SHT_RELA (explicit addends)
// load as their SHT_REL twins: addends applied, calls and map and global
// data references resolved alike.
func TestRELA(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "*.o"))
	total := 0
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := LoadBytes(filepath.Base(path), b)
		if err != nil {
			continue
		}
		rela, n := toRELA(t, append([]byte(nil), b...))
		if n == 0 {
			continue
		}
		total += n
		got, err := LoadBytes(filepath.Base(path), rela)
		if err != nil {
			t.Errorf("%s with RELA: %v", filepath.Base(path), err)
			continue
		}
		if got.Path = want.Path; dump(got) != dump(want) {
			t.Errorf("%s: RELA object differs:\n%s\nwant\n%s", filepath.Base(path), dump(got), dump(want))
		}
	}
	if total == 0 {
		t.Fatal("no relocations converted")
	}
	t.Logf("%d relocations converted to RELA and back", total)
	// A RELA entry on something that is not an instruction is named with
	// its file, section and offset.
	b, _ := os.ReadFile(progsObject(t, "xdp_fw.o"))
	rela, _ := toRELA(t, b)
	le := binary.LittleEndian
	f, _ := elf.NewFile(bytes.NewReader(rela))
	s := f.Section(".relaxdp")
	if s == nil {
		s = f.Section(".relxdp")
	}
	le.PutUint64(rela[s.Offset:], 3) // entry 0: r_offset not an instruction
	_, err := LoadBytes("rela.o", rela)
	want := `loader: rela.o: elf: section ".relxdp": relocation at offset 0 (of xdp+0x3): not an instruction`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %s…", err, want)
	}
}

// TestPerfEventArraySized: a BTF perf event array without max_entries,
// key or value size (the libbpf idiom) gets what libbpf gives it, with
// the documented CPU count.
func TestPerfEventArraySized(t *testing.T) {
	obj := mustLoad(t, corpusObject(t, "cilium-examples/uretprobe_bpf_x86_bpfel.o"))
	m := obj.Maps[mapIndex(t, obj, "events")]
	if m.Type != ebpf.PerfEventArray || m.KeySize != 4 || m.ValueSize != 4 || m.MaxEntries != PerfEventArrayCPUs {
		t.Errorf("events: %s", m)
	}
}

// TestMapErrorOffset: a bad map definition is named with its section and
// the byte offset of the definition.
func TestMapErrorOffset(t *testing.T) {
	b, err := os.ReadFile(progsObject(t, "legacy_maps.o"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	syms, _ := f.Symbols()
	maps := f.Section("maps")
	for _, s := range syms {
		if s.Name == "flow_tables" {
			binary.LittleEndian.PutUint32(b[maps.Offset+s.Value+28:], 99) // inner_id
		}
	}
	_, err = LoadBytes("legacy_maps.o", b)
	want := `loader: legacy_maps.o: section "maps": maps: offset 0x48: map flow_tables: inner_id 99 names no map of the object`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
