package oracle

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// probeKernel loads and runs a two-instruction XDP program; the error says
// why the oracle cannot run here.
func probeKernel() error {
	if unix.Geteuid() != 0 {
		return errors.New("not root: BPF_PROG_LOAD of XDP programs needs CAP_BPF and CAP_NET_ADMIN")
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.XDP,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()},
		License:      "GPL",
	})
	if err != nil {
		return fmt.Errorf("BPF_PROG_LOAD: %w", err)
	}
	defer prog.Close()
	ret, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 64)})
	if err != nil {
		return fmt.Errorf("BPF_PROG_TEST_RUN: %w", err)
	}
	if ret != 2 {
		return fmt.Errorf("BPF_PROG_TEST_RUN returned %d for a program returning 2", ret)
	}
	return nil
}

// pinCPU0 keeps the calling goroutine on CPU 0, so that per-CPU map values
// the kernel program writes land in CPU 0's slot (the interpreter has one
// CPU). It returns the undo function.
func pinCPU0() (func(), error) {
	runtime.LockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	var set unix.CPUSet
	set.Set(0)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return func() {
		unix.SchedSetaffinity(0, &old)
		runtime.UnlockOSThread()
	}, nil
}

// kernelMaps are the kernel's copies of an object's maps, by index of
// Object.Maps. Maps the program does not use are still created, so that
// indices and fds line up.
type kernelMaps struct {
	obj  *loader.Object
	maps []*ebpf.Map
	ncpu int
	bufs map[int][2][]byte // batch lookup buffers per map
}

func (k *kernelMaps) Close() {
	for _, m := range k.maps {
		if m != nil {
			m.Close()
		}
	}
}

func kernelSpec(m *loader.Map) *ebpf.MapSpec {
	s := &ebpf.MapSpec{
		Type: m.Type, KeySize: m.KeySize, ValueSize: m.ValueSize,
		MaxEntries: m.MaxEntries, Flags: m.Flags,
	}
	if m.InnerMap != nil {
		s.InnerMap = kernelSpec(m.InnerMap)
	}
	return s
}

// newKernelMaps creates every map of obj, with the initial contents of
// global data and then the fixture entries.
func newKernelMaps(obj *loader.Object, fx fixture, ncpu int) (*kernelMaps, error) {
	k := &kernelMaps{obj: obj, maps: make([]*ebpf.Map, len(obj.Maps)), ncpu: ncpu}
	for i, lm := range obj.Maps {
		m, err := ebpf.NewMap(kernelSpec(lm))
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("map %s (%v): %w", lm.Name, lm.Type, err)
		}
		k.maps[i] = m
		if lm.Contents != nil {
			v := make([]byte, lm.ValueSize)
			copy(v, lm.Contents)
			if err := k.update(i, make([]byte, 4), v); err != nil {
				k.Close()
				return nil, fmt.Errorf("map %s: initial contents: %w", lm.Name, err)
			}
		}
	}
	for _, e := range fx {
		i := mapIndex(obj, e.Map)
		if i < 0 {
			k.Close()
			return nil, fmt.Errorf("fixture names map %s, which %s lacks", e.Map, obj.Path)
		}
		if err := k.update(i, e.Key, e.Value); err != nil {
			k.Close()
			return nil, fmt.Errorf("fixture %s: %w", e.Map, err)
		}
	}
	return k, nil
}

func mapIndex(obj *loader.Object, name string) int {
	for i, m := range obj.Maps {
		if m.Name == name {
			return i
		}
	}
	return -1
}

func perCPU(t ebpf.MapType) bool {
	switch t {
	case ebpf.PerCPUArray, ebpf.PerCPUHash, ebpf.LRUCPUHash:
		return true
	}
	return false
}

// stride is the space of one CPU's value in a per-CPU buffer.
func stride(valueSize uint32) int { return int((valueSize + 7) &^ 7) }

// update stores key → value; per-CPU maps get value on every CPU.
func (k *kernelMaps) update(i int, key, value []byte) error {
	lm := k.obj.Maps[i]
	buf := value
	if perCPU(lm.Type) {
		st := stride(lm.ValueSize)
		buf = make([]byte, st*k.ncpu)
		for c := 0; c < k.ncpu; c++ {
			copy(buf[c*st:], value)
		}
	}
	return bpfMapOp(bpfMapUpdateElem, k.maps[i].FD(), key, buf, 0)
}

// Raw BPF map commands: cilium/ebpf's typed marshalling is in the way when
// keys and values are plain byte strings, and its iterator costs two
// syscalls per entry where one batch lookup reads a whole map.
const (
	bpfMapLookupElem  = 1
	bpfMapUpdateElem  = 2
	bpfMapDeleteElem  = 3
	bpfMapGetNextKey  = 4
	bpfMapLookupBatch = 24
)

type mapElemAttr struct {
	fd    uint32
	_     uint32
	key   uint64
	value uint64 // or next_key
	flags uint64
}

type mapBatchAttr struct {
	inBatch, outBatch, keys, values uint64
	count, fd                       uint32
	elemFlags, flags                uint64
}

func bpfCall(cmd uintptr, attr unsafe.Pointer, size uintptr) error {
	_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
	runtime.KeepAlive(attr)
	if errno != 0 {
		return errno
	}
	return nil
}

func bpfMapOp(cmd uintptr, fd int, key, value []byte, flags uint64) error {
	attr := mapElemAttr{fd: uint32(fd), flags: flags}
	if len(key) > 0 {
		attr.key = uint64(uintptr(unsafe.Pointer(&key[0])))
	}
	if len(value) > 0 {
		attr.value = uint64(uintptr(unsafe.Pointer(&value[0])))
	}
	err := bpfCall(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	return err
}

// entry is one key with its value (per-CPU maps: every CPU's value).
type entry struct {
	key   []byte
	value [][]byte
}

// dump reads the entries of map i: those at keys, or with keys nil all of
// them, with one batch lookup where the kernel supports it for the type,
// else GET_NEXT_KEY + LOOKUP. Array entries that are zero on every CPU are
// left out (the interpreter's state format does the same).
func (k *kernelMaps) dump(i int, keys [][]byte) ([]entry, error) {
	lm := k.obj.Maps[i]
	ncpu, st := 1, int(lm.ValueSize)
	if perCPU(lm.Type) {
		ncpu, st = k.ncpu, stride(lm.ValueSize)
	}
	isArray := lm.Type == ebpf.Array || lm.Type == ebpf.PerCPUArray
	var es []entry
	add := func(key, v []byte) {
		if isArray && allZero(v[:st*ncpu]) {
			return
		}
		e := entry{key: append([]byte(nil), key...)}
		for c := 0; c < ncpu; c++ {
			e.value = append(e.value, append([]byte(nil), v[c*st:c*st+int(lm.ValueSize)]...))
		}
		es = append(es, e)
	}
	if keys != nil {
		val := make([]byte, st*ncpu)
		seen := map[string]bool{}
		for _, key := range keys {
			if seen[string(key)] {
				continue
			}
			seen[string(key)] = true
			if err := bpfMapOp(bpfMapLookupElem, k.maps[i].FD(), key, val, 0); err != nil {
				if errors.Is(err, unix.ENOENT) {
					continue
				}
				return nil, fmt.Errorf("map %s: lookup %x: %w", lm.Name, key, err)
			}
			add(key, val)
		}
		sort.Slice(es, func(a, b int) bool { return bytes.Compare(es[a].key, es[b].key) < 0 })
		return es, nil
	}
	n, ks := int(lm.MaxEntries), int(lm.KeySize)
	if k.bufs == nil {
		k.bufs = map[int][2][]byte{}
	}
	b, ok := k.bufs[i]
	if !ok {
		b = [2][]byte{make([]byte, n*ks), make([]byte, n*st*ncpu)}
		k.bufs[i] = b
	}
	kbuf, vals := b[0], b[1]
	out := make([]byte, max(ks, 8))
	attr := mapBatchAttr{
		outBatch: uint64(uintptr(unsafe.Pointer(&out[0]))),
		keys:     uint64(uintptr(unsafe.Pointer(&kbuf[0]))),
		values:   uint64(uintptr(unsafe.Pointer(&vals[0]))),
		count:    uint32(n),
		fd:       uint32(k.maps[i].FD()),
	}
	err := bpfCall(bpfMapLookupBatch, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(kbuf)
	runtime.KeepAlive(vals)
	runtime.KeepAlive(out)
	// The whole map fits in one batch: ENOENT (end of map) or success with
	// every entry.
	if errors.Is(err, unix.ENOENT) || (err == nil && int(attr.count) == n) {
		for j := 0; j < int(attr.count); j++ {
			add(kbuf[j*ks:(j+1)*ks], vals[j*st*ncpu:])
		}
		return es, nil
	}
	if err == nil {
		return nil, fmt.Errorf("map %s: batch lookup returned %d of at most %d entries without reaching the end", lm.Name, attr.count, n)
	}
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.Errno(524)) {
		return nil, fmt.Errorf("map %s: batch lookup: %w", lm.Name, err)
	}
	// No batch support for this map type (LPM trie): walk it.
	var prev []byte
	next := make([]byte, lm.KeySize)
	val := make([]byte, st*ncpu)
	for {
		if err := bpfMapOp(bpfMapGetNextKey, k.maps[i].FD(), prev, next, 0); err != nil {
			if errors.Is(err, unix.ENOENT) {
				return es, nil
			}
			return nil, fmt.Errorf("map %s: next key: %w", lm.Name, err)
		}
		if err := bpfMapOp(bpfMapLookupElem, k.maps[i].FD(), next, val, 0); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return nil, fmt.Errorf("map %s: lookup: %w", lm.Name, err)
		}
		add(next, val)
		prev = append(prev[:0], next...)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// loadProgram loads p with its map references pointing at k's maps: the
// loader's kernel form with indices replaced by file descriptors. The
// instructions are re-encoded and decoded first so that no loader metadata
// (symbol names) reaches cilium/ebpf's own linker.
func loadProgram(p *loader.Program, k *kernelMaps) (*ebpf.Program, error) {
	prog, log, err := loadProgramAs(p, p.Type, k)
	if err != nil && log != nil {
		return nil, fmt.Errorf("verifier: %s", lastLines(log, 2))
	}
	return prog, err
}

// loadProgramAs loads p as a program of type typ (for sections whose name
// does not say their type). When the kernel's verifier rejects the program,
// log is its whole log; otherwise log is nil.
func loadProgramAs(p *loader.Program, typ ebpf.ProgramType, k *kernelMaps) (prog *ebpf.Program, log []string, err error) {
	raw, err := marshal(p.Insns)
	if err != nil {
		return nil, nil, err
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(raw), nativeEndian, "linux")
	if err != nil {
		return nil, nil, err
	}
	for i := range insns {
		ins := &insns[i]
		if !ins.OpCode.IsDWordLoad() {
			continue
		}
		switch ins.Src {
		case asm.PseudoMapFD:
			ins.Constant = int64(k.maps[ins.Constant].FD())
		case asm.PseudoMapValue:
			idx, off := uint32(ins.Constant), uint64(ins.Constant)>>32
			ins.Constant = int64(uint64(uint32(k.maps[idx].FD())) | off<<32)
		}
	}
	prog, err = ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name:         "",
		Type:         typ,
		Instructions: insns,
		License:      p.License,
	}, ebpf.ProgramOptions{LogSizeStart: 1 << 20})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, ve.Log, err
		}
		return nil, nil, err
	}
	return prog, nil, nil
}

func lastLines(log []string, n int) string {
	var keep []string
	for i := len(log) - 1; i >= 0 && len(keep) < n; i-- {
		if s := strings.TrimSpace(log[i]); s != "" {
			keep = append([]string{s}, keep...)
		}
	}
	return strings.Join(keep, " | ")
}
