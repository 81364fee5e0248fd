package nfp

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/asm"
	"github.com/nfpcc/nfpcc/isa/image"
)

// corpusWords assembles a dump of the nfp-jit corpus, or returns nil when
// the corpora are absent ($NFPCC_CORPORA, else ../shared/corpora beside the
// module, as testsuite.CorporaDir; not imported here so that testsuite may
// import this package).
func corpusWords(name string) []isa.Word {
	dir := os.Getenv("NFPCC_CORPORA")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpora")
	}
	src, err := os.ReadFile(filepath.Join(dir, "nfp-jit", "programs", name+".asm"))
	if err != nil {
		return nil
	}
	p, err := asm.Assemble(name, src, asm.Options{Mode: isa.Ctx4})
	if err != nil {
		return nil
	}
	return p.Words
}

// FuzzRun feeds arbitrary code words, relocations and packets through
// LoadImage and RunPacket: every outcome must be a result or an error,
// never a panic.
func FuzzRun(f *testing.F) {
	img := passImage(&testing.T{})
	var seed []byte
	for _, w := range img.Code {
		seed = binary.LittleEndian.AppendUint64(seed, w)
	}
	f.Add(seed, []byte{4, 2, 8, 5, 6, 0, 9, 1, 0, 15, 6, 0}, make([]byte, 60))
	f.Add(seed[:64], []byte{}, []byte{1, 2, 3})
	// Real JIT code as seeds, so that mutations explore the instructions
	// the emulator models rather than invalid words.
	for _, name := range []string{"xdp-quic-lb", "xdp-count-min.1"} {
		if words := corpusWords(name); words != nil {
			var b []byte
			for _, w := range words {
				b = binary.LittleEndian.AppendUint64(b, uint64(w))
			}
			f.Add(b, []byte{}, make([]byte, 64))
		}
	}
	f.Fuzz(func(t *testing.T, code, relocs, pkt []byte) {
		img := &image.Image{Program: image.Program{Type: image.ProgXDP}}
		for i := 0; i+8 <= len(code) && i < 8*256; i += 8 {
			w := binary.LittleEndian.Uint64(code[i:]) & isa.InstrMask
			img.Code = append(img.Code, uint64(isa.WithECC(w)))
		}
		if len(img.Code) == 0 {
			return
		}
		for i := 0; i+3 <= len(relocs); i += 3 {
			img.Relocs = append(img.Relocs, image.Reloc{
				Index: uint32(relocs[i]) % uint32(len(img.Code)),
				Kind:  image.RelocKind(relocs[i+1] % 9),
				Value: uint32(relocs[i+2]),
			})
		}
		p, err := LoadImage(img)
		if err != nil {
			return
		}
		fw, err := NewFirmware(p, Options{Limit: 10_000})
		if err != nil {
			return
		}
		_, _ = fw.RunPacket(pkt)
	})
}
