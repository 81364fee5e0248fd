package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/isa/image"
)

// sourceFiles prints the C lines of `objdump -S`: the image's line table
// names file and line per word; the files are read from disk, at the path
// the compiler recorded or else beside the image (as GNU objdump, a file
// not found leaves the location only).
type sourceFiles struct {
	dir   string // the image's directory
	byW   map[uint32]image.Line
	files sourceLines
	last  string
}

func newSourceFiles(imagePath string, lines []image.Line) *sourceFiles {
	s := &sourceFiles{dir: filepath.Dir(imagePath), byW: map[uint32]image.Line{}, files: sourceLines{}}
	for _, l := range lines {
		if l.File != "" && l.Line > 0 {
			s.byW[l.Addr] = l
		}
	}
	return s
}

// before prints the source line of word addr if it starts a new one.
func (s *sourceFiles) before(w io.Writer, addr uint32) {
	l, ok := s.byW[addr]
	if !ok {
		return
	}
	key := fmt.Sprintf("%s:%d", l.File, l.Line)
	if key == s.last {
		return
	}
	s.last = key
	if text, ok := s.text(l.File, int(l.Line)); ok {
		fmt.Fprintf(w, "; %s\n", text)
		return
	}
	fmt.Fprintf(w, "; %s:%d\n", filepath.Base(l.File), l.Line)
}

func (s *sourceFiles) text(file string, line int) (string, bool) {
	for _, p := range []string{file, filepath.Join(s.dir, filepath.Base(file))} {
		if t := s.files.text(p, line); t != "" {
			return t, true
		}
	}
	return "", false
}

// isBPFData says whether data is an eBPF ELF object (e_machine 247).
func isBPFData(data []byte) bool {
	return len(data) >= 20 && bytes.HasPrefix(data, []byte("\x7fELF")) && binary.LittleEndian.Uint16(data[18:]) == 247
}

// objdumpBPF disassembles every program of an eBPF object in the kernel
// verifier log's syntax (the one eBPF syntax nfpcc prints), llvm-objdump's
// layout: slot, the 8 bytes of each slot unless noRaw, the instruction;
// with source, the C line from BTF line info before the instructions it
// covers.
func objdumpBPF(w io.Writer, stderr io.Writer, path string, source, noRaw bool) int {
	obj, err := loader.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "nfpcc objdump: %v\n", err)
		return 2
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s:\tfile format elf64-bpf\n", path)
	for _, p := range obj.Programs {
		fmt.Fprintf(&b, "\nDisassembly of program %s (section %s):\n\n", p.Name, p.Section)
		slot := 0
		last := ""
		for _, ins := range p.Insns {
			if source {
				if l, ok := ins.Source().(*btf.Line); ok && l.Line() != "" && l.Line() != last {
					last = l.Line()
					fmt.Fprintf(&b, "; %s\n", strings.TrimSpace(l.Line()))
				}
			}
			fmt.Fprintf(&b, "%4d:\t", slot)
			if !noRaw {
				var raw bytes.Buffer
				if _, err := ins.Marshal(&raw, binary.LittleEndian); err == nil {
					for i, c := range raw.Bytes() {
						if i == 8 {
							b.WriteString("\n      \t")
						}
						fmt.Fprintf(&b, "%02x ", c)
					}
				}
				b.WriteString("\t")
			}
			b.WriteString(verifier.Disasm(ins))
			b.WriteString("\n")
			slot += int(ins.Width())
		}
	}
	io.WriteString(w, b.String())
	return 0
}
