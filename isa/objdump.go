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

// SectionLines returns the instruction lines of one section as objdump
// prints them, including its "\t..." line for a run of zero words.
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
	for i := 0; i < n; i++ {
		if cs.Words[i] == 0 {
			// objdump skips a run of zero bytes of at least one word.
			j := i
			for j < n && cs.Words[j] == 0 {
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
}

// WriteObjdump prints sections the way `objdump -d [-M …] FILE` does.
func WriteObjdump(w io.Writer, file string, sections []CodeSection, o ObjdumpOptions) error {
	format := o.Format
	if format == "" {
		format = "elf64-nfp"
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "\n%s:     file format %s\n\n", file, format)
	for _, cs := range sections {
		if len(cs.Words) == 0 {
			continue // objdump prints nothing for an empty section
		}
		if o.Force != 0 {
			cs.Opts.Mode = o.Force
		}
		cs.Opts.NoPC = o.NoPC
		fmt.Fprintf(bw, "\nDisassembly of section %s:\n\n", cs.Name)
		fmt.Fprintf(bw, "%016x <%s>:\n", 0, cs.Name)
		bw.WriteString(strings.Join(SectionLines(cs), "\n"))
		bw.WriteString("\n")
	}
	return bw.Flush()
}
