package nfp

import (
	"testing"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// passImage is nfp-isa.md §8.1: the JIT output for `r0 = 2; exit`, words
// before relocation (relocation type in bits 63:56, stripped here).
func passImage(t *testing.T) *image.Image {
	t.Helper()
	pre := []uint64{
		0x000000f003f05bff, 0x000000b441605a20, 0x000002f0000c0800, 0x000002f0000c0001,
		0x020001dea6008038, 0x060001dea6208038, 0x000000a0000c0000, 0x000000c10c048a00,
		0x000000aab0000303, 0x010000d801408125, 0x000000f002200b82, 0x000000f444400b11,
		0x00000081d0100200, 0x000000aa300c0001, 0x00000094002409ff, 0x060001dea6208038,
		0x000000a0000c0000, 0x000000c10c000a00,
	}
	img := &image.Image{Program: image.Program{Name: "pass", Type: image.ProgXDP}}
	for _, w := range pre {
		img.Code = append(img.Code, uint64(isa.WithECC(w&isa.InstrMask)))
	}
	for i := 0; i < 8; i++ {
		img.Code = append(img.Code, uint64(isa.WithECC(0x0f0000c0300)))
	}
	img.Relocs = []image.Reloc{
		{Index: 4, Kind: image.RelocBrGoOut, Value: 8},
		{Index: 5, Kind: image.RelocBrNextPkt},
		{Index: 9, Kind: image.RelocBrRel},
		{Index: 15, Kind: image.RelocBrNextPkt},
	}
	return img
}

func TestPassImage(t *testing.T) {
	p, err := LoadImage(passImage(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFirmware(p, Options{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 60)
	r, err := f.RunPacket(pkt)
	if err != nil {
		t.Fatal(err)
	}
	// §8.1: instructions 0–4 and 8–17 run; A0 ends as 0x00110000.
	if r.ResultWord != 0x00110000 || r.Action != "XDP_PASS" || r.Stat != "pass" || r.Return != 2 {
		t.Errorf("result word %#x action %s stat %s r0 %d; want 0x110000 XDP_PASS pass 2", r.ResultWord, r.Action, r.Stat, r.Return)
	}
	var pcs []int
	for _, s := range r.Trace {
		pcs = append(pcs, s.PC)
	}
	want := []int{0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
	if len(pcs) != len(want) {
		t.Fatalf("executed %v, want %v", pcs, want)
	}
	for i := range want {
		if pcs[i] != want[i] {
			t.Fatalf("executed %v, want %v", pcs, want)
		}
	}
	// Model: 224 + immed, alu, immed, immed (4) + br (4) = 232.
	if r.Cycles != 232 {
		t.Errorf("model cycles %d, want 232", r.Cycles)
	}
	if string(r.Packet) != string(pkt) {
		t.Errorf("packet changed")
	}
}
