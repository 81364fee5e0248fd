// Package fuzz is nfpcc's differential fuzzer: programs from testsuite/gen
// (or any loader object) are compiled for the NFP, the image runs on the
// NFP emulator and the program on the reference eBPF interpreter over the
// same packets from the same map state, and everything a program can show
// the world must agree: the action, r0 where the offload ABI reports it,
// the packet bytes, the maps and the perf events. It follows wazero's
// nodiff harness (compiler against interpreter on results, memory and
// calls) and Csmith's practice of generator + oracle + reducer: a mismatch
// is shrunk by Minimize and kept as a txtar regression case (regress.go)
// that go test replays.
//
// A program the compiler refuses is counted by reason, never a mismatch;
// a program the verifier rejects, or the interpreter cannot run, is a
// generator bug, counted and shown apart.
package fuzz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa/image"
)

// Kind classifies what happened to one program.
type Kind int

const (
	// Agreed: compiled, and every packet gave the same results.
	Agreed Kind = iota
	// Refused: the compiler refused the program for a reason of the
	// target (Outcome.Reason); no fault of anyone's.
	Refused
	// GenBug: the generator made a program the verifier rejects or the
	// interpreter cannot run: a bug of the generator (or of the verifier).
	GenBug
	// Mismatch: the image and the interpreter disagree, the compiler
	// crashed (BUG), or the emulator stopped on the image: a bug of nfpcc.
	Mismatch
)

func (k Kind) String() string {
	return [...]string{"agreed", "refused", "generator bug", "mismatch"}[k]
}

// Outcome is what one program did across its packets.
type Outcome struct {
	Kind   Kind
	Reason string // the refusal, generator bug or mismatch, in one line
	// Detail is the mismatch in full: which packet, each side's results.
	Detail string
	Packet int // the packet that failed (Mismatch at run time), else -1
	Runs   int // packets run on both engines and compared
	// KernelRuns counts the packets also run in the kernel (Options.Kernel);
	// KernelSkip says why the kernel did not run the program, if it did not.
	KernelRuns int
	KernelSkip string
}

// Options configure a check.
type Options struct {
	// Compile are the compiler's options (the program is selected by
	// index, Prog is ignored).
	Compile compiler.Options
	// Seed of bpf_get_prandom_u32 on both engines (Case.Check sets it to
	// the case's).
	Seed uint64
	// RoundTrip writes the image to bytes and reads it back before
	// running it, so the .nfp container is exercised too.
	RoundTrip bool
	// Kernel runs the program in the running kernel too (BPF_PROG_LOAD,
	// BPF_PROG_TEST_RUN) and compares it with the interpreter: the third
	// engine. The caller checks KernelAvailable first.
	Kernel bool
}

// Check compiles obj's program pi and runs it on both engines over
// packets, stopping at the first disagreement.
func Check(obj *loader.Object, pi int, packets [][]byte, opts Options) Outcome {
	pair, out := Prepare(obj, pi, opts)
	if pair == nil {
		return out
	}
	defer pair.Close()
	out.KernelSkip = pair.kernelSkip
	for i, pkt := range packets {
		o := pair.Run(i, pkt)
		if o.Kind != Agreed {
			o.Runs, o.KernelRuns, o.KernelSkip = out.Runs, out.KernelRuns, out.KernelSkip
			return o
		}
		out.Runs++
		out.KernelRuns += o.KernelRuns
	}
	return out
}

// Pair is one program ready to run on both engines: the compiled image on
// the NFP emulator and the eBPF program on the interpreter, each with its
// own maps, which evolve together packet after packet.
type Pair struct {
	ref     *ebpfemu.Machine
	fw      *nfp.Firmware
	pi      int
	hook    emulator.Hook
	maxCode uint64
	res     emulator.Result
	got     nfp.PacketResult // the NFP's result, reused from packet to packet
	// imgMaps names the maps of the image.
	imgMaps map[string]bool
	// stateful: the program has maps whose contents must be compared.
	stateful bool
	// kern is the program in the kernel (Options.Kernel), nil when it is
	// not run there; kernelSkip then says why.
	kern       *kernelProg
	kernelSkip string
	prev       *emulator.State // the interpreter's maps before the current frame
}

// Close releases what the pair holds in the kernel.
func (p *Pair) Close() {
	if p.kern != nil {
		p.kern.Close()
		p.kern = nil
	}
}

// Prepare compiles and loads obj's program pi; the Outcome says why not
// when the Pair is nil.
func Prepare(obj *loader.Object, pi int, opts Options) (*Pair, Outcome) {
	copts := opts.Compile
	copts.Prog = obj.Programs[pi].Name
	if copts.MCPU == "" {
		copts.MCPU = "emulator" // the pair runs on nfpcc's firmware model
	}
	imgs, _, err := compiler.Compile(obj, copts)
	if err != nil {
		return nil, compileOutcome(err)
	}
	return Load(obj, pi, imgs[0], opts)
}

// Load pairs an image compiled from obj's program pi with that program on
// the interpreter; the Outcome says why not when the Pair is nil.
func Load(obj *loader.Object, pi int, img *image.Image, opts Options) (*Pair, Outcome) {
	if opts.RoundTrip {
		var buf bytes.Buffer
		if err := img.Write(&buf); err != nil {
			return nil, mismatch("writing the image: %v", err)
		}
		var err error
		if img, err = image.Read(bytes.NewReader(buf.Bytes())); err != nil {
			return nil, mismatch("reading the image back: %v", err)
		}
	}
	prog, err := nfp.LoadImage(img)
	if err != nil {
		return nil, mismatch("NFP load: %v", err)
	}
	maps, err := nfp.MapsFor(img)
	if err != nil {
		return nil, mismatch("NFP maps: %v", err)
	}
	fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: maps, Seed: opts.Seed})
	if err != nil {
		return nil, mismatch("NFP firmware: %v", err)
	}
	ref, err := ebpfemu.FromObject(obj, pi, ebpfemu.Options{Seed: opts.Seed})
	if err != nil {
		return nil, Outcome{Kind: GenBug, Reason: "interpreter: " + err.Error(), Packet: -1}
	}
	pair := &Pair{ref: ref, fw: fw, pi: pi, hook: emulator.HookXDP, maxCode: 3, stateful: len(obj.Maps) > 0, imgMaps: map[string]bool{}}
	for _, m := range img.Maps {
		pair.imgMaps[m.Name] = true
	}
	if img.Program.Type == image.ProgTC {
		pair.hook, pair.maxCode = emulator.HookTC, 7
	}
	if opts.Kernel {
		if pair.kernelSkip = hostDependent(obj.Programs[pi]); pair.kernelSkip == "" {
			if pair.kern, err = loadKernel(obj, pi); err != nil {
				return nil, Outcome{Kind: GenBug, Reason: "kernel: " + RefusalClass(err.Error()), Detail: err.Error(), Packet: -1}
			}
			pair.prev = ref.Snapshot()
		}
	}
	return pair, Outcome{Packet: -1}
}

// imaged is the reference's map state restricted to the maps of the
// image: the compiler leaves out the maps the program does not use
// (compiler/mapscope.go), and the program cannot change those.
func (p *Pair) imaged(s *emulator.State) *emulator.State {
	if s == nil || len(s.Maps) == len(p.imgMaps) {
		return s
	}
	out := &emulator.State{Maps: map[string][]emulator.StateEntry{}}
	for name, es := range s.Maps {
		if p.imgMaps[name] {
			out.Maps[name] = es
		}
	}
	return out
}

// compileOutcome sorts a compile error: a verifier rejection is the
// generator's fault, a BUG the compiler's, anything else a refusal.
func compileOutcome(err error) Outcome {
	msg := err.Error()
	var verr *verifier.Error
	switch {
	case strings.Contains(msg, "BUG"):
		first, _, _ := strings.Cut(msg, "\n")
		return Outcome{Kind: Mismatch, Reason: "compiler: " + first, Detail: msg, Packet: -1}
	case errors.As(err, &verr) && !strings.HasPrefix(verr.Reason, "[nfp] "):
		// The kernel's rules: the generator promised a valid program.
		return Outcome{Kind: GenBug, Reason: "verifier: " + RefusalClass(msg), Detail: msg, Packet: -1}
	}
	return Outcome{Kind: Refused, Reason: RefusalClass(msg), Detail: msg, Packet: -1}
}

func mismatch(format string, args ...any) Outcome {
	return Outcome{Kind: Mismatch, Reason: fmt.Sprintf(format, args...), Packet: -1}
}

// Run runs packet number i on both engines and compares what they did.
func (p *Pair) Run(i int, pkt []byte) Outcome {
	in := ebpfemu.Input{Packet: append([]byte(nil), pkt...)}
	if err := p.ref.RunInto(p.pi, in, &p.res); err != nil {
		return Outcome{Kind: GenBug, Reason: "interpreter: " + err.Error(), Packet: i}
	}
	want := &p.res
	got := &p.got
	err := p.fw.RunPacketInto(pkt, got)
	if err != nil {
		return Outcome{Kind: Mismatch, Reason: "NFP: " + err.Error(), Packet: i,
			Detail: fmt.Sprintf("packet %d: %x\nNFP stopped: %v\nreference: %s", i, pkt, err, brief(want))}
	}
	var bad []string
	var what []string
	wantAct := nfp.OffloadAction(p.hook, want.Return)
	if got.Action != wantAct {
		what = append(what, "action")
		bad = append(bad, fmt.Sprintf("action: NFP %s, reference %s (r0 %#x)", got.Action, wantAct, want.Return))
	}
	// The offload ABI reports r0 only as far as it is a return code.
	if uint32(got.Return) != uint32(want.Return) && want.Return <= p.maxCode {
		what = append(what, "r0")
		bad = append(bad, fmt.Sprintf("r0: NFP %#x, reference %#x", got.Return, want.Return))
	}
	if !bytes.Equal(got.Packet, want.Packet) {
		what = append(what, "packet")
		bad = append(bad, fmt.Sprintf("packet:\n  NFP %x\n  ref %x", []byte(got.Packet), []byte(want.Packet)))
	}
	if !sameEvents(got.Events, want.Events) {
		what = append(what, "events")
		gj, _ := json.Marshal(got.Events)
		wj, _ := json.Marshal(want.Events)
		bad = append(bad, fmt.Sprintf("events:\n  NFP %s\n  ref %s", gj, wj))
	}
	var state *emulator.State
	if p.stateful {
		state = p.ref.Snapshot()
		if g := p.fw.MapState(); !reflect.DeepEqual(g, p.imaged(state)) {
			what = append(what, "maps")
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(p.imaged(state))
			bad = append(bad, fmt.Sprintf("maps:\n  NFP %s\n  ref %s", gj, wj))
		}
	}
	if len(bad) > 0 {
		return Outcome{Kind: Mismatch, Reason: strings.Join(what, ", ") + " differ", Packet: i,
			Detail: fmt.Sprintf("packet %d: %x\n%s", i, pkt, strings.Join(bad, "\n"))}
	}
	if p.kern != nil {
		o := p.runKernel(i, pkt, want, state)
		p.prev = state
		return o
	}
	return Outcome{Kind: Agreed, Packet: -1}
}

// runKernel runs packet i in the kernel and compares it with the
// interpreter's result want and map state: the return value (32 bits, as
// BPF_PROG_TEST_RUN reports it), the packet and the maps.
func (p *Pair) runKernel(i int, pkt []byte, want *emulator.Result, state *emulator.State) Outcome {
	ret, out, ok, err := p.kern.run(pkt)
	if err != nil {
		return Outcome{Kind: Mismatch, Reason: "kernel: BPF_PROG_TEST_RUN: " + err.Error(), Packet: i,
			Detail: fmt.Sprintf("packet %d: %x\nkernel: %v\nreference: %s", i, pkt, err, brief(want))}
	}
	if !ok {
		// A frame the kernel cannot take: if it changed the maps on the
		// interpreter, the kernel's maps no longer start where the
		// interpreter's do, and the kernel leaves the comparison.
		if p.stateful && !reflect.DeepEqual(state, p.prev) {
			p.Close()
		}
		return Outcome{Kind: Agreed, Packet: -1}
	}
	var what, bad []string
	if ret != uint32(want.Return) {
		what = append(what, "r0")
		bad = append(bad, fmt.Sprintf("r0: kernel %#x, reference %#x", ret, want.Return))
	}
	if !bytes.Equal(out, want.Packet) {
		what = append(what, "packet")
		bad = append(bad, fmt.Sprintf("packet:\n  kernel %x\n  ref    %x", out, []byte(want.Packet)))
	}
	if p.stateful {
		ks, err := p.kern.state()
		if err != nil {
			return Outcome{Kind: Mismatch, Reason: "kernel: reading maps: " + err.Error(), Packet: i}
		}
		if !reflect.DeepEqual(ks, state) {
			what = append(what, "maps")
			kj, _ := json.Marshal(ks)
			wj, _ := json.Marshal(state)
			bad = append(bad, fmt.Sprintf("maps:\n  kernel %s\n  ref    %s", kj, wj))
		}
	}
	if len(bad) > 0 {
		return Outcome{Kind: Mismatch, Reason: "kernel: " + strings.Join(what, ", ") + " differ from the interpreter", Packet: i,
			Detail: fmt.Sprintf("packet %d: %x\n%s", i, pkt, strings.Join(bad, "\n"))}
	}
	return Outcome{Kind: Agreed, Packet: -1, KernelRuns: 1}
}

func sameEvents(a, b []emulator.Event) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func brief(r *emulator.Result) string {
	return fmt.Sprintf("r0 %#x, packet %x", r.Return, []byte(r.Packet))
}

// RefusalClass shortens a compiler refusal to its kind, without the names
// and numbers of one program, so refusals can be counted by reason.
func RefusalClass(msg string) string {
	s, _, _ := strings.Cut(msg, "\n")
	if i := strings.Index(s, "eBPF slot "); i >= 0 {
		if j := strings.Index(s[i:], ": "); j >= 0 {
			s = s[i+j+2:]
		}
	} else if i := strings.LastIndex(s, ": "); i >= 0 && !strings.Contains(s, "verifier") {
		s = s[i+2:]
	}
	var b strings.Builder
	digits := false
	for _, r := range s {
		if r >= '0' && r <= '9' {
			if !digits {
				b.WriteByte('N')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
	}
	s = b.String()
	if len(s) > 90 {
		s = s[:90]
	}
	return s
}
