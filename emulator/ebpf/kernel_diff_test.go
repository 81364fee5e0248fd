package ebpf

import (
	"errors"
	"math/rand"
	"os"
	"testing"

	cebpf "github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// TestKernelDifferential runs random straight-line programs (ALU and ALU32
// of every operation with register and immediate operands and interesting
// values, byte swaps, neg, movsx, forward conditional jumps and jump32s,
// stack loads and stores of every size, sign-extending loads, atomics) in
// the kernel (BPF_PROG_TEST_RUN, as XDP programs) and in the interpreter,
// and compares the results, folded into r0. It skips where the kernel
// refuses to load programs (no privileges, no BPF).
func TestKernelDifferential(t *testing.T) {
	programs := 10000
	if testing.Short() {
		programs = 500
	}
	rng := rand.New(rand.NewSource(1))
	aluOps := []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Mod, asm.Xor, asm.Mov, asm.ArSh, asm.SDiv, asm.SMod}
	jmpOps := []asm.JumpOp{asm.JEq, asm.JGT, asm.JGE, asm.JSet, asm.JNE, asm.JSGT, asm.JSGE, asm.JLT, asm.JLE, asm.JSLT, asm.JSLE}
	interesting := []int64{0, 1, -1, 2, 31, 32, 33, 63, 64, 0x7fffffff, -0x80000000, 0x80000000, 0xffffffff, 0x7fffffffffffffff, -0x8000000000000000, 12345678, -987654321}
	val := func() int64 {
		if rng.Intn(2) == 0 {
			return interesting[rng.Intn(len(interesting))]
		}
		return int64(rng.Uint64())
	}
	mismatch, compared := 0, 0
	seen := map[uint32]bool{}
	for iter := 0; iter < programs; iter++ {
		var insns asm.Instructions
		for r := asm.R0; r <= asm.R5; r++ {
			insns = append(insns, asm.LoadImm(r, val(), asm.DWord))
		}
		for off := int16(-64); off < 0; off += 8 {
			insns = append(insns, asm.StoreMem(asm.R10, off, asm.Register(rng.Intn(6)), asm.DWord))
		}
		n := 3 + rng.Intn(12)
		for i := 0; i < n; i++ {
			dst := asm.Register(rng.Intn(6))
			src := asm.Register(rng.Intn(6))
			switch k := rng.Intn(13); {
			case k == 10:
				size := []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}[rng.Intn(4)]
				off := -int16(8*(1+rng.Intn(8))) + int16(rng.Intn(8/size.Sizeof())*size.Sizeof())
				insns = append(insns, asm.StoreMem(asm.R10, off, src, size))
			case k == 11:
				size := []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}[rng.Intn(4)]
				off := -int16(8*(1+rng.Intn(8))) + int16(rng.Intn(8/size.Sizeof())*size.Sizeof())
				if size != asm.DWord && rng.Intn(2) == 0 {
					insns = append(insns, asm.LoadMemSX(dst, asm.R10, off, size))
				} else {
					insns = append(insns, asm.LoadMem(dst, asm.R10, off, size))
				}
			case k == 12:
				size := []asm.Size{asm.Word, asm.DWord}[rng.Intn(2)]
				off := -int16(8 * (1 + rng.Intn(8)))
				ops := []asm.AtomicOp{asm.AddAtomic, asm.FetchAdd, asm.OrAtomic, asm.FetchOr, asm.AndAtomic, asm.FetchAnd, asm.XorAtomic, asm.FetchXor, asm.Xchg, asm.CmpXchg}
				insns = append(insns, ops[rng.Intn(len(ops))].Mem(asm.R10, src, size, off))
			case k < 7:
				op := aluOps[rng.Intn(len(aluOps))]
				is32 := rng.Intn(2) == 0
				useImm := rng.Intn(2) == 0
				imm := int32(val())
				if (op == asm.LSh || op == asm.RSh || op == asm.ArSh) && useImm {
					w := int32(64)
					if is32 {
						w = 32
					}
					imm = int32(rng.Intn(int(w)))
				}
				if (op == asm.Div || op == asm.Mod || op == asm.SDiv || op == asm.SMod) && useImm && imm == 0 {
					imm = 7
				}
				var ins asm.Instruction
				switch {
				case is32 && useImm:
					ins = op.Imm32(dst, imm)
				case is32:
					ins = op.Reg32(dst, src)
				case useImm:
					ins = op.Imm(dst, imm)
				default:
					ins = op.Reg(dst, src)
				}
				insns = append(insns, ins)
			case k == 7:
				sizes := []asm.Size{asm.Half, asm.Word, asm.DWord}
				e := []asm.Endianness{asm.LE, asm.BE}[rng.Intn(2)]
				insns = append(insns, asm.HostTo(e, dst, sizes[rng.Intn(3)]))
			case k == 8:
				switch rng.Intn(4) {
				case 0:
					insns = append(insns, asm.Neg.Imm(dst, 0))
				case 1:
					insns = append(insns, asm.Neg.Imm32(dst, 0))
				case 2:
					op := []asm.ALUOp{asm.MovSX8, asm.MovSX16, asm.MovSX32}[rng.Intn(3)]
					insns = append(insns, op.Reg(dst, src))
				default:
					op := []asm.ALUOp{asm.MovSX8, asm.MovSX16}[rng.Intn(2)]
					insns = append(insns, op.Reg32(dst, src))
				}
			default:
				op := jmpOps[rng.Intn(len(jmpOps))]
				if rng.Intn(2) == 0 {
					insns = append(insns, asm.Instruction{OpCode: op.Op(asm.ImmSource), Dst: dst, Constant: int64(int32(val())), Offset: 1})
				} else {
					insns = append(insns, asm.Instruction{OpCode: op.Op(asm.RegSource), Dst: dst, Src: src, Offset: 1})
				}
				if rng.Intn(2) == 0 {
					last := &insns[len(insns)-1]
					last.OpCode = asm.OpCode(asm.Jump32Class) | (last.OpCode &^ 7)
				}
				insns = append(insns, asm.Add.Imm(asm.R0, 1))
			}
		}
		// Fold every register into the 32-bit XDP return value.
		for r := asm.R1; r <= asm.R5; r++ {
			insns = append(insns, asm.Mul.Imm(asm.R0, 31), asm.Xor.Reg(asm.R0, r))
		}
		insns = append(insns, asm.Mov.Reg(asm.R1, asm.R0), asm.RSh.Imm(asm.R1, 32), asm.Xor.Reg(asm.R0, asm.R1), asm.Return())
		linked, err := linkForTest(insns)
		if err != nil {
			t.Fatal(err)
		}
		kp, err := cebpf.NewProgram(&cebpf.ProgramSpec{Type: cebpf.XDP, Instructions: insns, License: "GPL"})
		if err != nil {
			if errors.Is(err, os.ErrPermission) || errors.Is(err, cebpf.ErrNotSupported) {
				t.Skipf("the kernel does not load programs here: %v", err)
			}
			t.Logf("kernel rejects: %v", err)
			continue
		}
		kret, err := kp.Run(&cebpf.RunOptions{Data: make([]byte, 64)})
		kp.Close()
		if err != nil {
			t.Skipf("BPF_PROG_TEST_RUN is not available: %v", err)
		}
		m, err := New([]Prog{{Name: "p", Hook: emulator.HookXDP, Insns: linked}}, nil, nil, Options{})
		if err != nil {
			t.Fatalf("interp load: %v\n%v", err, insns)
		}
		res, err := m.Run(0, Input{Packet: make([]byte, 64)})
		if err != nil {
			t.Fatal(err)
		}
		compared++
		seen[kret] = true
		if uint32(res.Return) != kret {
			mismatch++
			if mismatch < 4 {
				t.Errorf("mismatch kernel %#x interp %#x\n%v", kret, uint32(res.Return), insns)
			}
		}
	}
	t.Logf("compared %d programs with the kernel (%d distinct results): %d mismatches", compared, len(seen), mismatch)
	if compared < programs*9/10 {
		t.Errorf("only %d of %d programs were compared", compared, programs)
	}
}
