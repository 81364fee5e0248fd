package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nfpcc/nfpcc/backend"
	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/lift"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/ir"
)

// compileImage writes the image of one program (the one named, or the
// object's only entry program).
func compileImage(path, prog, out string, listing, xdp bool, stdout, stderr io.Writer) int {
	obj, err := loader.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %v\n", err)
		return 2
	}
	imgs, rep, err := compiler.Compile(obj, compiler.Options{Prog: prog, DefaultXDP: xdp})
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc: %s: %v\n", path, err)
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
	if out == "" && !listing {
		fmt.Fprintf(stderr, "nfpcc: %s: no output: give -o FILE or -S\n", path)
		return 2
	}
	if out != "" {
		var b strings.Builder
		if err := img.Write(&b); err != nil {
			fmt.Fprintf(stderr, "nfpcc: %s: %v\n", path, err)
			return 1
		}
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintf(stderr, "nfpcc: %v\n", err)
			return 2
		}
	}
	if listing {
		io.WriteString(stdout, backend.Listing(img))
	}
	return 0
}

// compileMain is the default action, `nfpcc prog.o -o prog.nfp [--prog
// NAME] [-S]`: it compiles one program to an NFP image (compiler.Compile);
// -S prints the image's disassembly. `--emit=ir` prints the SSA IR of each
// program (loaded, verified, lifted) instead.
func compileMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nfpcc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	emit := fs.String("emit", "", "what to write instead of an NFP image: ir (the SSA IR after lifting)")
	progName := fs.String("prog", "", "only this program of the object (by function name)")
	out := fs.String("o", "", "output file (the NFP image; with --emit, the emitted text)")
	noVerify := fs.Bool("no-verify", false, "lift without running the verifier (no facts, no dead-path pruning)")
	noFacts := fs.Bool("no-facts", false, "print the IR without its !facts (still lifted with them)")
	listing := fs.Bool("S", false, "print the image's disassembly (to -o's file when no image is written, else stdout)")
	xdp := fs.Bool("xdp", false, "treat programs whose section names no hook as XDP")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nfpcc PROG.o -o PROG.nfp [flags]")
		fmt.Fprintln(stderr, "       nfpcc PROG.o --emit=ir [--prog NAME] [--no-verify] [--no-facts] [-o FILE]")
		fs.PrintDefaults()
	}
	var files []string
	for rest := args; len(rest) > 0; {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	path := files[0]
	switch *emit {
	case "ir":
	case "":
		return compileImage(path, *progName, *out, *listing, *xdp, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "nfpcc: unknown --emit=%s (want ir)\n", *emit)
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
	status := 0
	var b strings.Builder
	written := 0
	for _, p := range progs {
		m, err := liftProgram(obj, p, !*noVerify)
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc: %s: %s: %v\n", path, p.Name, err)
			status = 1
			continue
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
	if *out != "" && *out != "-" {
		if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintf(stderr, "nfpcc: %v\n", err)
			return 2
		}
		return status
	}
	io.WriteString(stdout, b.String())
	return status
}

// liftProgram verifies (unless told not to) and lifts one program.
func liftProgram(obj *loader.Object, p *loader.Program, verify bool) (*ir.Module, error) {
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
