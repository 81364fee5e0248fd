package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/lift"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/passes"
)

// compileImage writes the image of one program (the one named, or the
// object's only entry program) to out ("-": stdout), or with listing its
// disassembly instead (to out, else stdout), as clang -S writes assembly
// and no object.
// statsOptions ask compileImage for --stats (and packets to time).
type statsOptions struct{ packets [][]byte }

// mirStages are the backend texts --emit=mir --stage= can print.
var mirStages = []string{"alloc", "isel", "banks", "sched"}

// compileImage compiles the one selected program and writes its image, its
// listing (-S) or, with stage set (--emit=mir), that backend stage's text.
func compileImage(path, out string, listing bool, stage string, copts compiler.Options, sopts *statsOptions, stdout, stderr io.Writer) int {
	var staged []byte
	if stage != "" {
		copts.BackendDump = func(_, s, text string) {
			if s == stage {
				staged = []byte(text)
			}
		}
	}
	obj, err := loader.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	pc := copts.Passes
	imgs, rep, err := compiler.Compile(obj, copts)
	if rep != nil {
		for _, r := range rep.Programs {
			printRemarks(stderr, r.Name, r.Remarks, pc)
		}
	}
	if err != nil {
		if rep == nil {
			fmt.Fprintf(stderr, "nfpcc: %s: %v\n", path, err)
			return 1
		}
		for _, r := range rep.Programs {
			printRefusal(stderr, path, r.Name, r.Err)
		}
		return 1
	}
	if len(rep.Programs) > 1 {
		var names []string
		for _, r := range rep.Programs {
			names = append(names, r.Name)
		}
		fmt.Fprintf(stderr, "nfpcc: %s: %d programs (%s): choose one with --prog\n", path, len(names), strings.Join(names, ", "))
		return 2
	}
	img := imgs[0]
	if sopts != nil {
		if err := writeStats(stderr, img, rep.Programs[0].Stats, sopts.packets); err != nil {
			fmt.Fprintf(stderr, "nfpcc: --stats: %v\n", err)
			return 1
		}
	}
	var data []byte
	switch {
	case stage != "":
		if staged == nil {
			fmt.Fprintf(stderr, "nfpcc: %s: no %s stage at this level (-O0 has no bank allocation or scheduling)\n", path, stage)
			return 1
		}
		data = staged
		if out == "" {
			out = "-"
		}
	case listing:
		data = []byte(writeListing(img))
		if out == "" {
			out = "-"
		}
	default:
		var b bytes.Buffer
		if err := img.Write(&b); err != nil {
			fmt.Fprintf(stderr, "nfpcc: %s: %v\n", path, err)
			return 1
		}
		data = b.Bytes()
	}
	if err := writeOutput(out, data, stdout); err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	return 0
}

// printRefusal writes why a program did not compile as `nfpcc verify`
// prints a rejection: file, program, slot, instruction, reason, then the C
// source line where the object has BTF line info.
func printRefusal(w io.Writer, path, prog string, err error) {
	if err == nil {
		return
	}
	fmt.Fprintf(w, "nfpcc: %s: %s: %v\n", path, prog, err)
	var verr *verifier.Error
	if errors.As(err, &verr) && verr.Source != "" {
		fmt.Fprintf(w, "\t; %s\n", verr.Source)
	}
}

// printRemarks writes the remarks of the passes flagged -d=PASS/debug.
func printRemarks(w io.Writer, prog string, rs []passes.Remark, pc passes.Config) {
	for _, r := range rs {
		if pc.Flags[r.Pass] != "debug" {
			continue
		}
		where := prog
		if r.Func != prog && r.Func != "" {
			where += ": " + r.Func
		}
		fmt.Fprintf(w, "%s: %s: %s\n", where, r.Pass, r)
	}
}

// levelFlags are -O0, -O1 and -O2 (the default) and -d.
type levelFlags struct {
	o0, o1, o2 *bool
	d          *string
}

func addLevelFlags(fs *flag.FlagSet) levelFlags {
	return levelFlags{
		o0: fs.Bool("O0", false, "no optimisation: only the passes correctness needs (the Linux JIT's one-to-one baseline)"),
		o1: fs.Bool("O1", false, "the cheap passes: constants and branches from facts, copies, dead code, CFG"),
		o2: fs.Bool("O2", false, "every pass (the default)"),
		d:  fs.String("d", "", "middle-end debug flags, comma-separated: check (ir.Check after every pass), PASS/debug (print its remarks), PASS/off, PASS/dump (print the IR after it)"),
	}
}

// config is the passes.Config the flags ask for; set reports whether a
// level was given.
func (l levelFlags) config(stderr io.Writer) (cfg passes.Config, set bool, err error) {
	n := 0
	for i, b := range []*bool{l.o0, l.o1, l.o2} {
		if *b {
			n++
			cfg.Level = []passes.Level{passes.O0, passes.O1, passes.O2}[i]
		}
	}
	if n > 1 {
		return cfg, true, fmt.Errorf("give one of -O0, -O1, -O2")
	}
	if err := cfg.ParseDebug(*l.d); err != nil {
		return cfg, n > 0, err
	}
	cfg.Dump = func(pass string, m *ir.Module) {
		fmt.Fprintf(stderr, "# after %s\n%s", pass, ir.Print(m))
	}
	return cfg, n > 0, nil
}

// compileMain is the default action, `nfpcc prog.o -o prog.nfp [--prog
// NAME] [-S]`: it compiles one program to an NFP image (compiler.Compile);
// -S prints the image's disassembly. `--emit=ir` prints the SSA IR of each
// program (loaded, verified, lifted) instead.
func compileMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("nfpcc", stdout, stderr,
		"nfpcc PROG.o [-o PROG.nfp] [flags]   (default output: PROG.nfp beside PROG.o; -o - for stdout)",
		"nfpcc PROG.o -S [-o PROG.s]          (the listing instead of the image)",
		"nfpcc PROG.o --emit=ir [-O0|-O1|-O2] [--after=PASS] [--prog NAME] [--no-verify] [--no-facts] [-o FILE]",
		"nfpcc PROG.o --emit=mir [--stage=alloc|isel|banks|sched] [-O1|-O2] [--prog NAME] [-o FILE]",
		"nfpcc PROG.o --dump-passes=FUNC [-O0|-O1|-O2] [-o passes.html]",
		"passes (in order): "+strings.Join(passes.Names(), ", "))
	emit := fs.String("emit", "", "what to write instead of an NFP image: ir (the SSA IR after lifting), mir (the backend's text at --stage)")
	mirStage := fs.String("stage", "sched", "with --emit=mir: alloc (where each value lives), isel (machine IR as selected), banks (after bank allocation) or sched (after scheduling; `nfpcc as` assembles it)")
	progName := fs.String("prog", "", "only this program of the object (by function name)")
	out := fs.String("o", "", "output file, - for stdout (default: the image beside the object, PROG.nfp; with -S or --emit, stdout)")
	noVerify := fs.Bool("no-verify", false, "lift without running the verifier (no facts, no dead-path pruning)")
	noFacts := fs.Bool("no-facts", false, "print the IR without its !facts (still lifted with them)")
	listing := fs.Bool("S", false, "write the image's listing (to -o's file, else stdout) instead of the image; `nfpcc as` assembles it back")
	xdp := fs.Bool("xdp", false, "treat programs whose section names no hook as XDP")
	tc := fs.Bool("tc", false, "compile the programs as tc (cls_bpf direct action), whatever their sections say (= --type=tc)")
	typeName := fs.String("type", "", "program type of every selected program, whatever its section says: xdp or tc (as nfpcc verify --type)")
	mcpu := fs.String("mcpu", "corenic", "target: corenic (what the Linux nfp driver and CoreNIC firmware run) or emulator (nfpcc's firmware model: global data, any tc return code, larger maps)")
	lf := addLevelFlags(fs.FlagSet)
	after := fs.String("after", "", "with --emit=ir: the IR after this pass (implies -O2 unless a level is given)")
	dump := fs.String("dump-passes", "", "write an HTML page with function `FUNC` after every pass (-o FILE, else stdout)")
	stats := fs.Bool("stats", false, "print the program's words, registers per bank, spills, scheduler figures and, for --packet/--pcap, model cycles per packet (stderr)")
	var packets packetList
	fs.Var(&packets, "packet", "with --stats: a packet as hex bytes to run the image on (repeatable)")
	pcapIn := fs.String("pcap", "", "with --stats: run the image on the packets of this pcap or pcapng file")
	files, status, err := fs.parse(args)
	if err != nil {
		return status
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	if err := checkOutput(*out, files[0]); err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	if *out == "" && !*listing && *emit == "" && *dump == "" {
		*out = defaultOutput(files[0], ".nfp")
	}
	path := files[0]
	pc, levelSet, err := lf.config(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	if *after != "" {
		if passes.Lookup(*after) == nil {
			fmt.Fprintf(stderr, "nfpcc: --after=%s: no such pass (passes: %s)\n", *after, strings.Join(passes.Names(), ", "))
			return 2
		}
		pc.StopAfter = *after
	}
	override, err := typeFlag(*typeName, *tc)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	if *dump != "" {
		return dumpPasses(path, *progName, *dump, *out, override, *xdp, pc, stdout, stderr)
	}
	stage := ""
	if *emit == "mir" {
		if !slices.Contains(mirStages, *mirStage) {
			fmt.Fprintf(stderr, "nfpcc: --stage=%s: want one of %s\n", *mirStage, strings.Join(mirStages, ", "))
			return 2
		}
		stage = *mirStage
	}
	switch *emit {
	case "ir":
	case "", "mir":
		copts := compiler.Options{Prog: *progName, DefaultXDP: *xdp, Type: override, Passes: pc, MCPU: *mcpu}
		if _, err := verifier.TargetForMCPU(*mcpu); err != nil {
			fmt.Fprintf(stderr, "nfpcc: %v\n", err)
			return 2
		}
		var sopts *statsOptions
		if *stats {
			sopts = &statsOptions{}
			if len(packets) > 0 || *pcapIn != "" {
				in, err := readInputs(*pcapIn, packets)
				if err != nil {
					fmt.Fprintf(stderr, "nfpcc: --stats: %v\n", err)
					return 2
				}
				for _, p := range in {
					sopts.packets = append(sopts.packets, p.data)
				}
			}
		} else if len(packets) > 0 || *pcapIn != "" {
			fmt.Fprintln(stderr, "nfpcc: --packet and --pcap go with --stats (to run a program: nfpcc run)")
			return 2
		}
		return compileImage(path, *out, *listing, stage, copts, sopts, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "nfpcc: unknown --emit=%s (want ir or mir)\n", *emit)
		return 2
	}
	obj, err := loader.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	progs, err := selectPrograms(obj, *progName)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %s: %v\n", path, err)
		return 2
	}
	var b strings.Builder
	written := 0
	for _, p := range progs {
		m, err := liftProgram(obj, p, !*noVerify, override, *xdp)
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc: %s: %s: %v\n", path, p.Name, err)
			status = 1
			continue
		}
		// --emit=ir prints the lifted IR unless a level or --after asks
		// for the passes.
		if levelSet || *after != "" {
			rs, err := passes.Run(m, pc)
			printRemarks(stderr, p.Name, rs, pc)
			if err != nil {
				fmt.Fprintf(stderr, "nfpcc: %s: %s: %v\n", path, p.Name, err)
				status = 1
				continue
			}
		}
		if *noFacts {
			for _, f := range m.Funcs {
				f.Facts = map[int]*ir.Facts{}
			}
		}
		if len(progs) > 1 {
			// Several programs in one text: qualify subprogram names with
			// their program so that the whole output is one valid module.
			qualify(m, m.Funcs[0].Name)
			if written > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "# program %s, section %s\n", p.Name, p.Section)
		}
		b.WriteString(ir.Print(m))
		written++
	}
	if *out == "" {
		*out = "-"
	}
	if err := writeOutput(*out, []byte(b.String()), stdout); err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	return status
}

// typeFlag is the program type --type or --tc asks for (none: the
// sections decide).
func typeFlag(name string, tc bool) (ebpf.ProgramType, error) {
	if tc {
		if name != "" && name != "tc" {
			return 0, fmt.Errorf("--tc and --type=%s contradict each other", name)
		}
		name = "tc"
	}
	if name == "" {
		return ebpf.UnspecifiedProgram, nil
	}
	t, ok := progTypes[name]
	if !ok {
		return 0, fmt.Errorf("unknown program type %q (xdp, tc, …)", name)
	}
	return t, nil
}

// liftProgram verifies (unless told not to) and lifts one program, of
// the type the selection rule gives it (loader.EffectiveType).
func liftProgram(obj *loader.Object, p *loader.Program, verify bool, override ebpf.ProgramType, xdp bool) (*ir.Module, error) {
	if t := loader.EffectiveType(p, override, xdp); t != p.Type {
		q := *p
		q.Type = t
		p = &q
	}
	if !verify {
		return lift.Program(p, nil)
	}
	m, _, err := lift.Verified(p, obj.Maps, nil)
	var verr *verifier.Error
	if errors.As(err, &verr) {
		return nil, fmt.Errorf("rejected by the verifier: %v", err)
	}
	return m, err
}

// qualify renames the subprograms of m to prog.name.
func qualify(m *ir.Module, prog string) {
	rename := map[string]string{}
	for i, f := range m.Funcs {
		if i > 0 {
			rename[f.Name] = prog + "." + f.Name
			f.Name = rename[f.Name]
		}
	}
	for _, f := range m.Funcs {
		for _, b := range f.Blocks {
			for _, v := range b.Instrs {
				if n, ok := rename[v.Sym]; ok && v.Op == ir.OpCallFn {
					v.Sym = n
				}
			}
		}
	}
}
