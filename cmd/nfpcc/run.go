package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfinterp "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/emulator/engine"
	"github.com/nfpcc/nfpcc/emulator/nfp"
)

func init() {
	register(&command{
		name:    "run",
		summary: "run an eBPF program (reference interpreter) or an NFP image (NFP emulator) on packets",
		run:     runMain,
	})
}

// runPacket is the JSON form of one packet's outcome.
type runPacket struct {
	Index int `json:"index"`
	*emulator.Result
	Error string `json:"error,omitempty"`
}

// runReport is the --json output of a run on the interpreter; runNFP's
// has the same fields and a summary of cycles. Its "maps" member makes the
// report a valid --maps file.
type runReport struct {
	Object  string                           `json:"object"`
	Program string                           `json:"program"`
	Hook    string                           `json:"hook"`
	Runs    int                              `json:"runs"` // packets run (× --repeat)
	Packets []runPacket                      `json:"packets"`
	Counts  map[string]int                   `json:"counts"`
	Maps    map[string][]emulator.StateEntry `json:"maps"`
}

// runOptions are the flags of `nfpcc run`: one set for both engines (the
// interpreter for an eBPF object, run.go; the NFP emulator for an image or
// a JIT dump, run_nfp.go), so that a command line works on either.
type runOptions struct {
	prog, pcapIn, mapsIn, mapsOut, pcapOut, profile string
	packets                                         packetList
	asJSON, trace, noVerify, quiet                  bool
	maxInsns, seed                                  uint64
	ifindex, rxQueue                                uint
	repeat                                          int
	model                                           nfp.Model
}

// runFlags declares the run flags on fs (one line each).
func runFlags(fs *flags, o *runOptions) {
	fs.StringVar(&o.prog, "prog", "", "program (function name) to run; needed when the object has several (an image has one)")
	fs.StringVar(&o.pcapIn, "pcap", "", "read packets from this pcap or pcapng file")
	fs.Var(&o.packets, "packet", "a packet as hex bytes, `..` for a byte read as 0 (repeatable; more hex arguments may follow the program)")
	fs.StringVar(&o.mapsIn, "maps", "", "initial map contents: a --save-maps file or a --json report ({\"maps\": {name: [{key, value}]}})")
	fs.StringVar(&o.mapsOut, "save-maps", "", "write the map contents after the last packet to this file (the --maps format; - for stdout)")
	fs.BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	fs.StringVar(&o.pcapOut, "out", "", "write the packets that leave (pass, tx, redirect; tc: all but shot/stolen) to this pcap file")
	fs.BoolVar(&o.trace, "trace", false, "print every executed instruction")
	fs.Uint64Var(&o.maxInsns, "max-insns", 0, "instruction limit per packet (0: the engine's default)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of bpf_get_prandom_u32 (the NFP's PseudoRndNum: the same sequence)")
	fs.UintVar(&o.ifindex, "ifindex", 1, "ingress interface index the context reports (NFP images cannot read it: the compiler refuses programs that do)")
	fs.UintVar(&o.rxQueue, "rx-queue", 0, "receive queue the context reports (as --ifindex: NFP images cannot read it)")
	fs.BoolVar(&o.noVerify, "no-verify", false, "run an eBPF program even if the verifier rejects it")
	fs.IntVar(&o.repeat, "repeat", 1, "run the packets this many times (maps persist; per-packet lines for the first round only)")
	fs.BoolVar(&o.quiet, "quiet", false, "no per-packet lines (JSON: no packets): the counts, cycles and maps only")
	fs.BoolVar(&o.quiet, "summary", false, "the same as --quiet")
	fs.StringVar(&o.profile, "profile", "", "NFP images and JIT dumps: write an HTML profile of the cycles to this file")
	o.model = nfp.DefaultModel
	fs.IntVar(&o.model.Cores, "cores", o.model.Cores, "throughput projection: microengines running the program")
	fs.Float64Var(&o.model.ClockMHz, "clock-mhz", o.model.ClockMHz, "throughput projection: microengine clock in MHz")
	fs.Float64Var(&o.model.MACMpps, "mac-mpps", o.model.MACMpps, "throughput projection: the MAC's packet-rate ceiling in Mpps (link speed and frame size)")
}

// runMain is `nfpcc run PROG (--pcap IN.pcap | --packet HEX...) [flags]`:
// each packet goes through the program, on the reference interpreter for
// an eBPF object (verified first, as the kernel would), on the NFP emulator
// for an image (runNFP); the report gives per packet the action, return
// value and what changed, then the count of each action and the maps.
// Maps persist from packet to packet.
func runMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", stdout, stderr,
		"nfpcc run PROG.o [--prog NAME] (--pcap IN.pcap | --packet HEX...) [--maps STATE.json] [--save-maps STATE.json] [--json] [--out OUT.pcap] [--trace]",
		"nfpcc run PROG.nfp … (the same flags: the NFP emulator runs the image)",
		"nfpcc run JITDUMP.asm [PROG.bpf.o] …")
	var o runOptions
	runFlags(fs, &o)
	positional, status, err := fs.parse(args)
	if err != nil {
		return status
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "nfpcc run: "+format+"\n", a...)
		return 2
	}
	if len(positional) == 0 {
		fs.Usage()
		return 2
	}
	if o.repeat < 1 {
		return fail("--repeat %d: give a count of at least 1", o.repeat)
	}
	if err := checkOutput(o.mapsOut, positional...); err != nil {
		return fail("--save-maps: %v", err)
	}
	if err := checkOutput(o.pcapOut, append(positional, o.pcapIn)...); err != nil {
		return fail("--out: %v", err)
	}
	objPath := positional[0]
	if isNFPFile(objPath) { // an NFP image: the NFP emulator runs it (run_nfp.go)
		return runNFP(&o, positional, stdout, stderr)
	}
	if o.profile != "" {
		return fail("--profile needs an NFP image or JIT dump (the cycle model is the NFP's)")
	}
	if len(positional) > 1 {
		if len(o.packets) == 0 {
			return fail("unexpected argument %q (packets are given with --packet HEX or --pcap FILE)", positional[1])
		}
		o.packets = append(o.packets, positional[1:]...)
	}
	inputs, err := readInputs(o.pcapIn, o.packets)
	if err != nil {
		return fail("%v", err)
	}

	obj, err := loader.Load(objPath)
	if err != nil {
		return fail("%v", err)
	}
	prog, err := engine.SelectProgram(obj, o.prog)
	if err != nil {
		return fail("%s: %v", objPath, err)
	}
	if !o.noVerify {
		// As the kernel: a program the verifier rejects does not run.
		p := obj.Programs[prog]
		if _, err := verifier.Verify(p, obj.Maps, &verifier.Options{Type: p.Type}); err != nil {
			fmt.Fprintf(stderr, "nfpcc run: %s: %s: rejected by the verifier: %v\n(--no-verify runs it anyway)\n", objPath, p.Name, err)
			return 1
		}
	}
	maxInsns := o.maxInsns
	if maxInsns == 0 {
		maxInsns = ebpfinterp.DefaultMaxInstructions
	}
	m, err := ebpfinterp.FromObject(obj, prog, ebpfinterp.Options{MaxInstructions: maxInsns, Trace: o.trace, Seed: o.seed})
	if err != nil {
		err = kernelSyntax(nil, err, kernelTexts(obj.Programs[prog].Insns))
		return fail("%s: %v", objPath, err)
	}
	if err := applyMapState(o.mapsIn, m.Env().Maps, mapTypes(objPath)); err != nil {
		return fail("%v", err)
	}
	out, err := createPcapOut(o.pcapOut)
	if err != nil {
		return fail("%v", err)
	}

	slots := kernelTexts(obj.Programs[prog].Insns)
	hook := ebpfinterp.HookOf(obj.Programs[prog].Type)
	rep := runReport{Object: objPath, Program: obj.Programs[prog].Name, Hook: hook.String(), Counts: map[string]int{}, Packets: []runPacket{}}
	runErrors := 0
	for round := range o.repeat {
		for i, in := range inputs {
			if !in.ts.IsZero() {
				m.Env().Clock = uint64(in.ts.UnixNano())
			}
			res, err := m.Run(prog, ebpfinterp.Input{Packet: in.data, IngressIfindex: uint32(o.ifindex), RxQueueIndex: uint32(o.rxQueue)})
			err = kernelSyntax(res, err, slots)
			p := runPacket{Index: i + 1, Result: res}
			rep.Runs++
			if err != nil {
				p.Error = err.Error()
				rep.Counts["ERROR"]++
				runErrors++
			} else {
				rep.Counts[res.Action]++
				if leaves(hook, res.Return) {
					if err := out.write(in.ts, res.Packet); err != nil {
						return fail("%s: %v", o.pcapOut, err)
					}
				}
			}
			if round == 0 && !o.quiet {
				rep.Packets = append(rep.Packets, p)
			}
		}
	}
	snap := m.Snapshot()
	rep.Maps = snap.Maps
	if err := finishOutputs(&o, snap, out, stdout); err != nil {
		return fail("%v", err)
	}

	if o.asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fail("%v", err)
		}
		stdout.Write(append(b, '\n'))
	} else {
		printRunReport(stdout, &rep, inputs)
	}
	if runErrors > 0 {
		return 1
	}
	return 0
}

// leaves says whether the packet goes on (is written to --out).
func leaves(h emulator.Hook, ret uint64) bool {
	switch h {
	case emulator.HookXDP:
		switch uint32(ret) {
		case emulator.XDPPass, emulator.XDPTx, emulator.XDPRedirect:
			return true
		}
		return false
	case emulator.HookTC:
		return int32(uint32(ret)) != emulator.TCActShot && int32(uint32(ret)) != 4 /* TC_ACT_STOLEN */
	}
	return true
}

func printRunReport(w io.Writer, rep *runReport, inputs []inputPacket) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "program %s (%s) in %s\n", rep.Program, rep.Hook, rep.Object)
	for i, p := range rep.Packets {
		if p.Error != "" {
			fmt.Fprintf(bw, "packet %d: error: %s\n", p.Index, p.Error)
		} else {
			fmt.Fprintf(bw, "packet %d: %s (return %d, %d instructions)\n", p.Index, p.Action, int64(p.Return), p.Instructions)
		}
		if p.Result == nil {
			continue
		}
		for _, s := range p.Trace {
			fmt.Fprintf(bw, "  %4d: %s\n", s.PC, s.Text)
		}
		if p.Packet != nil {
			printPacketChange(bw, inputs[i].data, p.Packet)
		}
		if len(p.Context) > 0 {
			names := make([]string, 0, len(p.Context))
			for n := range p.Context {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Fprintf(bw, "  context:")
			for _, n := range names {
				fmt.Fprintf(bw, " %s=%d", n, p.Context[n])
			}
			fmt.Fprintln(bw)
		}
		if len(p.Meta) > 0 {
			fmt.Fprintf(bw, "  metadata: %x\n", []byte(p.Meta))
		}
		if r := p.Redirect; r != nil {
			if r.Map != "" {
				fmt.Fprintf(bw, "  redirect: map %s key %d\n", r.Map, r.Key)
			} else {
				fmt.Fprintf(bw, "  redirect: ifindex %d flags %#x\n", r.Ifindex, r.Flags)
			}
		}
		for _, e := range p.Events {
			fmt.Fprintf(bw, "  event: map %s cpu %d data %x\n", e.Map, e.CPU, []byte(e.Data))
		}
		for _, l := range p.Printk {
			fmt.Fprintf(bw, "  trace_printk: %s\n", l)
		}
	}
	printCounts(bw, rep.Runs, rep.Counts, func(string) string { return "" })
	printMaps(bw, rep.Maps, mapTypes(rep.Object))
}

// kernelTexts is each instruction slot's text in the kernel verifier log's
// syntax (verifier.Disasm: "r2 = *(u32 *)(r1 +4)"), the one eBPF syntax
// nfpcc prints: `verify --log` and `run --trace` show the same text.
func kernelTexts(insns asm.Instructions) map[int]string {
	out := make(map[int]string, len(insns))
	pc := 0
	for _, ins := range insns {
		out[pc] = verifier.Disasm(ins)
		pc += int(ins.Width())
	}
	return out
}

// kernelSyntax rewrites the interpreter's trace and error texts (cilium/ebpf's
// instruction syntax) in the kernel's, keeping the register values each
// trace line ends with.
func kernelSyntax(res *emulator.Result, err error, slots map[int]string) error {
	if res != nil {
		for i, st := range res.Trace {
			txt, ok := slots[st.PC]
			if !ok {
				continue
			}
			regs := ""
			if j := strings.Index(st.Text, " ;"); j >= 0 {
				regs = strings.TrimLeft(st.Text[j:], " ")
			}
			if regs != "" {
				txt = fmt.Sprintf("%-40s %s", txt, regs)
			}
			res.Trace[i].Text = txt
		}
	}
	var rerr *ebpfinterp.RuntimeError
	var merr *ebpfinterp.MemoryError
	var lerr *ebpfinterp.LoadError
	var insn *string
	var pc int
	switch {
	case errors.As(err, &rerr):
		insn, pc = &rerr.Insn, rerr.PC
	case errors.As(err, &merr):
		insn, pc = &merr.Insn, merr.PC
	case errors.As(err, &lerr) && lerr.Insn != "":
		insn, pc = &lerr.Insn, lerr.PC
	default:
		return err
	}
	t, ok := slots[pc]
	if !ok || t == *insn {
		return err
	}
	// Wrapping errors (fmt.Errorf's %w) keep the text they were made
	// with: rewrite it too.
	msg := strings.Replace(err.Error(), "("+*insn+")", "("+t+")", 1)
	*insn = t
	return &rewordedError{msg: msg, err: err}
}

// rewordedError is err with its text rewritten.
type rewordedError struct {
	msg string
	err error
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }
