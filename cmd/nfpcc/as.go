package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/asm"
	"github.com/nfpcc/nfpcc/isa/image"
)

func init() {
	register(&command{
		name:    "as",
		summary: "assemble NFP assembly (GNU objdump syntax, or a Linux JIT / objdump dump) into a .nfp image",
		run:     asMain,
	})
}

// asMain implements `nfpcc as FILE.s -o FILE.nfp [--type xdp|tc] …`.
//
// Branches to addresses inside the code get RELO_BR_REL relocations, so
// the image loads at any code-store offset; targets beyond the code (the
// JIT's pre-relocation exits `br[.15000]`) are kept as written, and
// load-time targets written as relocation kinds (`br[@out(outro)]`,
// `br[@next_pkt]`, `br[@helper(1)]`, `immed[gprA_0, @rel(label)]`) become
// the image's relocations. Each word's line-table entry names its source
// line. With --jit the placeholders of a Linux JIT dump are read back as
// the relocations the kernel kept aside (asm.InferJITRelocs).
func asMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("as", stdout, stderr, "nfpcc as FILE.s [-o FILE.nfp] [--type xdp|tc] [--name NAME] [--entry N] [--stack BYTES] [--ctx8] [--style kernel|netronome] [--jit] [--obj PROG.bpf.o]")
	out := fs.String("o", "", "output image (default: FILE with extension .nfp)")
	typ := fs.String("type", "xdp", "program type: xdp or tc")
	name := fs.String("name", "", "program name (default: FILE's base name)")
	entry := fs.Uint("entry", 0, "entry word")
	stack := fs.Uint("stack", 0, "eBPF stack size in bytes")
	ctx8 := fs.Bool("ctx8", false, "registers are numbered for 8-context mode (default 4-context, as eBPF offload runs)")
	jit := fs.Bool("jit", false, "FILE is a Linux JIT dump: turn its placeholder branches (br[.15000]) into the kernel's relocations (the default when FILE looks like one: \"ADDR:\t.N  insn\" lines)")
	objFlag := fs.String("obj", "", "the eBPF object whose maps the code uses (default for a JIT dump X.asm: X.bpf.o beside it, if present)")
	style := fs.String("style", "kernel", "values of the fields objdump does not print: kernel (the Linux JIT's) or netronome (Netronome's assembler's)")
	files, status, err := fs.parse(args)
	if err != nil {
		return status
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	src := files[0]
	pt, err := image.ParseProgType(*typ)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc as: %v\n", err)
		return 2
	}
	text, err := readInput(src)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc as: %v\n", err)
		return 2
	}
	opt := asm.Options{Mode: isa.Ctx4}
	switch *style {
	case "kernel":
	case "netronome":
		opt.Style = asm.StyleNetronome
	default:
		fmt.Fprintf(stderr, "nfpcc as: unknown --style %q (want kernel or netronome)\n", *style)
		return 2
	}
	if *ctx8 {
		opt.Mode = isa.Ctx8
	}
	prog, err := asm.Assemble(src, text, opt)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	isDump := nfpDumpFirstLine.Match(bytes.SplitN(text, []byte("\n"), 2)[0])
	if isDump {
		// A dump keeps the kernel's placeholders: without its relocations
		// the image would branch to .15000.
		*jit = true
	}
	objPath := *objFlag
	if objPath == "" && isDump {
		if p := strings.TrimSuffix(src, filepath.Ext(src)) + ".bpf.o"; isBPFObject(p) {
			objPath = p
		}
	}
	if *jit {
		if err := asm.InferJITRelocs(prog); err != nil {
			fmt.Fprintf(stderr, "nfpcc as: %s: %v\n", src, err)
			return 2
		}
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	}
	if *out == "" {
		*out = defaultOutput(src, ".nfp")
	}
	if err := checkOutput(*out, src, *objFlag); err != nil {
		fmt.Fprintf(stderr, "nfpcc as: %v\n", err)
		return 2
	}
	img := &image.Image{Program: image.Program{
		Name: *name, Type: pt, Entry: uint32(*entry), StackSize: uint32(*stack),
	}}
	for i, w := range prog.Words {
		img.Code = append(img.Code, uint64(w))
		img.Lines = append(img.Lines, image.Line{Addr: uint32(i), PC: image.NoPC, File: src, Line: uint32(prog.Lines[i])})
	}
	// The maps the code uses, from the object, so that the image runs as
	// the dump does with that object (`nfpcc run X.asm X.bpf.o`).
	if objPath != "" {
		obj, err := loader.Load(objPath)
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc as: %v\n", err)
			return 2
		}
		img.Maps = compiler.Maps(obj)
		if len(img.Maps) > 0 {
			img.Program.Caps |= image.CapMaps
		}
	}
	// asm's relocation kinds are numbered as the kernel's, as image's are.
	for _, r := range prog.Relocs {
		img.Relocs = append(img.Relocs, image.Reloc{Index: uint32(r.Word), Kind: image.RelocKind(r.Kind), Value: uint32(r.Value)})
		if r.Kind == asm.RelocBrHelper {
			img.Program.Caps |= image.CapFunc
		}
	}
	if isListing(text) {
		// A listing from `nfpcc -S` says everything the image had: flags
		// that would say it otherwise are refused rather than ignored.
		var clash []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "type", "name", "entry", "stack", "obj", "jit":
				clash = append(clash, "--"+f.Name)
			}
		})
		if len(clash) > 0 {
			fmt.Fprintf(stderr, "nfpcc as: %s is a listing from nfpcc -S, which carries the program's type, name, entry, stack and maps: drop %s\n", src, strings.Join(clash, ", "))
			return 2
		}
		if err := readListing(src, text, img); err != nil {
			fmt.Fprintf(stderr, "nfpcc as: %v\n", err)
			return 2
		}
	}
	data, err := img.Marshal()
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc as: %s: %v\n", src, err)
		return 2
	}
	if err := writeOutput(*out, data, stdout); err != nil {
		fmt.Fprintf(stderr, "nfpcc as: %v\n", err)
		return 2
	}
	return 0
}
