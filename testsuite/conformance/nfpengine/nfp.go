// Package nfpengine is the conformance engine "nfp": each bpf_conformance
// test compiled for the NFP and run on the NFP emulator. It lives apart from
// package conformance, whose assembler the compiler's own tests use, so that
// those tests do not import the compiler.
package nfpengine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/backend"
	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
)

// NFP compiles each test to an NFP image (compiler.Compile) and runs it on
// the NFP emulator (emulator/nfp) as an XDP program, the test's memory as
// the packet, as InterpXDP runs it on the host.
//
// The offload ABI reports only an action: the firmware reads the low 32
// bits of r0 (nfp-isa.md §4.4), and what the emulator shows of the high
// half is whatever the code left in a register nobody reads. So the test
// does not run as the XDP program itself but as a subprogram of one
// (NFPWrapper) that stores the test's full 64-bit r0 into 8 bytes appended
// to the packet; the engine reads r0 from the packet the NIC sends on.
//
// Passes selects the middle end's level; the zero value is -O2, under
// which most tests fold to constants before the backend sees them, so the
// engine "nfp-O0" runs them unoptimised to test the backend's lowerings.
type NFP struct{ Passes passes.Config }

func (e NFP) Name() string {
	if e.Passes.Level == passes.O0 {
		return "nfp-O0"
	}
	return "nfp"
}

// Compiles marks the engines that may refuse a program (conformance.ErrNotCompiled).
func (NFP) Compiles() bool { return true }

// r0Bytes is the room after the test's memory for the result.
const r0Bytes = 8

// NFPWrapper returns the XDP program that runs test on a packet of
// size+8 bytes: the test's memory, then room for r0. The entry checks that
// the packet holds size bytes and calls the test as a BPF-to-BPF
// subprogram with XDPProlog's registers (r1 = data, r2 = size, r3 = data +
// size; also for a test without memory, where InterpXDP passes the
// context instead), so the verifier grants the test exactly its own
// memory, as on the interpreter. After the call it checks the 8 more
// bytes, stores r0 there and returns XDP_PASS; XDP_ABORTED if the packet
// is short. The test's own exits are subprogram returns, so no instruction
// of it changes. funcs lists the subprograms (the entry, the test, and the
// test's own call targets) in slot order, as loader.Program.Funcs wants
// them; a call out of the test is an error, as the interpreter's loader
// makes it.
func NFPWrapper(test asm.Instructions, size int) (prog asm.Instructions, funcs []loader.Func, err error) {
	abort := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()} // XDP_ABORTED
	after := asm.Instructions{
		asm.LoadMem(asm.R7, asm.R6, 0, asm.Word), // data, reloaded
		asm.LoadMem(asm.R2, asm.R6, 4, asm.Word), // data_end
		asm.Mov.Reg(asm.R3, asm.R7),
		asm.Add.Imm(asm.R3, int32(size+r0Bytes)),
		{OpCode: asm.JGT.Op(asm.RegSource), Dst: asm.R3, Src: asm.R2, Offset: 3},
		asm.StoreMem(asm.R7, int16(size), asm.R0, asm.DWord),
		asm.Mov.Imm(asm.R0, 2), // XDP_PASS
		asm.Return(),
	}
	after = append(after, abort...)
	before := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),              // ctx
		asm.LoadMem(asm.R1, asm.R6, 0, asm.Word), // data
		asm.LoadMem(asm.R2, asm.R6, 4, asm.Word), // data_end
		asm.Mov.Reg(asm.R3, asm.R1),
		asm.Add.Imm(asm.R3, int32(size)),
		{OpCode: asm.JGT.Op(asm.RegSource), Dst: asm.R3, Src: asm.R2, Offset: int16(len(after))}, // to abort
		asm.Mov.Imm(asm.R2, int32(size)),
	}
	// The call skips over the tail (after, ending in abort) to the test.
	call := asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoCall, Constant: int64(len(after))}
	prog = append(append(before, call), after...)
	entry := len(prog) // no LD_IMM64 above: slots = instructions
	end := entry
	for _, in := range test {
		end += int(in.Size() / asm.InstructionSize)
	}
	funcs = []loader.Func{{Name: "xdp_conformance", Slot: 0}, {Name: "test", Slot: entry}}
	seen := map[int]bool{0: true, entry: true}
	slot := entry
	for _, in := range test {
		if in.IsFunctionCall() {
			t := slot + 1 + int(in.Constant)
			if t < entry || t >= end {
				return nil, nil, fmt.Errorf("%w: call at %d to %d, outside the program", conformance.ErrLoad, slot-entry, t-entry)
			}
			if !seen[t] {
				seen[t] = true
				funcs = append(funcs, loader.Func{Name: fmt.Sprintf("test_%d", t-entry), Slot: t})
			}
		}
		slot += int(in.Size() / asm.InstructionSize)
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].Slot < funcs[j].Slot })
	return append(prog, test...), funcs, nil
}

func (e NFP) Run(insns asm.Instructions, mem []byte) (uint64, error) {
	if len(mem)+r0Bytes > 0x3fff {
		return 0, fmt.Errorf("%w: %d bytes of memory (and 8 for r0) do not fit an NFP packet (16383 bytes)", conformance.ErrLoad, len(mem))
	}
	prog, funcs, err := NFPWrapper(insns, len(mem))
	if err != nil {
		return 0, err
	}
	obj := &loader.Object{Path: "conformance", Programs: []*loader.Program{{
		Name: "xdp_conformance", Section: "xdp", Type: ebpf.XDP, License: "GPL", Insns: prog, Funcs: funcs,
	}}}
	imgs, rep, err := compiler.Compile(obj, compiler.Options{Passes: e.Passes, MCPU: "emulator"})
	if err != nil {
		if rep != nil && len(rep.Programs) == 1 && rep.Programs[0].Err != nil {
			err = rep.Programs[0].Err
		}
		if strings.Contains(err.Error(), "BUG") {
			return 0, fmt.Errorf("%w: compiler: %v", conformance.ErrLoad, err)
		}
		return 0, refusal(obj, funcs[1].Slot, err)
	}
	// Through the image file, as `nfpcc run` loads it.
	var buf bytes.Buffer
	if err := imgs[0].Write(&buf); err != nil {
		return 0, fmt.Errorf("%w: writing the image: %v", conformance.ErrLoad, err)
	}
	img, err := image.Read(&buf)
	if err != nil {
		return 0, fmt.Errorf("%w: reading the image back: %v", conformance.ErrLoad, err)
	}
	p, err := nfp.LoadImage(img)
	if err != nil {
		return 0, fmt.Errorf("%w: NFP load: %v", conformance.ErrLoad, err)
	}
	maps, err := nfp.MapsFor(img)
	if err != nil {
		return 0, fmt.Errorf("%w: NFP maps: %v", conformance.ErrLoad, err)
	}
	fw, err := nfp.NewFirmware(p, nfp.Options{Maps: maps})
	if err != nil {
		return 0, fmt.Errorf("%w: NFP firmware: %v", conformance.ErrLoad, err)
	}
	pkt := make([]byte, len(mem)+r0Bytes)
	copy(pkt, mem)
	res, err := fw.RunPacket(pkt)
	if err != nil {
		return 0, err
	}
	if res.Action != "XDP_PASS" || len(res.Packet) != len(pkt) {
		return 0, fmt.Errorf("the wrapper ended with %s and a %d-byte packet (r0 %#x), want XDP_PASS and %d bytes", res.Action, len(res.Packet), res.Return, len(pkt))
	}
	return binary.LittleEndian.Uint64(res.Packet[len(mem):]), nil
}

// refusal restates the compiler's reason with slots counted from the
// test's first instruction (entry): the backend's position, or the
// verifier's error (which the compiler passes on as text, so the verifier
// runs again here to get it whole).
func refusal(obj *loader.Object, entry int, err error) error {
	var be *backend.Error
	if errors.As(err, &be) && be.Pos >= entry {
		return &conformance.NotCompiledError{Reason: fmt.Sprintf("slot %d: %s", be.Pos-entry, be.Msg)}
	}
	var ve *verifier.Error
	if _, verr := verifier.Verify(obj.Programs[0], obj.Maps, nil); errors.As(verr, &ve) && ve.PC >= entry {
		return &conformance.NotCompiledError{Reason: fmt.Sprintf("rejected by the verifier: %d: (%s) %s", ve.PC-entry, ve.Insn, ve.Reason)}
	}
	return &conformance.NotCompiledError{Reason: fmt.Sprintf("%v (slots count from the XDP wrapper; the test starts at %d)", err, entry)}
}

// Register adds the engine to conformance.Engines under "nfp" (and
// "nfp-O0"); the command line and the tests that offer it call it.
func Register() {
	conformance.Engines["nfp"] = func() conformance.Engine { return NFP{} }
	conformance.Engines["nfp-O0"] = func() conformance.Engine { return NFP{Passes: passes.Config{Level: passes.O0}} }
}
