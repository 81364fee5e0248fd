package isa_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
)

// FuzzDecode: any 64-bit word decodes, prints in both modes and encodes
// without panicking; a word with the right ECC re-encodes to itself.
func FuzzDecode(f *testing.F) {
	for _, w := range []uint64{0, 0x000000f0000c0300, 0x000700b441605a20, 0x0005d0431604b85a, 0x00093066220c8200,
		0x000220e000020000, 0x0002e0a9403d2004, 0xffffffffffffffff, 1 << 39, 0x000826e83699caf3} {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, x uint64) {
		w := isa.Word(x)
		in := isa.Decode(w)
		for _, m := range []isa.Mode{isa.Ctx4, isa.Ctx8} {
			if s := isa.Disasm(w, isa.Options{Mode: m}); s == "" {
				t.Fatalf("0x%x: empty text", x)
			}
			isa.Text(in, isa.Options{Mode: m})
			_ = isa.ObjdumpLine(3, 100, w, isa.Options{Mode: m})
		}
		got, err := isa.Encode(in)
		if err != nil {
			t.Fatalf("0x%x: Encode(Decode) failed: %v", x, err)
		}
		if isa.CheckECC(w) == nil && got != w {
			t.Fatalf("0x%x: Encode(Decode) = 0x%x", x, uint64(got))
		}
		if isa.CheckECC(got) != nil {
			t.Fatalf("0x%x: Encode produced a bad ECC 0x%x", x, uint64(got))
		}
	})
}

// FuzzReadCodeSections: the ELF reader returns an error on bad input,
// never a panic.
func FuzzReadCodeSections(f *testing.F) {
	f.Add(minimalELF([]isa.Word{0x000000f0000c0300, 0x000700b441605a20}))
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		secs, err := isa.ReadCodeSections(bytes.NewReader(b))
		if err != nil {
			return
		}
		isa.WriteObjdump(io.Discard, "f", secs, isa.ObjdumpOptions{})
	})
}
