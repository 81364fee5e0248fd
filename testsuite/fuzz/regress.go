package fuzz

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite/gen"
)

// A regression case is a txtar archive (testdata/regress/*.txtar):
//
//	comment        what was found, how, and the bug it was
//	-- program --  the program in gen's text form (seed, type, maps,
//	               functions, instructions in the conformance assembler's
//	               syntax with labels; gen.Parse reads it)
//	-- packets --  one frame a line, in hex ("-" for an empty frame)
//	-- expect --   the reference interpreter's results, packet by packet
//	               (action, r0, packet bytes, events; the maps at the end)
//	-- level --    optional: the optimisation levels to replay at, e.g.
//	               "-O0 -O2" (default -O2): a finding at -O0 or -O1 may
//	               not show at -O2
//	-- regs --     optional: register limits to replay with, e.g. "4" or
//	               "0 2 4" (nfpcc fuzz --regs N; default 0, all registers)
//
// go test replays every case (TestRegressions): the interpreter must still
// give -- expect -- (-update rewrites it) and the compiled image must
// agree with the interpreter.

// Marshal writes c as a regression archive with comment as its header.
func (c *Case) Marshal(comment string) ([]byte, error) {
	var pk strings.Builder
	for _, p := range c.Packets {
		if len(p) == 0 {
			pk.WriteString("-\n")
		} else {
			pk.WriteString(hex.EncodeToString(p) + "\n")
		}
	}
	expect, err := c.Expect()
	if err != nil {
		return nil, err
	}
	a := &txtar.Archive{Comment: []byte(comment), Files: []txtar.File{
		{Name: "program", Data: []byte(c.P.String())},
		{Name: "packets", Data: []byte(pk.String())},
		{Name: "expect", Data: []byte(expect)},
	}}
	return txtar.Format(a), nil
}

// ParseCase reads a regression archive's program and packets.
func ParseCase(name string, data []byte) (*Case, error) {
	a := txtar.Parse(data)
	sec := map[string]string{}
	for _, f := range a.Files {
		sec[f.Name] = string(f.Data)
	}
	for _, s := range []string{"program", "packets"} {
		if _, ok := sec[s]; !ok {
			return nil, fmt.Errorf("%s: no -- %s -- section", name, s)
		}
	}
	p, err := gen.Parse(sec["program"])
	if err != nil {
		return nil, fmt.Errorf("%s: program: %v", name, err)
	}
	c := &Case{P: p}
	for i, line := range strings.Split(strings.TrimSpace(sec["packets"]), "\n") {
		line = strings.TrimSpace(line)
		if line == "-" {
			c.Packets = append(c.Packets, []byte{})
			continue
		}
		b, err := hex.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("%s: packet %d: %v", name, i, err)
		}
		c.Packets = append(c.Packets, b)
	}
	return c, nil
}

// FindingArchive writes f's case (minimized when it was) as a regression
// archive whose level and regs sections replay it under the options that
// found it.
func FindingArchive(f *Finding, comment string) ([]byte, error) {
	c := f.Case
	if f.Reduced != nil {
		c = f.Reduced
	}
	data, err := c.Marshal(comment)
	if err != nil {
		return nil, err
	}
	a := txtar.Parse(data)
	a.Files = append(a.Files, txtar.File{Name: "level", Data: []byte(f.Compile.Passes.Level.String() + "\n")})
	if f.Compile.Regs > 0 {
		a.Files = append(a.Files, txtar.File{Name: "regs", Data: []byte(strconv.Itoa(f.Compile.Regs) + "\n")})
	}
	return txtar.Format(a), nil
}

// ReplayOptions reads an archive's level and regs sections (either may be
// empty) as the compiler options to replay it under: every level with
// every register limit.
func ReplayOptions(level, regs string) ([]compiler.Options, error) {
	sep := func(r rune) bool { return r == ',' || unicode.IsSpace(r) }
	levels := []passes.Level{passes.O2}
	if fs := strings.FieldsFunc(level, sep); len(fs) > 0 {
		levels = levels[:0]
		for _, f := range fs {
			lv, err := passes.ParseLevel(f)
			if err != nil {
				return nil, fmt.Errorf("level: %v", err)
			}
			levels = append(levels, lv)
		}
	}
	limits := []int{0}
	if fs := strings.FieldsFunc(regs, sep); len(fs) > 0 {
		limits = limits[:0]
		for _, f := range fs {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("regs: %q is not a register count", f)
			}
			limits = append(limits, n)
		}
	}
	var out []compiler.Options
	for _, lv := range levels {
		for _, n := range limits {
			out = append(out, compiler.Options{Passes: passes.Config{Level: lv}, Regs: n})
		}
	}
	return out, nil
}

// Expect runs the case's packets on the reference interpreter alone and
// prints what it did, as the -- expect -- section.
func (c *Case) Expect() (string, error) {
	ref, err := ebpfemu.FromObject(c.Object(), 0, ebpfemu.Options{Seed: c.P.Seed})
	if err != nil {
		return "", err
	}
	hook := ebpfemu.HookOf(c.P.Type)
	var b strings.Builder
	for i, p := range c.Packets {
		r, err := ref.Run(0, ebpfemu.Input{Packet: append([]byte(nil), p...)})
		if err != nil {
			fmt.Fprintf(&b, "packet %d: error: %v\n", i, err)
			continue
		}
		fmt.Fprintf(&b, "packet %d: %s r0=%#x %x\n", i, emulator.ActionName(hook, r.Return), r.Return, []byte(r.Packet))
		for _, e := range r.Events {
			fmt.Fprintf(&b, "  event %s cpu %d %x\n", e.Map, e.CPU, []byte(e.Data))
		}
	}
	if len(c.P.Maps) > 0 {
		s, err := ref.Snapshot().Marshal()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "maps: %s\n", bytes.Join(bytes.Fields(s), []byte(" ")))
	}
	return b.String(), nil
}
