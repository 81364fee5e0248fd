package fuzz

import (
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite/gen"
)

// Case is one program with the frames it runs on: what a generated
// program, a minimized one and a regression file all are. The program's
// seed also seeds bpf_get_prandom_u32 on both engines.
type Case struct {
	P       *gen.Program
	Packets [][]byte
}

// Generated is the case of seed: gen.Generate's program and npkt of
// gen.Packets' frames for it.
func Generated(seed uint64, cfg gen.Config, npkt int) *Case {
	p := gen.Generate(seed, cfg)
	return &Case{P: p, Packets: gen.Packets(p, seed, npkt)}
}

// Insns are the case's instructions.
func (c *Case) Insns() asm.Instructions { return c.P.Insns }

// Object is the case as a loader object with one program.
func (c *Case) Object() *loader.Object { return c.P.Object() }

// Check compiles the case and runs its packets on both engines.
func (c *Case) Check(opts Options) Outcome {
	opts.Seed = c.P.Seed
	return Check(c.Object(), 0, c.Packets, opts)
}

// clone copies the case deeply enough for the minimizer to change the
// copy's instructions, functions and packets.
func (c *Case) clone() *Case {
	p := *c.P
	p.Insns = append(asm.Instructions(nil), c.P.Insns...)
	p.Funcs = append([]loader.Func(nil), c.P.Funcs...)
	q := &Case{P: &p}
	for _, pkt := range c.Packets {
		q.Packets = append(q.Packets, append([]byte(nil), pkt...))
	}
	return q
}
