package isa

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// PCColumn is objdump's program-counter column "%*c%d  ": a dot right
// aligned so that the numbers of a section line up, for instruction pc of a
// section of n instructions.
func PCColumn(pc, n int) string {
	width := 1
	for t := n; t > 9; t /= 10 {
		width++
	}
	for t := pc; t > 9; t /= 10 {
		width--
	}
	if width < 1 {
		width = 1
	}
	return fmt.Sprintf("%*c%d  ", width, '.', pc)
}

// addrWidth is the number of hex digits objdump prints for addresses of a
// section of size bytes at address 0: the 16-digit address with leading
// zeros dropped in groups of four, keeping at least one.
func addrWidth(size uint64) int {
	s := fmt.Sprintf("%016x", size)
	skip := 0
	for skip < len(s) && s[skip] == '0' {
		skip++
	}
	if skip != 0 {
		skip = (skip - 1) &^ 3
	}
	return 16 - skip
}

// ObjdumpLine is one instruction line of `objdump -d`: the byte address
// (right-aligned to the section's address width), the word, the pc column
// and the text. n is the number of instructions in the section.
func ObjdumpLine(i, n int, w Word, opt Options) string {
	return objdumpLine(i, i, n, n, w, opt)
}

func objdumpLine(i, pc, n, pcMax int, w Word, opt Options) string {
	aw := addrWidth(uint64(n) * 8)
	col := PCColumn(pc, pcMax)
	if opt.NoPC {
		col = ""
	}
	return fmt.Sprintf("%*x:\t%016x \t%s%s", aw, i*8, uint64(w), col, Disasm(w, opt))
}

// SectionLines returns the lines of one section as objdump prints them
// after its "Disassembly of section" line: symbol lines ("\n%016x <name>:"),
// instruction lines and "\t..." for a run of zero words.
func SectionLines(cs CodeSection) []string {
	n := len(cs.Words)
	pcMax := n
	if cs.SCS {
		pcMax = 2 * n
		if cs.ME&1 == 1 {
			pcMax++
		}
	}
	var lines []string
	lab := 0
	switch {
	case len(cs.Labels) == 0:
		lines = append(lines, fmt.Sprintf("%016x <%s>:", 0, cs.Name))
	case cs.Labels[0].Word != 0:
		// objdump names the words before the first symbol relative to it.
		lines = append(lines, fmt.Sprintf("%016x <%s-0x%x>:", 0, cs.Labels[0].Name, 8*cs.Labels[0].Word))
	}
	for i := 0; i < n; i++ {
		for lab < len(cs.Labels) && cs.Labels[lab].Word < i {
			lab++
		}
		if lab < len(cs.Labels) && cs.Labels[lab].Word == i {
			if i != 0 {
				lines = append(lines, "")
			}
			lines = append(lines, fmt.Sprintf("%016x <%s>:", 8*i, cs.Labels[lab].Name))
		}
		if cs.Words[i] == 0 {
			// objdump skips a run of zero bytes of at least one word.
			// The run ends at the next label: objdump disassembles symbol by symbol.
			end := n
			if lab < len(cs.Labels) && cs.Labels[lab].Word > i {
				end = cs.Labels[lab].Word
			} else if lab+1 < len(cs.Labels) {
				end = cs.Labels[lab+1].Word
			}
			j := i
			for j < end && cs.Words[j] == 0 {
				j++
			}
			lines = append(lines, "\t...")
			i = j - 1
			continue
		}
		pc := i
		if cs.SCS {
			pc = 2 * i
			if cs.ME&1 == 1 {
				pc++
			}
		}
		lines = append(lines, objdumpLine(i, pc, n, pcMax, cs.Words[i], cs.Opts))
	}
	return lines
}

// ObjdumpOptions are GNU objdump's NFP -M options.
type ObjdumpOptions struct {
	// Force, if not zero, overrides every section's context mode
	// (-M ctx4 / ctx8).
	Force Mode
	// NoPC drops the ".N" program-counter column (-M no-pc).
	NoPC bool
	// Format is the "file format" name of the header ("elf64-nfp" if empty).
	Format string
	// Header is an extra header line after the file format (nfpcc images:
	// the program, its type and target); none when empty, as GNU objdump.
	Header string
}

// WriteObjdump prints sections the way `objdump -d [-M …] FILE` does.
func WriteObjdump(w io.Writer, file string, sections []CodeSection, o ObjdumpOptions) error {
	format := o.Format
	if format == "" {
		format = "elf64-nfp"
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "\n%s:     file format %s\n", file, format)
	if o.Header != "" {
		fmt.Fprintf(bw, "%s\n", o.Header)
	}
	bw.WriteString("\n")
	for _, cs := range sections {
		if len(cs.Words) == 0 {
			continue // objdump prints nothing for an empty section
		}
		if o.Force != 0 {
			cs.Opts.Mode = o.Force
		}
		cs.Opts.NoPC = o.NoPC
		fmt.Fprintf(bw, "\nDisassembly of section %s:\n\n", cs.Name)
		bw.WriteString(strings.Join(SectionLines(cs), "\n"))
		bw.WriteString("\n")
	}
	return bw.Flush()
}
