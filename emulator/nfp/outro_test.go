package nfp

import (
	"testing"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// xdpProgram is prologue + body + the JIT's XDP outro (nfp_outro_xdp, as in
// nfp-isa.md §8.1) + 8 nops; exits/aborts lists body words that branch to
// the outro / the abort path.
func xdpProgram(t *testing.T, body []isa.Instr, exits, aborts []int) *image.Image {
	t.Helper()
	ins := []isa.Instr{
		isa.Immed(B(22), 0x3fff),
		isa.ALU(B(22), B(22), isa.OpAnd, isa.LM(1, 0)),
	}
	ins = append(ins, body...)
	abort := len(ins)
	out := abort + 3
	ins = append(ins,
		deferred(isa.Br(isa.BR, 0), 2), // tgt_abort: next packet
		isa.Mov(A(0), K(0)),
		isa.LdField(A(0), 0xc, K(0x82), isa.ShiftL, 16, false),
		isa.ALU(none, K(3), isa.OpSub, B(0)), // tgt_out
		isa.Br(isa.BCC, abort),
		isa.Immed(B(2), 0x2282),
		isa.ImmedW(B(2), 0x4411, 1),
		isa.Shf(A(1), none, isa.ShfB, B(0), isa.ShiftL, 3),
		isa.ALU(none, A(1), isa.OpOr, K(0)),
		isa.Shf(B(2), K(0xff), isa.ShfAnd, B(2), isa.ShiftR, 0),
		deferred(isa.Br(isa.BR, 0), 2),
		isa.Mov(A(0), K(0)),
		isa.LdField(A(0), 0xc, B(2), isa.ShiftL, 16, false),
	)
	for i := 0; i < 8; i++ {
		ins = append(ins, isa.Nop())
	}
	img := buildImage(t, ins, nil, []int{abort, abort + 10})
	for _, e := range exits {
		img.Relocs = append(img.Relocs, image.Reloc{Index: uint32(2 + e), Kind: image.RelocBrGoOut, Value: uint32(out)})
	}
	for _, a := range aborts {
		img.Relocs = append(img.Relocs, image.Reloc{Index: uint32(2 + a), Kind: image.RelocBrGoAbort, Value: uint32(abort)})
	}
	sortRelocs(img)
	return img
}

func sortRelocs(img *image.Image) {
	r := img.Relocs
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Index < r[j-1].Index; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}

// TestXDPOutro runs every XDP return value through the JIT's outro, and the
// abort path of a failed bounds check.
func TestXDPOutro(t *testing.T) {
	for r0, want := range map[uint32]string{0: "XDP_ABORTED", 1: "XDP_DROP", 2: "XDP_PASS", 3: "XDP_TX", 4: "XDP_ABORTED", 0xffffffff: "XDP_ABORTED"} {
		body := []isa.Instr{
			isa.Immed(Both(0), r0),
			isa.Immed(Both(1), 0),
			isa.Br(isa.BR, 0),
		}
		p, err := LoadImage(xdpProgram(t, body, []int{2}, nil))
		if err != nil {
			t.Fatal(err)
		}
		fw, err := NewFirmware(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := fw.RunPacket(make([]byte, 60))
		if err != nil {
			t.Fatalf("r0 %d: %v", r0, err)
		}
		if r.Action != want || r.Action != OffloadAction(emulator.HookXDP, uint64(r0)) || uint32(r.Return) != r0 {
			t.Errorf("r0 %#x: action %s (return %#x), want %s", r0, r.Action, r.Return, want)
		}
		// prologue 2 + immed 2 + br 4.
		if r.Cycles != FirmwareCycles+8 {
			t.Errorf("r0 %#x: %d cycles, want %d", r0, r.Cycles, FirmwareCycles+8)
		}
	}
	// A bounds check that fails: plen - 100 borrows, bcc to tgt_abort.
	body := []isa.Instr{
		isa.ALU(none, B(22), isa.OpSub, K(100)),
		isa.Br(isa.BCC, 0),
		isa.Immed(Both(0), 2),
		isa.Immed(Both(1), 0),
		isa.Br(isa.BR, 0),
	}
	p, err := LoadImage(xdpProgram(t, body, []int{4}, []int{1}))
	if err != nil {
		t.Fatal(err)
	}
	fw, err := NewFirmware(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{60: "XDP_ABORTED", 100: "XDP_PASS"} {
		r, err := fw.RunPacket(make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		if r.Action != want {
			t.Errorf("%d-byte packet: %s, want %s", n, r.Action, want)
		}
	}
	if fw.Stats["abort"].Packets != 1 || fw.Stats["pass"].Bytes != 100 {
		t.Errorf("stats: abort %+v pass %+v", fw.Stats["abort"], fw.Stats["pass"])
	}
}
