package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
)

func init() {
	register(&command{name: "verify", summary: "prove the programs of an eBPF object safe, as the kernel's verifier (and the NFP's limits)", run: verifyMain})
}

// progTypes are the names --type accepts, for objects whose section names
// do not say the program type.
var progTypes = map[string]ebpf.ProgramType{
	"xdp": ebpf.XDP, "tc": ebpf.SchedCLS, "classifier": ebpf.SchedCLS, "action": ebpf.SchedACT,
	"socket": ebpf.SocketFilter, "kprobe": ebpf.Kprobe, "tracepoint": ebpf.TracePoint,
}

// verifyMain is `nfpcc verify PROG.o… [--prog NAME] [--log] [--target=nfp|host] [--json]`:
// one verdict line per program of each object; with --log the kernel-style
// log (state before every instruction, then the error or the processed
// count); with --json the verdicts as a JSON array (each naming its object
// when several are given).
func verifyMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", stdout, stderr, "nfpcc verify PROG.o… [--prog NAME] [--log] [--target=nfp|host] [--type=xdp|tc] [--json]")
	progName := fs.String("prog", "", "only the program with this function name")
	logAll := fs.Bool("log", false, "print the state before each instruction (the kernel's log level 2)")
	targetName := fs.String("target", "host", "rules to check: host (the kernel's), nfp (the kernel's and the NFP's capability table for --mcpu=corenic, what the compiler checks) or emulator (--mcpu=emulator's table)")
	typeName := fs.String("type", "", "program type for sections whose names do not give it: xdp, tc, socket, …")
	asJSON := fs.Bool("json", false, "print the verdicts as JSON, one object per program")
	unpriv := fs.Bool("unprivileged", false, "the kernel's rules for a loader without CAP_PERFMON (default: root's, as offload requires)")
	files, status, err := fs.parse(args)
	if err != nil {
		return status
	}
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	target, err := verifier.TargetByName(*targetName)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc verify: %v\n", err)
		return 2
	}
	override, err := typeFlag(*typeName, false)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc verify: %v\n", err)
		return 2
	}
	// Every object is loaded first; without --log all their programs then
	// verify side by side (verifier.VerifyAll), and the verdicts are
	// printed in the objects' order all the same.
	type sel struct {
		file string
		obj  *loader.Object
		prog *loader.Program
	}
	var sels []sel
	var jobs []verifier.Job
	for _, file := range files {
		obj, err := loader.Load(file)
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc verify: %v\n", err)
			return 2
		}
		progs, err := selectPrograms(obj, *progName)
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc verify: %s: %v\n", file, err)
			return 2
		}
		for _, p := range progs {
			// The verdict alone: pruning as the kernel's (facts are for lift).
			opts := &verifier.Options{Target: target, Unprivileged: *unpriv, Type: loader.EffectiveType(p, override, false), VerdictOnly: true}
			sels = append(sels, sel{file, obj, p})
			jobs = append(jobs, verifier.Job{Prog: p, Maps: obj.Maps, Opts: opts})
		}
	}
	var verdicts []verdict
	var outcomes []verifier.Outcome
	if !*logAll {
		outcomes = verifier.VerifyAll(jobs, 0)
	}
	for i, sl := range sels {
		p := sl.prog
		var res *verifier.Result
		var err error
		if *logAll {
			opts := jobs[i].Opts
			if len(files) > 1 {
				fmt.Fprintf(stdout, "== %s: %s (section %s)\n", sl.file, p.Name, p.Section)
			} else {
				fmt.Fprintf(stdout, "== %s (section %s)\n", p.Name, p.Section)
			}
			opts.Log, opts.LogLevel = stdout, 2
			res, err = verifier.Verify(p, sl.obj.Maps, opts)
		} else {
			res, err = outcomes[i].Result, outcomes[i].Err
		}
		if *asJSON {
			v := verdictOf(p, res, err)
			if len(files) > 1 {
				v.Object = sl.file
			}
			verdicts = append(verdicts, v)
			if err != nil {
				status = 1
			}
			continue
		}
		if *logAll && res != nil {
			fmt.Fprintf(stdout, "processed %d insns (limit %d) total_states %d pruned %d\n",
				res.Processed, verifier.DefaultMaxInsns, res.States, res.Pruned)
		}
		if err != nil {
			status = 1
			fmt.Fprintf(stdout, "%s: %s: rejected: %v\n", sl.file, p.Name, err)
			var verr *verifier.Error
			if errors.As(err, &verr) && verr.Source != "" {
				fmt.Fprintf(stdout, "\t; %s\n", verr.Source)
			}
			continue
		}
		depth := 0
		for _, d := range res.StackDepth {
			depth = max(depth, d)
		}
		fmt.Fprintf(stdout, "%s: %s: accepted (%d insns, processed %d, %d states, %d pruned, stack %d B",
			sl.file, p.Name, res.Slots, res.Processed, res.States, res.Pruned, depth)
		if res.MaxPacketOffset >= 0 {
			fmt.Fprintf(stdout, ", packet bytes used %d", res.MaxPacketOffset)
		}
		fmt.Fprintln(stdout, ")")
		for _, w := range res.Warnings {
			fmt.Fprintf(stdout, "\twarning: %s\n", strings.TrimSpace(w))
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(verdicts); err != nil {
			fmt.Fprintf(stderr, "nfpcc verify: %v\n", err)
			return 2
		}
	}
	return status
}

// verdict is the --json form of one program's verification.
type verdict struct {
	Object          string   `json:"object,omitempty"` // with several objects
	Program         string   `json:"program"`
	Section         string   `json:"section"`
	Accepted        bool     `json:"accepted"`
	Error           *vError  `json:"error,omitempty"`
	Insns           int      `json:"insns,omitempty"`
	Processed       int      `json:"processed,omitempty"`
	States          int      `json:"states,omitempty"`
	StackDepth      []int    `json:"stack_depth,omitempty"`
	MaxPacketOffset int      `json:"max_packet_offset,omitempty"`
	Warnings        []string `json:"warnings,omitempty"`
}

type vError struct {
	PC     int    `json:"pc"`
	Insn   string `json:"insn,omitempty"`
	Source string `json:"source,omitempty"`
	Reason string `json:"reason"`
}

func verdictOf(p *loader.Program, res *verifier.Result, err error) verdict {
	v := verdict{Program: p.Name, Section: p.Section, Accepted: err == nil}
	if err != nil {
		var verr *verifier.Error
		if errors.As(err, &verr) {
			v.Error = &vError{PC: verr.PC, Insn: verr.Insn, Source: verr.Source, Reason: verr.Reason}
		} else {
			v.Error = &vError{PC: -1, Reason: err.Error()}
		}
		return v
	}
	v.Insns, v.Processed, v.States = res.Slots, res.Processed, res.States
	v.StackDepth, v.MaxPacketOffset, v.Warnings = res.StackDepth, res.MaxPacketOffset, res.Warnings
	return v
}
