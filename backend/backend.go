// Package backend lowers nfpcc's SSA IR (package ir) to NFP microengine code
// (package isa) under the Linux nfp JIT's firmware ABI (nfp-isa.md §4), and
// packs it as an .nfp image (isa/image).
//
// What it keeps from the JIT: every value in the same register number of
// banks A and B (written with gpr_wrboth) so that any two values can be an
// instruction's two sources; A20/B20 and A21/B21 as scratch; A22 the stack
// base and B22 the packet length; packet access through transfer registers
// with read32_swap/write8_swap; map helpers through the firmware
// (RELO_BR_HELPER, key at ActLMAddr0, value at ActLMAddr2); the XDP outro.
// What it does differently: SSA values instead of eBPF registers get the
// registers (linear scan), a value whose upper half the verifier proved zero
// has no upper register at all and 64-bit ops on it become 32-bit code,
// zext/trunc cost nothing, and constants and stack addresses are folded into
// the instructions that use them. IR→IR work (inlining, compares the facts
// decide, dead values) is the passes' (docs/passes.md): the backend lowers
// every value and branch it is given.
//
// Anything not supported is an error naming the function, the value and
// its eBPF slot: the backend never writes an image it is unsure of.
package backend

import (
	"fmt"
	"runtime/debug"

	"github.com/nfpcc/nfpcc/backend/sched"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// Options describe the program being compiled.
type Options struct {
	Name string
	Type image.ProgType
	Maps []image.Map
	// Regs limits the registers the allocator may use (0: all); tests
	// set it low to exercise spilling.
	Regs int
	// NoSched skips the scheduler (backend/sched): the machine IR as
	// instruction selection made it is laid out.
	NoSched bool
	// Dump, when set, receives each stage's text: "alloc" (where each
	// value lives, allocText), then the machine IR after "isel", "banks"
	// (bank allocation, banks.go; not at Baseline) and "sched" in mir's
	// text form.
	Dump func(stage, mir string)
	// MapLayout says the firmware places maps as nfpcc's model does (map
	// i at EMEM 0x80_0000_0000 + i<<32, ARRAY values at power-of-two
	// strides; emulator/nfp): ARRAY lookups are then inlined
	// (array_lookup.go). CoreNIC promises no layout and no relocation
	// says where its maps are, so there they call the firmware.
	MapLayout bool
	// Baseline asks for the Linux JIT's one-to-one code (-O0): every
	// 64-bit value keeps its upper register unless its type says it is
	// 32 bits (the verifier's facts narrow nothing), no packet read
	// windows, length compares or shift fusion, no materialised
	// constants and no scheduling. It is what the optimisations are
	// measured against (nfpcc report's -O0 column).
	Baseline bool
}

// Stats are figures about one compiled program.
type Stats struct {
	Words     int // all code words
	BodyWords int // words before the outro
	Regs      int // most registers live at once
	Spilled   int // values kept in local memory (slots are shared)
	// DeferFilled counts defer slots the scheduler filled, ComparesDropped
	// the compares it removed because the previous word set the flags.
	DeferFilled, ComparesDropped int
	// LMWaitsFilled counts the nops after LM pointer writes the scheduler
	// replaced with work (sched.LMFill).
	LMWaitsFilled int
	// MemHoisted counts words moved before blocking memory commands
	// (sched.MemHoist).
	MemHoisted int
	// RegsA and RegsB count the register numbers the code uses in each
	// bank after bank allocation (banks.go); Narrowed the writes selection
	// made to both banks that now write one; MovesDeleted the moves that
	// became no-ops.
	RegsA, RegsB, Narrowed, MovesDeleted int
	// BanksSkipped says why bank allocation left the code as selection
	// made it (code it cannot follow); empty when it ran.
	BanksSkipped string
}

// Error is an unsupported construct.
type Error struct {
	Func string
	Pos  int // eBPF slot, or -1
	Msg  string
}

func (e *Error) Error() string {
	if e.Pos >= 0 {
		return fmt.Sprintf("%s: eBPF slot %d: %s", e.Func, e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Func, e.Msg)
}

type gen struct {
	f       *ir.Func
	opts    Options
	a       *asm
	info    []vinfo
	frame   int64 // fp's byte offset from the stack base (A22)
	blocks  map[*ir.Block]label
	abort   label
	out     label
	maxRegs int
	// usesAdjustHead asks for the firmware's adjust_head capability.
	usesAdjustHead bool
	usesAdjustTail bool
	// spillBytes is the size of the spill area at the bottom of the frame;
	// the eBPF stack lies above it.
	spillBytes int64
	// staging is the size of the area after the spill area where map
	// helpers' unaligned stack keys and values are copied (staging.go).
	staging       int64
	divScratch    int64 // LM byte of the 64-bit division's scratch words (lower_div.go)
	spilledValues int
	lm3           int64 // base of the LM3 window in force, -1 if none
	// trampolines are taken-branch edges with block arguments, emitted
	// after the body.
	tramps []tramp
	// groups are the packet loads that share a read (pktcache.go).
	groups map[*ir.Value]*pktGroup
	// baseOff is each grouped load's pointer's offset from its group's
	// base pointer (pktBase).
	baseOff map[*ir.Value]int64
	// fused maps an OR/AND to the shift it applies itself (fuse.go).
	fused map[*ir.Value]fusion
	// pktExits are the out-of-bounds exits of legacy packet loads: r0 = 0.
	pktExits []label
	// pktNegs are the out-of-line parts of BPF_LD IND (negative offsets).
	pktNegs []pktNeg
}

type tramp struct {
	l   label
	src *ir.Value
	t   ir.Target
}

func (g *gen) fail(v *ir.Value, format string, args ...any) {
	pos := -1
	if v != nil {
		pos = v.Pos
	}
	panic(&Error{Func: g.f.Name, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// Compile lowers the module (an entry function without subprograms) to an
// image. Internal errors come back as "BUG in backend: …".
func Compile(m *ir.Module, opts Options) (img *image.Image, st Stats, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				err = e
				return
			}
			err = fmt.Errorf("BUG in backend: %v\n%s", r, debug.Stack())
		}
	}()
	if len(m.Funcs) == 0 {
		return nil, st, fmt.Errorf("no functions")
	}
	f := m.Funcs[0]
	if len(m.Funcs) > 1 {
		// passes' inline (required at every level) makes one function.
		return nil, st, fmt.Errorf("BUG in backend: %d functions: BPF-to-BPF calls are inlined by the passes before the backend", len(m.Funcs))
	}
	if opts.Type != image.ProgXDP && opts.Type != image.ProgTC {
		return nil, st, &Error{Func: f.Name, Pos: -1, Msg: fmt.Sprintf("program type %s is not supported (XDP and tc only)", opts.Type)}
	}
	g := &gen{f: f, opts: opts, a: &asm{}, blocks: map[*ir.Block]label{}, lm3: -1}
	g.classify()
	g.foldUnusedParams()
	g.checkAtomicWords()
	if opts.Baseline {
		g.groups, g.baseOff = map[*ir.Value]*pktGroup{}, map[*ir.Value]int64{}
	} else {
		g.materializeConstants()
		g.groupPacketLoads()
		g.markFolded()
		g.fuseShifts()
	}
	if err := g.allocate(); err != nil {
		return nil, st, &Error{Func: f.Name, Pos: -1, Msg: err.Error()}
	}
	if opts.Dump != nil {
		opts.Dump("alloc", g.allocText())
	}
	g.staging = g.stagingSize()
	g.frame = g.spillBytes + g.staging + int64(f.StackSize+7)&^7
	if g.frame > image.MaxStack {
		return nil, st, &Error{Func: f.Name, Pos: -1, Msg: fmt.Sprintf("%d bytes of stack and %d of spilled values and staged helper arguments exceed the %d-byte frame", f.StackSize, g.spillBytes+g.staging, image.MaxStack)}
	}
	g.lower()
	if opts.Dump != nil {
		opts.Dump("isel", g.a.f.Print())
	}
	var bs bankStats
	if !opts.Baseline {
		if bs, err = allocateBanks(&g.a.f); err != nil {
			return nil, st, fmt.Errorf("BUG in backend: %v", err)
		}
		if opts.Dump != nil {
			opts.Dump("banks", g.a.f.Print())
		}
	}
	var ss sched.Stats
	if !opts.NoSched && !opts.Baseline {
		ss = sched.Run(&g.a.f)
		if opts.Dump != nil {
			opts.Dump("sched", g.a.f.Print())
		}
	}
	if n := len(g.a.f.Instrs); n > image.MaxCode {
		// Branches reach 14 bits of the code store (each 32-bit
		// division by a register unrolls to ~200 words).
		return nil, st, &Error{Func: f.Name, Pos: -1, Msg: fmt.Sprintf("the program needs %d words of code, more than the %d a branch can reach", n, image.MaxCode)}
	}
	code, relocs, lines, err := g.a.f.Encode()
	if err != nil {
		return nil, st, err
	}
	caps := image.Caps(0)
	for _, r := range relocs {
		if r.Kind == image.RelocBrHelper {
			caps |= image.CapFunc
		}
	}
	if len(opts.Maps) > 0 {
		caps |= image.CapMaps
	}
	if g.usesAdjustHead {
		caps |= image.CapAdjustHead
	}
	if g.usesAdjustTail {
		caps |= image.CapAdjustTail
	}
	if g.usesRandom() {
		caps |= image.CapRandom
	}
	img = &image.Image{
		Program: image.Program{Name: opts.Name, Type: opts.Type, StackSize: uint32(f.StackSize), Caps: caps},
		Code:    code, Relocs: relocs, Maps: opts.Maps, Lines: lines,
	}
	st = Stats{Words: len(code), BodyWords: g.a.f.Labels[g.abort], Regs: g.maxRegs, Spilled: g.spilledValues,
		DeferFilled: ss.Filled, ComparesDropped: ss.Compares, LMWaitsFilled: ss.LMFilled, MemHoisted: ss.Hoisted,
		RegsA: bs.regsA, RegsB: bs.regsB, Narrowed: bs.narrowed, MovesDeleted: bs.copies, BanksSkipped: bs.skipped}
	return img, st, nil
}

func (g *gen) usesRandom() bool {
	for _, b := range g.f.Blocks {
		for _, v := range b.Instrs {
			if v.Op == ir.OpCall && v.Imm == 7 {
				return true
			}
		}
	}
	return false
}

// lower emits the prologue, the blocks in layout order, the taken-edge
// trampolines, the outro and the prefetch padding.
func (g *gen) lower() {
	a := g.a
	g.abort, g.out = a.newLabel(), a.newLabel()
	for _, b := range g.f.Blocks {
		g.blocks[b] = a.newLabel()
	}
	a.pc = -1
	// Prologue: B22 = packet length from the packet vector.
	a.emit(isa.Immed(isa.GPRB(regStack), 0x3fff), isa.ALU(isa.GPRB(regStack), isa.GPRB(regStack), isa.OpAnd, isa.LM(1, 0)))
	for i, b := range g.f.Blocks {
		a.place(g.blocks[b])
		g.lm3 = -1
		var next *ir.Block
		if i+1 < len(g.f.Blocks) {
			next = g.f.Blocks[i+1]
		}
		for _, v := range b.Instrs {
			a.pc = v.Pos
			g.lowerValue(v, next)
		}
	}
	if len(g.pktExits) > 0 {
		a.pc = -1
		for _, l := range g.pktExits {
			a.place(l)
		}
		a.emit(isa.Immed(isa.GPRBoth(0), 0), isa.Immed(isa.GPRBoth(1), 0))
		a.reloc(isa.BR, image.RelocBrGoOut, g.out, 0, 0)
	}
	for _, n := range g.pktNegs {
		g.pktNegPath(n)
	}
	for _, t := range g.tramps {
		a.place(t.l)
		g.lm3 = -1
		a.pc = t.src.Pos
		g.edge(t.src, t.t, nil)
	}
	a.pc = -1
	if g.opts.Type == image.ProgTC {
		g.outroTC()
	} else {
		g.outroXDP()
	}
	for i := 0; i < 8; i++ {
		a.emit(isa.Nop())
	}
}

// outroXDP is the Linux JIT's XDP outro (nfp-isa.md §4.4, §8.1): r0 0–3
// becomes the firmware's action code, anything else aborts; then 8 nops so
// instruction prefetch never runs off the program.
func (g *gen) outroXDP() {
	a := g.a
	a.place(g.abort)
	a.reloc(isa.BR, image.RelocBrNextPkt, 0, 0, 2)
	a.emit(isa.Mov(isa.GPRA(0), isa.Imm(0)), isa.LdField(isa.GPRA(0), 0xc, isa.Imm(0x82), isa.ShiftL, 16, false))
	a.place(g.out)
	a.emit(isa.ALU(isa.None, isa.Imm(3), isa.OpSub, isa.GPRB(0)))
	a.branch(isa.BCC, g.abort, 0)
	a.emit(isa.Immed(isa.GPRB(2), 0x2282), isa.ImmedW(isa.GPRB(2), 0x4411, 1),
		isa.Shf(isa.GPRA(1), isa.None, isa.ShfB, isa.GPRB(0), isa.ShiftL, 3),
		isa.ALU(isa.None, isa.GPRA(1), isa.OpOr, isa.Imm(0)),
		isa.Shf(isa.GPRB(2), isa.Imm(0xff), isa.ShfAnd, isa.GPRB(2), isa.ShiftR, 0))
	a.reloc(isa.BR, image.RelocBrNextPkt, 0, 0, 2)
	a.emit(isa.Mov(isa.GPRA(0), isa.Imm(0)), isa.LdField(isa.GPRA(0), 0xc, isa.GPRB(2), isa.ShiftL, 16, false))
}

// outroTC is the Linux JIT's tc direct-action outro (nfp-isa.md §4.4):
// r0 above 7 passes the packet (TC_ACT_UNSPEC's code 0x11); otherwise the
// code's two nibbles come from two tables indexed by r0: 0x22 for SHOT,
// 0x02 for STOLEN and QUEUED, 0x44 for REDIRECT, 0x11 for the rest.
func (g *gen) outroTC() {
	a := g.a
	a.place(g.abort)
	a.reloc(isa.BR, image.RelocBrNextPkt, 0, 0, 2)
	a.emit(isa.Mov(isa.GPRA(0), isa.Imm(0)), isa.LdField(isa.GPRA(0), 0xc, isa.Imm(0x11), isa.ShiftL, 16, false))
	a.place(g.out)
	a.emit(isa.ALU(isa.None, isa.Imm(7), isa.OpSub, isa.GPRB(0)))
	a.branch(isa.BLO, g.abort, 0)
	a.emit(isa.Mov(isa.GPRA(0), isa.Imm(0)))
	a.emit(isa.LoadImm32(isa.GPRB(2), 0x41221211)...)
	a.emit(isa.LoadImm32(isa.GPRB(3), 0x41001211)...)
	a.emit(isa.Shf(isa.GPRA(1), isa.None, isa.ShfB, isa.GPRB(0), isa.ShiftL, 2),
		isa.ALU(isa.None, isa.GPRA(1), isa.OpOr, isa.Imm(0)),
		isa.Shf(isa.GPRA(2), isa.Imm(0xf), isa.ShfAnd, isa.GPRB(2), isa.ShiftR, 0),
		isa.ALU(isa.None, isa.GPRA(1), isa.OpOr, isa.Imm(0)),
		isa.Shf(isa.GPRB(2), isa.Imm(0xf), isa.ShfAnd, isa.GPRB(3), isa.ShiftR, 0))
	a.reloc(isa.BR, image.RelocBrNextPkt, 0, 0, 2)
	a.emit(isa.Shf(isa.GPRB(2), isa.GPRA(2), isa.ShfOr, isa.GPRB(2), isa.ShiftL, 4),
		isa.LdField(isa.GPRA(0), 0xc, isa.GPRB(2), isa.ShiftL, 16, false))
}
