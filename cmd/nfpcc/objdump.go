package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

func init() {
	register(&command{
		name:    "objdump",
		summary: "disassemble NFP code (an .nffw/.nfp ELF, or --raw words) as GNU objdump does, or an eBPF object in the kernel's syntax",
		run:     objdumpMain,
	})
}

// objdumpMain implements `nfpcc objdump [-M ctx4|ctx8[,no-pc]] [--raw] FILE`.
// Its output is GNU objdump 2.40's (`objdump -d`, target nfp-elf) line for
// line.
func objdumpMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("objdump", stdout, stderr,
		"nfpcc objdump [-d] [-S] [--no-show-raw-insn] [-M ctx4|ctx8[,no-pc]] [--raw] FILE.nfp|FILE.nffw",
		"nfpcc objdump [-d] [-S] [--no-show-raw-insn] PROG.o   (eBPF, in the kernel's syntax)")
	var mopts []string
	fs.Func("M", "disassembler options: ctx4, ctx8, no-pc (comma-separated, may repeat)", func(s string) error {
		mopts = append(mopts, strings.Split(s, ",")...)
		return nil
	})
	raw := fs.Bool("raw", false, "FILE holds raw words: hex, one per line, or little-endian 64-bit binary")
	fs.Bool("d", true, "disassemble (the only action; accepted as objdump and llvm-objdump take it)")
	fs.Bool("disassemble", true, "the same as -d")
	var source, noRaw bool
	fs.BoolVar(&source, "S", false, "interleave the C source lines (an image's line table, an object's BTF line info; source files read from disk)")
	fs.BoolVar(&source, "source", false, "the same as -S")
	fs.BoolVar(&noRaw, "no-show-raw-insn", false, "do not print the instruction words (bytes for eBPF)")
	files, status, err := fs.parse(normalizeObjdumpArgs(args))
	if err != nil {
		return status
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	var o isa.ObjdumpOptions
	for _, m := range mopts {
		switch strings.TrimSpace(m) {
		case "ctx4":
			if o.Force == 0 { // as GNU: ctx8 takes precedence
				o.Force = isa.Ctx4
			}
		case "ctx8":
			o.Force = isa.Ctx8
		case "no-pc":
			o.NoPC = true
		case "":
		default:
			fmt.Fprintf(stderr, "nfpcc objdump: invalid NFP option: %s\n", m)
			return 2
		}
	}
	path := files[0]
	data, err := loader.ReadCapped(path, maxImageInput)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc objdump: %v\n", err)
		return 2
	}
	if !*raw && isBPFData(data) {
		return objdumpBPF(stdout, stderr, path, source, noRaw)
	}
	var secs []isa.CodeSection
	var lines []image.Line
	if *raw {
		words, err := parseRawWords(data)
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc objdump: %s: %v\n", path, err)
			return 2
		}
		secs = []isa.CodeSection{{Name: ".text", Words: words, Opts: isa.Options{Mode: isa.Ctx8}}}
		o.Format = "raw-nfp"
	} else {
		secs, err = isa.ReadCodeSections(bytes.NewReader(data))
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc objdump: %s: %v\n", path, err)
			return 2
		}
		if img, err := image.Read(bytes.NewReader(data)); err == nil {
			p := img.Program
			o.Header = fmt.Sprintf("program %s: type %v, mcpu %v", p.Name, p.Type, p.MCPU)
			lines = img.Lines
		}
	}
	var b bytes.Buffer
	if err := isa.WriteObjdump(&b, path, secs, o); err != nil {
		fmt.Fprintf(stderr, "nfpcc objdump: %v\n", err)
		return 2
	}
	if !source && !noRaw {
		stdout.Write(b.Bytes())
		return 0
	}
	var src *sourceFiles
	if source {
		src = newSourceFiles(path, lines)
	}
	writeObjdumpEdited(stdout, b.String(), src, noRaw)
	return 0
}

// objdumpWord is an instruction line of WriteObjdump's output: byte
// address, word, the rest.
var objdumpWord = regexp.MustCompile(`^(\s*([0-9a-f]+):\t)([0-9a-f]{16}) \t(.*)$`)

// writeObjdumpEdited applies -S and --no-show-raw-insn to GNU objdump's
// text: the source line of each word whose line-table entry differs from
// the previous one's goes before it; without raw words a line reads as a
// Linux JIT dump does ("ADDR:\t.N  insn"), which `nfpcc as` reads back.
func writeObjdumpEdited(w io.Writer, text string, src *sourceFiles, noRaw bool) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		m := objdumpWord.FindStringSubmatch(l)
		if m == nil {
			fmt.Fprintln(bw, l)
			continue
		}
		if src != nil {
			addr, _ := strconv.ParseUint(m[2], 16, 32)
			src.before(bw, uint32(addr/8))
		}
		if noRaw {
			fmt.Fprintf(bw, "%s%s\n", m[1], strings.TrimLeft(m[4], " "))
		} else {
			fmt.Fprintln(bw, l)
		}
	}
}

// normalizeObjdumpArgs accepts GNU spellings: -Mctx4 and
// --disassembler-options=ctx4.
func normalizeObjdumpArgs(args []string) []string {
	var out []string
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "-M") && len(a) > 2 && a[2] != '=':
			out = append(out, "-M", a[2:])
		case strings.HasPrefix(a, "--disassembler-options="):
			out = append(out, "-M", strings.TrimPrefix(a, "--disassembler-options="))
		default:
			out = append(out, a)
		}
	}
	return out
}

// parseRawWords reads hex words, one per line (optional 0x, blank lines and
// '#' comments allowed), or else a binary of little-endian 64-bit words.
func parseRawWords(data []byte) ([]isa.Word, error) {
	if words, err, isText := parseHexWords(data); isText {
		return words, err
	}
	if len(data)%8 != 0 {
		return nil, fmt.Errorf("binary input of %d bytes is not a whole number of 64-bit words", len(data))
	}
	words := make([]isa.Word, len(data)/8)
	for i := range words {
		words[i] = isa.Word(binary.LittleEndian.Uint64(data[8*i:]))
	}
	return words, nil
}

// parseHexWords parses text input; isText is false when the data does not
// look like text at all (then it is taken as binary).
func parseHexWords(data []byte) (words []isa.Word, err error, isText bool) {
	for _, c := range data {
		if c == 0 || c >= 0x80 {
			return nil, nil, false
		}
	}
	for n, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		v, perr := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(line, "0x"), "0X"), 16, 64)
		if perr != nil {
			return nil, fmt.Errorf("line %d: %q is not a hex word", n+1, line), true
		}
		words = append(words, isa.Word(v))
	}
	return words, nil, true
}
