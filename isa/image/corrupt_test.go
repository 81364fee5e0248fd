package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"
)

// sectionAt returns the file offset of a section of an image.
func sectionAt(t *testing.T, b []byte, name string) int {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section(name)
	if s == nil {
		t.Fatalf("no section %s", name)
	}
	return int(s.Offset)
}

// TestReadRejectsCorruption damages a valid image in one place at a time
// and checks that reading it fails with an error naming the damage.
func TestReadRejectsCorruption(t *testing.T) {
	good, err := richImage(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	put32 := func(name string, off int, v uint32) func(*testing.T, []byte) []byte {
		return func(t *testing.T, b []byte) []byte {
			binary.LittleEndian.PutUint32(b[sectionAt(t, b, name)+off:], v)
			return b
		}
	}
	for _, c := range []struct {
		name    string
		corrupt func(*testing.T, []byte) []byte
		want    string
	}{
		{"empty file", func(_ *testing.T, b []byte) []byte { return nil }, "too short for an ELF header"},
		{"bad magic", func(_ *testing.T, b []byte) []byte { b[1] = 'X'; return b }, "not an ELF file"},
		{"ELF32", func(_ *testing.T, b []byte) []byte { b[4] = 1; return b }, "want ELF64"},
		{"x86 machine", func(_ *testing.T, b []byte) []byte { b[18] = 62; return b }, "ELF machine 62, want EM_NFP (250)"},
		{"truncated", func(_ *testing.T, b []byte) []byte { return b[:len(b)-100] }, "outside the file"},
		{"flipped code bit", func(t *testing.T, b []byte) []byte {
			b[sectionAt(t, b, ".text.i32.me0")+8*3] ^= 0x10
			return b
		}, "code word .3 (0x000cc2f0000c0011): ECC 0x66, want 0x25"},
		{"high bits", func(t *testing.T, b []byte) []byte {
			b[sectionAt(t, b, ".text.i32.me0")+8*2+7] = 0x80
			return b
		}, "code word .2 (0x800502f0000c0800): bits 63:52 set"},
		{"relocation past the end", put32(".nfp.relo", 0, 9999), "relocation at .9999 (RELO_BR_GO_OUT): points outside the code"},
		{"relocation on a non-branch", put32(".nfp.relo", 0, 2), "relocation at .2 (RELO_BR_GO_OUT): word 0x000502f0000c0800 is not a branch"},
		{"unknown relocation kind", func(t *testing.T, b []byte) []byte {
			b[sectionAt(t, b, ".nfp.relo")+4] = 42
			return b
		}, "unknown kind 42"},
		{"unsorted relocations", put32(".nfp.relo", relocSize, 1), "not after the previous one"},
		{"unknown helper", put32(".nfp.relo", 4*relocSize+8, 77), "the firmware has no helper 77"},
		{"go_out target outside", put32(".nfp.relo", 8, 5000), "target .5000 is outside the code"},
		{"program name offset", put32(".nfp.prog", 4, 1<<20), "program name: string offset 1048576 outside the string table"},
		{"program type", put32(".nfp.prog", 8, 99), "type 99 is neither XDP"},
		{"stack too large", put32(".nfp.prog", 16, 4096), "stack size 4096 exceeds 512"},
		{"entry outside", put32(".nfp.prog", 12, 5000), "ELF entry 0x0 disagrees"},
		{"version", put32(".nfp.prog", 0, 7), "format version 7"},
		{"map contents outside", put32(".nfp.maps", mapSize+28, 1000), "outside .nfp.mapinit"},
		{"map value size 0", put32(".nfp.maps", 12, 0), "none may be 0"},
		{"map contents not whole values", put32(".nfp.maps", mapSize+12, 5), "12 bytes of initial contents is not a whole number"},
		{"line file offset", put32(".nfp.lines", 8, 1<<30), "file: string offset"},
		{"lines out of order", put32(".nfp.lines", lineSize, 9), "line entry 2 (.4): address not after the previous entry's .9"},
		{"strtab unterminated", func(t *testing.T, b []byte) []byte {
			f, _ := elf.NewFile(bytes.NewReader(b))
			s := f.Section(".strtab")
			b[s.Offset+s.Size-1] = 'x'
			return b
		}, ".strtab: must begin and end with a NUL byte"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.corrupt(t, append([]byte(nil), good...))
			_, err := Unmarshal(b)
			if err == nil {
				t.Fatalf("damaged image read without error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\ndoes not mention %q", err, c.want)
			}
		})
	}
}

// TestWriteRefusesInvalid checks that Write validates, and that the
// validator reports every problem, not just the first.
func TestWriteRefusesInvalid(t *testing.T) {
	img := richImage(t)
	img.Program.Name = ""
	img.Code[0] ^= 1
	img.Maps[1].Name = "counters"
	img.Lines[1].File = "a\x00b"
	_, err := img.Marshal()
	if err == nil {
		t.Fatal("invalid image written")
	}
	for _, want := range []string{
		"program name is empty",
		"code word .0",
		`map 1 ("counters"): same name as map 0`,
		"contains a NUL byte",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := (&Image{Program: Program{Name: "x", Type: ProgXDP}}).Marshal(); err == nil || !strings.Contains(err.Error(), "no instructions") {
		t.Errorf("empty code: err = %v", err)
	}
}

// FuzzRead feeds damaged images to the reader: it must return an error or
// an image that writes back to an image equal to itself, never panic.
func FuzzRead(f *testing.F) {
	for _, img := range []*Image{xdpPassImage(f), richImage(f)} {
		b, err := img.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Parse(b); err != nil {
			if _, err2 := Unmarshal(b); err2 == nil {
				t.Fatalf("Parse fails (%v) but Unmarshal succeeds", err)
			}
			return
		}
		img, err := Unmarshal(b)
		if err != nil {
			return // structurally sound, semantically invalid
		}
		out, err := img.Marshal()
		if err != nil {
			t.Fatalf("read image does not write: %v", err)
		}
		again, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("written image does not read: %v", err)
		}
		out2, _ := again.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatal("write(read(write(read(b)))) differs from write(read(b))")
		}
	})
}
