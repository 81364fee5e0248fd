package ebpf

import (
	"errors"
	"fmt"
	"math"
	"os"
	"testing"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// TestKernelLegacyLoadOffsets compares LD_ABS and LD_IND with the kernel
// (BPF_PROG_TEST_RUN, tc) at offsets around SKF_NET_OFF and SKF_LL_OFF
// (relative to the network header, 14 bytes in, and to the mac header),
// around 0, and at offsets that always fail (below SKF_LL_OFF, SKF_AD_OFF,
// -1, INT32_MIN, INT32_MAX), for every size on frames of several lengths,
// so that each header-relative range meets the frame's end. LD_IND splits
// the offset between src and imm three ways, one with a 32-bit wrap. The
// program returns the loaded value, or 0 if the load ends it. Skips
// without BPF.
func TestKernelLegacyLoadOffsets(t *testing.T) {
	var frames [][]byte
	for _, n := range []int{14, 15, 18, 34, 47, 64} {
		f := make([]byte, n)
		for i := range f {
			f[i] = byte(i*37 + 11)
		}
		frames = append(frames, f)
	}
	var offs []int32
	for _, base := range []int32{0, emulator.SKFNetOff, emulator.SKFLLOff} {
		for _, d := range []int32{-2, -1, 0, 1, 3, 4, 10, 12, 13, 16, 17, 19, 20, 30, 31, 32, 33, 43, 44, 45, 46, 47, 50, 60, 61, 62, 63, 64} {
			offs = append(offs, base+d)
		}
	}
	offs = append(offs, -0x1000, -0x1000+12, math.MinInt32, math.MaxInt32, math.MaxInt32-3, emulator.SKFLLOff-0x1000)
	sizes := map[int]asm.Size{1: asm.Byte, 2: asm.Half, 4: asm.Word}
	negRead, negFail := 0, 0 // kernel runs at k < 0 that read (no frame byte is 0) or failed
	for _, k := range offs {
		for n, size := range sizes {
			progs := map[string]asm.Instructions{
				"abs":       {asm.LoadAbs(k, size)},
				"ind 0+k":   {asm.Mov.Imm(asm.R7, 0), asm.LoadInd(asm.R0, asm.R7, k, size)},
				"ind k-3+3": {asm.Mov.Imm32(asm.R7, k-3), asm.LoadInd(asm.R0, asm.R7, 3, size)},
				// src's upper half is ignored, and src + imm wraps.
				"ind wrap": {asm.LoadImm(asm.R7, int64(uint64(0xdead)<<32|uint64(uint32(k)+0x1000)), asm.DWord),
					asm.LoadInd(asm.R0, asm.R7, -0x1000, size)},
			}
			for pname, body := range progs {
				name := fmt.Sprintf("%d/%#x/%s", n, k, pname)
				insns := append(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R0, 0x77)}, body...)
				insns = append(insns, asm.Return())
				kp, err := cebpf.NewProgram(&cebpf.ProgramSpec{Type: cebpf.SchedCLS, Instructions: insns, License: "GPL"})
				if err != nil {
					if errors.Is(err, os.ErrPermission) || errors.Is(err, cebpf.ErrNotSupported) {
						t.Skipf("the kernel does not load programs here: %v", err)
					}
					t.Fatalf("%s: kernel rejects: %v", name, err)
				}
				linked, err := linkForTest(insns)
				if err != nil {
					t.Fatal(err)
				}
				m, err := New([]Prog{{Name: "p", Hook: emulator.HookTC, Insns: linked}}, nil, nil, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, frame := range frames {
					kret, err := kp.Run(&cebpf.RunOptions{Data: frame})
					if err != nil {
						kp.Close()
						t.Skipf("BPF_PROG_TEST_RUN is not available: %v", err)
					}
					res, err := m.Run(0, Input{Packet: frame, IngressIfindex: 1})
					if err != nil {
						t.Fatalf("%s on %d bytes: %v", name, len(frame), err)
					}
					if k < 0 && kret != 0 {
						negRead++
					} else if k < 0 {
						negFail++
					}
					if uint32(res.Return) != kret {
						t.Errorf("%s on %d bytes: kernel %#x, interpreter %#x", name, len(frame), kret, uint32(res.Return))
					}
				}
				kp.Close()
			}
		}
	}
	t.Logf("negative offsets: %d kernel runs read, %d failed", negRead, negFail)
	if negRead == 0 || negFail == 0 {
		t.Errorf("the cases do not reach both outcomes at negative offsets")
	}
}
