package fuzz

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/emulator"
	ebpfemu "github.com/nfpcc/nfpcc/emulator/ebpf"
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
