package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfinterp "github.com/nfpcc/nfpcc/emulator/ebpf"
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

type runReport struct {
	Object  string                           `json:"object"`
	Program string                           `json:"program"`
	Hook    string                           `json:"hook"`
	Packets []runPacket                      `json:"packets"`
	Counts  map[string]int                   `json:"counts"`
	Maps    map[string][]emulator.StateEntry `json:"maps"`
}

// runMain is `nfpcc run PROG.o [--prog NAME] (--pcap IN.pcap | --packet
// HEX...) [--maps STATE.json] [--json] [--out OUT.pcap] [--trace]`: each
// packet goes through the program on the reference interpreter; the
// report gives per packet the action and return value, then the count of
// each action. Maps persist from packet to packet.
func runMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", stdout, stderr,
		"nfpcc run PROG.o [--prog NAME] (--pcap IN.pcap | --packet HEX...) [--maps STATE.json] [--save-maps STATE.json] [--json] [--out OUT.pcap] [--trace]",
		"nfpcc run PROG.nfp … (the same flags: the NFP emulator runs the image)")
	progName := fs.String("prog", "", "program (function name) to run; needed when the object has several")
	pcapIn := fs.String("pcap", "", "read packets from this pcap or pcapng file")
	var packets packetList
	fs.Var(&packets, "packet", "a packet as hex bytes (repeatable; more hex arguments may follow the object)")
	mapsIn := fs.String("maps", "", "initial map contents (JSON: {\"maps\": {name: [{key, value}]}})")
	mapsOut := fs.String("save-maps", "", "write the map contents after the last packet to this file (the --maps format)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pcapOut := fs.String("out", "", "write the packets that leave (every action but drop/aborted/shot) to this pcap file")
	trace := fs.Bool("trace", false, "print every executed instruction")
	maxInsns := fs.Uint64("max-insns", ebpfinterp.DefaultMaxInstructions, "instruction limit per packet")
	seed := fs.Uint64("seed", 1, "seed of bpf_get_prandom_u32")
	ifindex := fs.Uint("ifindex", 1, "ingress interface index the context reports")
	rxQueue := fs.Uint("rx-queue", 0, "receive queue the context reports")
	profile := fs.String("profile", "", "NFP images and JIT dumps: write an HTML profile of the cycles to this file")
	// Flags may come before or after the object: parse, take one
	// positional argument, parse again.
	origArgs := args
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
	objPath := positional[0]
	if isNFPFile(objPath) { // an NFP image: the NFP emulator runs it (run_nfp.go)
		return runNFP(origArgs, stdout, stderr)
	}
	if *profile != "" {
		return fail("--profile needs an NFP image or JIT dump (the cycle model is the NFP's)")
	}
	if len(positional) > 1 {
		if len(packets) == 0 {
			return fail("unexpected argument %q (packets are given with --packet HEX or --pcap FILE)", positional[1])
		}
		packets = append(packets, positional[1:]...)
	}
	inputs, err := readInputs(*pcapIn, packets)
	if err != nil {
		return fail("%v", err)
	}

	obj, err := loader.Load(objPath)
	if err != nil {
		return fail("%v", err)
	}
	prog, err := pickProgram(obj, *progName)
	if err != nil {
		return fail("%s: %v", objPath, err)
	}
	m, err := ebpfinterp.FromObject(obj, prog, ebpfinterp.Options{MaxInstructions: *maxInsns, Trace: *trace, Seed: *seed})
	if err != nil {
		return fail("%s: %v", objPath, err)
	}
	if err := applyMapState(*mapsIn, m.Env().Maps); err != nil {
		return fail("%v", err)
	}
	out, err := createPcapOut(*pcapOut)
	if err != nil {
		return fail("%v", err)
	}

	hook := ebpfinterp.HookOf(obj.Programs[prog].Type)
	rep := runReport{Object: objPath, Program: obj.Programs[prog].Name, Hook: hook.String(), Counts: map[string]int{}}
	runErrors := 0
	for i, in := range inputs {
		if !in.ts.IsZero() {
			m.Env().Clock = uint64(in.ts.UnixNano())
		}
		res, err := m.Run(prog, ebpfinterp.Input{Packet: in.data, IngressIfindex: uint32(*ifindex), RxQueueIndex: uint32(*rxQueue)})
		p := runPacket{Index: i + 1, Result: res}
		if err != nil {
			p.Error = err.Error()
			rep.Counts["ERROR"]++
			runErrors++
		} else {
			rep.Counts[res.Action]++
			if leaves(hook, res.Return) {
				if err := out.write(in.ts, res.Packet); err != nil {
					return fail("%s: %v", *pcapOut, err)
				}
			}
		}
		rep.Packets = append(rep.Packets, p)
	}
	snap := m.Snapshot()
	rep.Maps = snap.Maps
	if *mapsOut != "" {
		b, err := snap.Marshal()
		if err == nil {
			err = writeOutput(*mapsOut, b, stdout)
		}
		if err != nil {
			return fail("--save-maps: %v", err)
		}
	}
	if err := out.close(stdout); err != nil {
		return fail("%v", err)
	}

	if *asJSON {
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

// pickProgram finds --prog, or the only XDP/tc program among the object's
// entry programs (selectPrograms), as an index into obj.Programs.
func pickProgram(obj *loader.Object, name string) (int, error) {
	progs, err := selectPrograms(obj, name)
	if err != nil {
		return 0, err
	}
	var attachable []*loader.Program
	var names []string
	for _, p := range progs {
		if name != "" || ebpfinterp.HookOf(p.Type) != emulator.HookNone {
			attachable = append(attachable, p)
			names = append(names, p.Name)
		}
	}
	switch {
	case len(attachable) == 1:
		return slices.Index(obj.Programs, attachable[0]), nil
	case len(attachable) == 0 && len(progs) == 1:
		return slices.Index(obj.Programs, progs[0]), nil
	case len(attachable) == 0:
		for _, p := range progs {
			names = append(names, p.Name)
		}
		return 0, fmt.Errorf("no XDP or tc program; choose one with --prog (the object has: %s)", strings.Join(names, ", "))
	}
	return 0, fmt.Errorf("several programs; choose one with --prog (%s)", strings.Join(names, ", "))
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
		if !bytes.Equal(p.Packet, inputs[i].data) && p.Packet != nil {
			fmt.Fprintf(bw, "  packet now %d bytes: %x\n", len(p.Packet), []byte(p.Packet))
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
	actions := make([]string, 0, len(rep.Counts))
	for a := range rep.Counts {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	fmt.Fprintf(bw, "%d packets:", len(rep.Packets))
	for _, a := range actions {
		fmt.Fprintf(bw, " %s %d", a, rep.Counts[a])
	}
	fmt.Fprintln(bw)
}
