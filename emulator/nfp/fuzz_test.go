package nfp

import (
	"encoding/binary"
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

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
