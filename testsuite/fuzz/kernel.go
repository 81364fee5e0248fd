package fuzz

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
)

// The third engine: the running Linux kernel, through BPF_PROG_LOAD and
// BPF_PROG_TEST_RUN (Options.Kernel, nfpcc fuzz --kernel). It checks the
// reference interpreter itself, and the generator's promise that the kernel
// accepts what it makes. Where the kernel's answer depends on the host, not
// on the program, the kernel is left out (hostHelpers); where root or the
// BPF syscalls are missing, KernelAvailable says why and nothing runs.

// hostHelpers are the helpers whose results depend on the host: programs
// calling them run on the interpreter and the NFP only.
var hostHelpers = map[asm.BuiltinFunc]string{
	asm.FnGetPrandomU32:   "bpf_get_prandom_u32 (the kernel's own random numbers)",
	asm.FnPerfEventOutput: "bpf_perf_event_output (the kernel needs a perf reader on this CPU, else -ENOENT)",
	asm.FnCsumDiff:        "bpf_csum_diff (folded to 16 bits by this kernel, unfolded by the interpreter's x86 model)",
}

var (
	kernelOnce sync.Once
	kernelErr  error
)

// KernelAvailable loads and runs a two-instruction XDP program once; the
// error says why the kernel oracle cannot run here.
func KernelAvailable() error {
	kernelOnce.Do(func() {
		if os.Geteuid() != 0 {
			kernelErr = errors.New("not root: BPF_PROG_LOAD and BPF_PROG_TEST_RUN of XDP programs need CAP_BPF and CAP_NET_ADMIN")
			return
		}
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}})
		if err != nil {
			kernelErr = fmt.Errorf("BPF_PROG_LOAD: %w", err)
			return
		}
		defer prog.Close()
		if ret, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil || ret != 2 {
			kernelErr = fmt.Errorf("BPF_PROG_TEST_RUN: returned %d, %v", ret, err)
		}
	})
	return kernelErr
}

// kernelProg is one program loaded into the kernel with maps of its own.
type kernelProg struct {
	prog  *ebpf.Program
	maps  []*ebpf.Map
	specs []*loader.Map
	tc    bool
}

// hostDependent says why p's results depend on the host, or "".
func hostDependent(p *loader.Program) string {
	for _, ins := range p.Insns {
		if ins.IsBuiltinCall() {
			if why, ok := hostHelpers[asm.BuiltinFunc(ins.Constant)]; ok {
				return why
			}
		}
	}
	return ""
}

// loadKernel creates obj's maps and loads program pi. The instructions are
// encoded and decoded first, so that the kernel gets exactly the bytes a
// file would hold (and no loader metadata reaches cilium/ebpf's linker).
func loadKernel(obj *loader.Object, pi int) (*kernelProg, error) {
	p := obj.Programs[pi]
	k := &kernelProg{specs: obj.Maps, tc: p.Type == ebpf.SchedCLS}
	for _, m := range obj.Maps {
		km, err := ebpf.NewMap(&ebpf.MapSpec{Type: m.Type, KeySize: m.KeySize, ValueSize: m.ValueSize, MaxEntries: m.MaxEntries, Flags: m.Flags})
		if err != nil {
			k.Close()
			return nil, fmt.Errorf("map %s: %w", m.Name, err)
		}
		k.maps = append(k.maps, km)
	}
	var buf bytes.Buffer
	if err := p.Insns.Marshal(&buf, binary.LittleEndian); err != nil {
		k.Close()
		return nil, err
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(buf.Bytes()), binary.LittleEndian, "linux")
	if err != nil {
		k.Close()
		return nil, err
	}
	for i := range insns {
		if insns[i].OpCode.IsDWordLoad() && insns[i].Src == asm.PseudoMapFD {
			insns[i].Constant = int64(k.maps[insns[i].Constant].FD())
		}
	}
	k.prog, err = ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: p.Type, Instructions: insns, License: "GPL"},
		ebpf.ProgramOptions{LogSizeStart: 1 << 16})
	if err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// Close releases the program and its maps.
func (k *kernelProg) Close() {
	if k.prog != nil {
		k.prog.Close()
	}
	for _, m := range k.maps {
		m.Close()
	}
}

// run runs one frame. ok is false when the kernel cannot take the frame:
// BPF_PROG_TEST_RUN wants at least an Ethernet header, a tc frame longer
// than that (it builds an skb), and refuses with EINVAL frames whose
// headers the skb code cannot pull (a truncated IPv4 header behind
// ethertype 0x0800): the program never runs on those.
func (k *kernelProg) run(pkt []byte) (ret uint32, out []byte, ok bool, err error) {
	if len(pkt) < 14 || k.tc && len(pkt) == 14 {
		return 0, nil, false, nil
	}
	opts := &ebpf.RunOptions{Data: append([]byte(nil), pkt...), DataOut: make([]byte, len(pkt)+4096)}
	ret, err = k.prog.Run(opts)
	if errors.Is(err, syscall.EINVAL) {
		return 0, nil, false, nil
	}
	return ret, opts.DataOut, err == nil, err
}

// state reads the maps back in emulator.State's form: arrays list the
// entries that are not all zero, by index; hashes every entry, by key;
// perf event arrays nothing (they hold no data a program writes).
func (k *kernelProg) state() (*emulator.State, error) {
	s := &emulator.State{Maps: map[string][]emulator.StateEntry{}}
	for i, m := range k.maps {
		spec := k.specs[i]
		entries := []emulator.StateEntry{}
		switch spec.Type {
		case ebpf.Array:
			key, val := make([]byte, 4), make([]byte, spec.ValueSize)
			for j := uint32(0); j < spec.MaxEntries; j++ {
				binary.LittleEndian.PutUint32(key, j)
				if err := m.Lookup(key, val); err != nil {
					return nil, fmt.Errorf("map %s: lookup %d: %w", spec.Name, j, err)
				}
				if !bytes.Equal(val, make([]byte, len(val))) {
					entries = append(entries, emulator.StateEntry{Key: hex.EncodeToString(key), Value: hex.EncodeToString(val)})
				}
			}
		case ebpf.Hash:
			key, val := make([]byte, spec.KeySize), make([]byte, spec.ValueSize)
			it := m.Iterate()
			for it.Next(&key, &val) {
				entries = append(entries, emulator.StateEntry{Key: hex.EncodeToString(key), Value: hex.EncodeToString(val)})
			}
			if err := it.Err(); err != nil {
				return nil, fmt.Errorf("map %s: %w", spec.Name, err)
			}
			sort.Slice(entries, func(a, b int) bool { return entries[a].Key < entries[b].Key })
		}
		s.Maps[spec.Name] = entries
	}
	return s, nil
}
