package nfp

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
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
	f.Add(seed, []byte{4, 2, 8, 5, 6, 0, 9, 1, 0, 15, 6, 0}, make([]byte, 60), []byte{})
	f.Add(seed[:64], []byte{}, []byte{1, 2, 3}, []byte{})
	// Map tables with huge and overflowing sizes (the findings: values and
	// entries of 0xffffffff, 16 MiB × 2^25, one past 4 GiB, a stride that
	// passes the 4 GiB window only once rounded to a power of two).
	for _, m := range [][4]uint32{
		{2, 4, 0xffffffff, 0xffffffff},
		{2, 4, 1 << 24, 1 << 25},
		{6, 4, 1 << 16, 1<<16 + 1},
		{2, 4, 48, 1 << 26},
		{1, 0xffffffff, 0xffffffff, 0xffffffff},
		{1, 4, 8, 1 << 24},
		{2, 4, 4, 16},
	} {
		var b []byte
		b = append(b, byte(m[0]))
		b = binary.LittleEndian.AppendUint32(b, m[1])
		b = binary.LittleEndian.AppendUint32(b, m[2])
		b = binary.LittleEndian.AppendUint32(b, m[3])
		f.Add(seed, []byte{}, make([]byte, 60), b)
	}
	// Real JIT code as seeds, so that mutations explore the instructions
	// the emulator models rather than invalid words.
	for _, name := range []string{"xdp-quic-lb", "xdp-count-min.1"} {
		if words := corpusWords(name); words != nil {
			var b []byte
			for _, w := range words {
				b = binary.LittleEndian.AppendUint64(b, uint64(w))
			}
			f.Add(b, []byte{}, make([]byte, 64), []byte{2, 4, 0, 0, 0, 4, 0, 0, 0, 16, 0, 0, 0})
		}
	}
	f.Fuzz(func(t *testing.T, code, relocs, pkt, maps []byte) {
		img := &image.Image{Program: image.Program{Type: image.ProgXDP}}
		for i := 0; i+13 <= len(maps) && i < 13*4; i += 13 {
			img.Maps = append(img.Maps, image.Map{
				Name: fmt.Sprintf("m%d", i/13), Type: uint32(maps[i] % 32),
				KeySize:    binary.LittleEndian.Uint32(maps[i+1:]),
				ValueSize:  binary.LittleEndian.Uint32(maps[i+5:]),
				MaxEntries: binary.LittleEndian.Uint32(maps[i+9:]),
			})
		}
		ms, err := MapsFor(img)
		if err != nil {
			if !strings.Contains(err.Error(), "map m") {
				t.Fatalf("map table %+v: the error does not name the map: %v", img.Maps, err)
			}
			ms = nil
		}
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
		fw, err := NewFirmware(p, Options{Limit: 10_000, Maps: ms})
		if err != nil {
			if len(ms) > 0 && !strings.Contains(err.Error(), "map m") {
				t.Fatalf("map table %+v: the error does not name the map: %v", img.Maps, err)
			}
			return
		}
		_, _ = fw.RunPacket(pkt)
	})
}

// FuzzOps builds programs from valid instructions chosen by the fuzzer
// (ALU, shifts, ld_field, immed, LM and transfer operands, branches,
// mul_step, CSRs, commands) so that mutations exercise execution rather than
// decoding; every outcome must be a result or an error, never a panic.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte{9, 9, 9, 3, 3, 3, 7, 200, 100, 50, 25, 12, 6, 3, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		next := func() int {
			if len(b) == 0 {
				return 0
			}
			v := int(b[0])
			b = b[1:]
			return v
		}
		reg := func() isa.Operand {
			switch next() % 6 {
			case 0:
				return isa.GPRA(next() % 32)
			case 1:
				return isa.GPRB(next() % 32)
			case 2:
				return isa.Xfer(next() % 64)
			case 3:
				return isa.LM(next()%4, next()%8)
			case 4:
				return isa.Imm(uint32(next() % 128))
			}
			return isa.GPRBoth(next() % 32)
		}
		var ins []isa.Instr
		for len(b) > 0 && len(ins) < 64 {
			var in isa.Instr
			switch next() % 12 {
			case 0:
				in = isa.ALU(reg(), reg(), isa.ALUOp(next()%26), reg())
			case 1:
				in = isa.Shf(reg(), reg(), isa.ShfOp(next()%6), reg(), isa.ShiftCtl(next()%3), next()%32)
			case 2:
				in = isa.LdField(reg(), uint8(next()%16), reg(), isa.ShiftCtl(next()%3), next()%32, next()%2 == 0)
			case 3:
				in = isa.Immed(reg(), uint32(next())<<uint(8*(next()%3)))
			case 4:
				in = isa.Br(isa.Cond(next()%12), next()%70)
			case 5:
				in = isa.CSRWrite(isa.CSRActLMAddr0+next()%4, reg())
			case 6:
				in = isa.CSRRead(isa.CSRPseudoRndNum)
			case 7:
				in = isa.MulStepOp(reg(), reg(), isa.MulType(next()%4), isa.MulStep(next()%4))
			case 8:
				in = isa.MulResult(reg(), isa.MulType(1+next()%3), next()%2 == 0)
			case 9:
				names := []string{"read32_swap", "read8", "write8_swap", "write32_swap", "add_imm", "add64", "read32"}
				in = isa.Cmd(isa.TargetMU, names[next()%len(names)], next()%64, reg(), reg(), isa.AddrMode([]int{0, 1, 4}[next()%3]), 1+next()%8, isa.CtxSwap(next()%4))
			case 10:
				in = isa.DblShf(reg(), reg(), reg(), next()%32)
			default:
				in = isa.Nop()
			}
			if in.Err() == nil {
				ins = append(ins, in)
			}
		}
		ins = append(ins, isa.Br(isa.BR, 0))
		img := &image.Image{Program: image.Program{Type: image.ProgXDP}}
		for _, in := range ins {
			w, err := isa.Encode(in)
			if err != nil {
				return
			}
			img.Code = append(img.Code, uint64(w))
		}
		img.Relocs = []image.Reloc{{Index: uint32(len(ins) - 1), Kind: image.RelocBrNextPkt}}
		p, err := LoadImage(img)
		if err != nil {
			return
		}
		// The fast loop and the general step must agree on everything.
		fast, err := NewFirmware(p, Options{Limit: 5000})
		if err != nil {
			return
		}
		gen, _ := NewFirmware(p, Options{Limit: 5000})
		gen.M.noFast = true
		for i := 0; i < 2; i++ {
			rf, ef := fast.RunPacket(make([]byte, 64))
			rg, eg := gen.RunPacket(make([]byte, 64))
			if fmt.Sprint(ef) != fmt.Sprint(eg) {
				t.Fatalf("packet %d: fast path error %v, general path %v", i, ef, eg)
			}
			if !reflect.DeepEqual(rf, rg) {
				t.Fatalf("packet %d: fast path %+v, general path %+v", i, rf, rg)
			}
			for j := range fast.M.ctxs {
				fast.M.ctxs[j].lm, gen.M.ctxs[j].lm = nil, nil
				fast.M.ctxs[j].r[rSink] = 0 // "--" destinations of the fast path
			}
			if fast.M.ctxs != gen.M.ctxs || fast.M.lm != gen.M.lm {
				t.Fatalf("packet %d: machine state differs between the fast and the general path", i)
			}
		}
	})
}
