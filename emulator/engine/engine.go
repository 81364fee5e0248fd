// Package engine runs a program on packets with one call and one result
// type, whichever engine runs it: an eBPF object on the reference
// interpreter (emulator/ebpf), an NFP image on the NFP emulator
// (emulator/nfp). It is the library form of `nfpcc run`, for programs that
// embed nfpcc:
//
//	e, err := engine.Open("prog.o", "xdp_prog", engine.Options{})
//	res, err := e.Run(frame) // *emulator.Result: action, return value, packet
//
// Both engines share the emulator package's semantics (maps, actions, the
// Result form), so a program and its compiled image can be compared packet
// by packet and map by map.
package engine

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa/image"
)

// Engine runs one program on packets; maps persist from packet to packet.
type Engine interface {
	// Run runs the program on one frame. An error is a run that did not
	// finish (an instruction limit, a fault), not a refusal of the frame.
	Run(frame []byte) (*emulator.Result, error)
	// Program is the program's name, Hook where it attaches.
	Program() string
	Hook() emulator.Hook
	// State is the maps' contents now, as the host sees them (the NFP
	// keeps atomically updated words in its own byte order).
	State() *emulator.State
}

// Options tune a run. The zero value runs with the engines' defaults.
type Options struct {
	// Maps is the initial contents of the maps (nil: empty, or the
	// object's global data).
	Maps *emulator.State
	// MaxInstructions bounds one packet's run (0: the engine's default).
	MaxInstructions uint64
	// Seed seeds bpf_get_prandom_u32 (the NFP's PseudoRndNum gives the
	// same sequence).
	Seed uint64
	// NoVerify runs an eBPF program the verifier rejects (the kernel
	// would not load it; by default Interpreter refuses it).
	NoVerify bool
	// Ifindex and RxQueue are what the context reports (interpreter;
	// compiled images cannot read them).
	Ifindex, RxQueue uint32
}

// IsImage says whether data is an NFP image (an ELF file for the NFP)
// rather than an eBPF object.
func IsImage(data []byte) bool {
	return len(data) >= 20 && bytes.HasPrefix(data, []byte("\x7fELF")) && data[18] == byte(image.EMNFP) && data[19] == 0
}

// Open reads path, an eBPF object or an NFP image, and prepares the
// program named prog ("" when the object has one XDP or tc program; an
// image holds one program).
func Open(path, prog string, opt Options) (Engine, error) {
	data, err := loader.ReadCapped(path, loader.MaxObjectSize)
	if err != nil {
		return nil, err
	}
	if IsImage(data) {
		img, err := image.Unmarshal(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if prog != "" && prog != img.Program.Name {
			return nil, fmt.Errorf("%s: no program %q (the image holds %s)", path, prog, img.Program.Name)
		}
		return NFP(img, opt)
	}
	obj, err := loader.Load(path)
	if err != nil {
		return nil, err
	}
	return Interpreter(obj, prog, opt)
}

// RunFile is the one-shot form: Open, then every frame in order. The
// results are per frame (nil where the run failed, with the first such
// error returned after all frames ran); the state is the maps at the end.
func RunFile(path, prog string, frames [][]byte, opt Options) ([]*emulator.Result, *emulator.State, error) {
	e, err := Open(path, prog, opt)
	if err != nil {
		return nil, nil, err
	}
	var first error
	out := make([]*emulator.Result, len(frames))
	for i, f := range frames {
		r, err := e.Run(f)
		if err != nil && first == nil {
			first = fmt.Errorf("frame %d: %v", i+1, err)
		}
		out[i] = r
	}
	return out, e.State(), first
}

// SelectProgram finds the program named name (function or section name),
// or with "" the object's only XDP or tc entry program (or its only entry
// program of any type), as an index into obj.Programs. Functions of
// `.text` are subprograms, not entries, unless the object has nothing else.
func SelectProgram(obj *loader.Object, name string) (int, error) {
	var names []string
	var entries []int
	for i, p := range obj.Programs {
		names = append(names, p.Name)
		if name != "" && (p.Name == name || p.Section == name) {
			return i, nil
		}
		if p.Section != ".text" {
			entries = append(entries, i)
		}
	}
	if name != "" {
		return 0, fmt.Errorf("no program %q (the object has: %s)", name, strings.Join(names, ", "))
	}
	if len(entries) == 0 {
		for i := range obj.Programs {
			entries = append(entries, i)
		}
	}
	var attachable []int
	var attNames []string
	for _, i := range entries {
		if ebpf.HookOf(obj.Programs[i].Type) != emulator.HookNone {
			attachable, attNames = append(attachable, i), append(attNames, obj.Programs[i].Name)
		}
	}
	switch {
	case len(attachable) == 1:
		return attachable[0], nil
	case len(entries) == 0:
		return 0, fmt.Errorf("no programs")
	case len(attachable) == 0 && len(entries) == 1:
		return entries[0], nil
	case len(attachable) == 0:
		return 0, fmt.Errorf("no XDP or tc program; choose one with --prog (the object has: %s)", strings.Join(names, ", "))
	}
	return 0, fmt.Errorf("several programs; choose one with --prog (%s)", strings.Join(attNames, ", "))
}

// Interpreter prepares program prog of obj on the reference interpreter,
// verified first unless opt.NoVerify.
func Interpreter(obj *loader.Object, prog string, opt Options) (Engine, error) {
	i, err := SelectProgram(obj, prog)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", obj.Path, err)
	}
	p := obj.Programs[i]
	if !opt.NoVerify {
		if _, err := verifier.Verify(p, obj.Maps, &verifier.Options{Type: p.Type}); err != nil {
			return nil, &RejectedError{Program: p.Name, Err: err}
		}
	}
	max := opt.MaxInstructions
	if max == 0 {
		max = ebpf.DefaultMaxInstructions
	}
	m, err := ebpf.FromObject(obj, i, ebpf.Options{MaxInstructions: max, Seed: opt.Seed})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", obj.Path, err)
	}
	if opt.Maps != nil {
		if err := opt.Maps.Apply(m.Env().Maps); err != nil {
			return nil, err
		}
	}
	return &interp{m: m, prog: i, name: p.Name, hook: ebpf.HookOf(p.Type), opt: opt}, nil
}

// RejectedError is a program the verifier rejects.
type RejectedError struct {
	Program string
	Err     error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("%s: rejected by the verifier: %v", e.Program, e.Err)
}

func (e *RejectedError) Unwrap() error { return e.Err }

type interp struct {
	m    *ebpf.Machine
	prog int
	name string
	hook emulator.Hook
	opt  Options
}

func (e *interp) Run(frame []byte) (*emulator.Result, error) {
	return e.m.Run(e.prog, ebpf.Input{Packet: slices.Clone(frame), IngressIfindex: e.opt.Ifindex, RxQueueIndex: e.opt.RxQueue})
}
func (e *interp) Program() string        { return e.name }
func (e *interp) Hook() emulator.Hook    { return e.hook }
func (e *interp) State() *emulator.State { return e.m.Snapshot() }

// NFP prepares an image on the NFP emulator (one microengine, the
// CoreNIC firmware model around it).
func NFP(img *image.Image, opt Options) (Engine, error) {
	p, err := nfp.LoadImage(img)
	if err != nil {
		return nil, err
	}
	maps, err := nfp.MapsFor(img)
	if err != nil {
		return nil, err
	}
	if opt.Maps != nil {
		if err := opt.Maps.Apply(maps); err != nil {
			return nil, err
		}
	}
	fw, err := nfp.NewFirmware(p, nfp.Options{Maps: maps, Limit: opt.MaxInstructions, Seed: opt.Seed})
	if err != nil {
		return nil, err
	}
	return &nfpEngine{fw: fw, name: img.Program.Name}, nil
}

type nfpEngine struct {
	fw   *nfp.Firmware
	name string
}

func (e *nfpEngine) Run(frame []byte) (*emulator.Result, error) {
	r, err := e.fw.RunPacket(frame)
	if err != nil {
		return nil, err
	}
	return r.Result(), nil
}
func (e *nfpEngine) Program() string        { return e.name }
func (e *nfpEngine) Hook() emulator.Hook    { return e.fw.Hook }
func (e *nfpEngine) State() *emulator.State { return e.fw.MapState() }
