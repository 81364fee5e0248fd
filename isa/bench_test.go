package isa_test

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/testsuite"
)

func firmwareWords(b *testing.B) ([]isa.CodeSection, []isa.Word) {
	dir := testsuite.Corpus(b, "binutils-nfp")
	secs := readSections(b, filepath.Join(dir, "nic_AMDA0097-0001_2x40-wpi1.nffw"))
	var ws []isa.Word
	for _, s := range secs {
		ws = append(ws, s.Words...)
	}
	return secs, ws
}

// BenchmarkDecodeEncode: decode and re-encode one firmware word (ns/op per word).
func BenchmarkDecodeEncode(b *testing.B) {
	_, ws := firmwareWords(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := isa.Encode(isa.Decode(ws[i%len(ws)])); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDisasm: GNU text of one firmware word.
func BenchmarkDisasm(b *testing.B) {
	_, ws := firmwareWords(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		isa.Disasm(ws[i%len(ws)], isa.Options{Mode: isa.Ctx4})
	}
}

// BenchmarkObjdumpFirmware: the whole 71k-word firmware listing.
func BenchmarkObjdumpFirmware(b *testing.B) {
	secs, _ := firmwareWords(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		isa.WriteObjdump(io.Discard, "fw", secs, isa.ObjdumpOptions{})
	}
}
