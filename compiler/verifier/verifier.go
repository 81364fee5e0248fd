// Package verifier proves eBPF programs safe the way the Linux kernel's
// verifier does (kernel/bpf/verifier.c), and records what it learnt at
// every instruction so that later stages (compiler/lift) can use it.
//
// It is an abstract interpreter that walks every path of the program from
// the entry, with the kernel's domains: per register a kind (scalar, ctx,
// stack, packet, packet end, packet metadata, map, map value, map value or
// null), a tnum and signed/unsigned 32/64-bit ranges (tnum.go, scalar.go),
// packet ranges proven by comparisons with data_end, spilled registers and
// per-byte initialisation on the stack (state.go, mem.go). Paths meet at
// checkpoints (jump targets, call returns); a path whose state is included
// in a fully explored checkpoint's state is pruned, as the kernel's
// states_equal does, and a path that returns to a checkpoint of its own
// ancestry with an included state is an infinite loop. Together with the
// one-million-instruction budget this makes verification terminate on every
// input. Bounded loops are unrolled by this exploration, as in the kernel.
//
// A rejection is an *Error that prints like the kernel's log:
// "12: (61) r2 = *(u32 *)(r1 +4) invalid access to packet, off=4 size=4, R1(r=0)".
// Accepted programs come with Result.Facts: per instruction, the join over
// every path of each register's abstract value before the instruction runs.
//
// Target-specific limits (the NFP's offload rules) are a Target (target.go)
// checked on top of the kernel's rules.
package verifier

import (
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// DefaultMaxInsns is the kernel's processed-instruction budget
// (BPF_COMPLEXITY_LIMIT_INSNS).
const DefaultMaxInsns = 1_000_000

// maxPending is the kernel's limit on pending branches (BPF_COMPLEXITY_LIMIT_JMP_SEQ).
const maxPending = 8192

// maxCheckpoints bounds the states kept per instruction; beyond it new
// states are explored without being remembered (less pruning, still sound).
const maxCheckpoints = 4096

// maxHist is the longest history kept between two checkpoints (precise
// pruning).
const maxHist = 64

// maxOpenCompared is how many recent open states are compared for loop
// detection.
const maxOpenCompared = 32

// Options tune one verification.
type Options struct {
	// Type overrides the program type (Program.Type by default).
	Type ebpf.ProgramType
	// Target adds a device's restrictions (NFPTarget); nil checks only what
	// the kernel checks.
	Target *Target
	// Log receives the verifier log: at LogLevel 1 the error, at LogLevel 2
	// also the state before every processed instruction (the kernel's
	// log_level 2).
	Log      io.Writer
	LogLevel int
	// MaxInsns is the processed-instruction budget (DefaultMaxInsns if 0).
	MaxInsns int
	// Context overrides the context layout of the program type.
	Context *ContextLayout
	// Entry overrides registers of the entry state (r1 is the context and
	// r10 the frame pointer by default); used by tests that start from a
	// given abstract state.
	Entry map[asm.Register]Reg
	// EntryStack initialises bytes of the entry frame's stack.
	EntryStack []StackBytes
	// Unprivileged applies the rules the kernel applies to a loader
	// without CAP_PERFMON (allow_ptr_leaks and bypass_spec_v1 off): no
	// pointer subtraction, no ALU on pointers beyond add/sub of scalars, no
	// perfmon helpers. The default is root's rules: offloading a program
	// needs CAP_SYS_ADMIN or CAP_BPF.
	Unprivileged bool
	// Assume lists conditional jumps whose fall-through is declared
	// infeasible: only the taken branch, refined by the condition, is
	// followed. Test harnesses encode assumptions this way.
	Assume map[int]bool
	// VerdictOnly asks for the verdict alone: paths are pruned as the
	// kernel prunes them, comparing exactly only the values the explored
	// continuation relied on (precision tracking, precise.go), which makes
	// big programs verify in a fraction of the work. Result.Facts is then
	// nil: facts joined over the explored paths would not cover the pruned
	// ones. Ignored with a Target (whose checks read values the precision
	// tracking does not follow).
	VerdictOnly bool
}

// StackBytes is an initialised stack area of the entry state: Size bytes
// at frame offset Off (negative). An 8-byte aligned area with a Value of
// kind ScalarKind is a spilled number; anything else is initialised bytes
// of unknown value.
type StackBytes struct {
	Off, Size int32
	Value     Reg
}

// Result is what verification learnt about an accepted program.
type Result struct {
	// Facts holds, per instruction slot, the abstract state before the
	// instruction (a LD_IMM64's second slot is not reachable); nil with
	// Options.VerdictOnly.
	Facts []InsnFacts
	// Slots is the program's length in instruction slots.
	Slots int
	// Processed counts instructions interpreted (the kernel's "processed N insns").
	Processed int
	// States counts checkpoints kept, Pruned paths cut at a checkpoint.
	States, Pruned int
	// StackDepth is each subprogram's deepest stack byte (index as Program.Funcs).
	StackDepth []int
	// MaxPacketOffset is the largest packet offset the program may access
	// (the NFP driver's max_pkt_offset), -1 if it never touches the packet.
	MaxPacketOffset int
	// Warnings are notes that do not reject the program (target differences).
	Warnings []string
	// Forgot is set when a verdict-only run forgot values as the kernel
	// forgets them (pointer differences, zero stack bytes): it may then
	// explore paths the facts mode, knowing more, does not.
	Forgot bool
}

// Error is a rejection: where, which instruction, why.
type Error struct {
	PC     int    // instruction slot
	Insn   string // the instruction in the kernel's syntax
	Source string // the source line from BTF line info, if known
	Reason string
}

func (e *Error) Error() string {
	if e.PC < 0 {
		return e.Reason
	}
	return fmt.Sprintf("%d: (%s) %s", e.PC, e.Insn, e.Reason)
}

// Verify checks prog with the maps of its object (loader.Object.Maps) and
// returns its facts, or an *Error saying why the program is unsafe.
func Verify(prog *loader.Program, maps []*loader.Map, opts *Options) (*Result, error) {
	if opts == nil {
		opts = &Options{}
	}
	v, err := newVM(prog, maps, opts)
	if err != nil {
		return nil, err
	}
	err = v.verify()
	if err != nil && v.coarsened {
		// Precise pruning forgot a value as the kernel forgets it (a
		// pointer difference, zero stack bytes) and the program was
		// rejected: the verdict is the one with nfpcc's own knowledge
		// (the facts mode's), so verify again keeping it.
		if opts.Log != nil && opts.LogLevel >= 2 {
			fmt.Fprintf(opts.Log, "%v\n; again with what the kernel forgets kept\n", err)
		}
		if v, err = newVM(prog, maps, opts); err != nil {
			return nil, err
		}
		v.keepAll = true
		err = v.verify()
	}
	if err != nil {
		if opts.Log != nil {
			fmt.Fprintln(opts.Log, err)
			if e, ok := err.(*Error); ok && e.Source != "" {
				fmt.Fprintf(opts.Log, "; %s\n", e.Source)
			}
		}
		return nil, err
	}
	return v.result(), nil
}

// forgets reports whether this run forgets what the kernel forgets (see
// ptrDiff, forgetZeros): under precise pruning, unless it is the second
// run of a program rejected after forgetting. Knowing less is always
// sound; it makes states that differ only in such values prune one
// another, as in the kernel.
func (v *vm) forgets() bool { return v.precise && !v.keepAll }

// verify explores the program and applies the checks made after
// exploration.
func (v *vm) verify() error {
	err := v.run()
	if err == nil {
		err = v.checkFixups()
	}
	if err == nil && v.target != nil {
		err = v.target.checkEnd(v)
	}
	return err
}

// vm is one verification in progress.
type vm struct {
	prog     *loader.Program
	maps     []*loader.Map // the object's maps, then inner-map templates
	nObjMaps int           // how many of maps are the object's
	opts     *Options
	progType ebpf.ProgramType
	ctx      *ContextLayout
	target   *Target

	insns  []*asm.Instruction // by slot; nil for a LD_IMM64's second slot
	funcOf []int              // by slot: the subprogram it belongs to
	funcs  []int              // first slot of each subprogram
	prune  []bool             // by slot: a checkpoint is taken here
	live   []uint16           // by slot: registers read before written from here
	facts  []InsnFacts

	open       [][]*checkpoint // per pc: states being explored
	done       [][]doneEntry   // per pc: fully explored states
	processed  int
	nstates    int
	pruned     int
	nextID     uint32
	stackDepth []int
	maxPkt     int
	warnings   map[string]bool
	// typeAt records the pointer kind each memory instruction dereferences
	// (the NFP rule "one instruction, one pointer type").
	typeAt map[int]Kind
	// tailMap is the program array each tail call site used (-1: several),
	// for Options.Unprivileged.
	tailMap map[int]int
	// stackOffAt records a stack access's constant offset per instruction (NFP).
	stackOffAt map[int]int32
	// nfp is what the NFP target's rules spanning paths record (target_forms.go).
	nfp nfpState

	// precise is set for precision-tracked pruning (Options.VerdictOnly).
	precise bool
	// ent is the history entry of the instruction being interpreted, need
	// (when needAny) the values its checks relied on, before it ran.
	ent     histEntry
	need    precSet
	needAny bool
	// sreads and swrites are the stack halves it read, and overwrote whole.
	sreads, swrites slotMask
	// depth is the most call frames a state has had.
	depth int
	// links are the linked-scalar sets of conditional jumps
	// (histEntry.link).
	links []precSet
	// stackHi is one more than the last frame with bits in sreads or
	// swrites (0: none).
	stackHi int
	// cbEntered is set when the instruction forked a callback's entry.
	cbEntered bool
	// keepAll keeps, under precise pruning, what the kernel forgets and
	// the facts mode knows (the second run of Verify, forgets); coarsened
	// records that something was forgotten.
	keepAll, coarsened bool
	// free are states released for reuse by clone.
	free []*State
	// keyMaps are the pseudo maps of callback key arguments, by map.
	keyMaps map[int]int
}

// checkpoint is a remembered state at an instruction (the kernel's
// bpf_verifier_state_list entry). branches counts the paths descending
// from it that are still being explored; at zero the state is fully
// verified and may prune others.
//
// Its pointers come first: the garbage collector scans an object only up
// to its last pointer.
type checkpoint struct {
	st     *State
	parent *checkpoint
	// hist is the instructions from the parent checkpoint to this one,
	// prec what the continuation relied on (precise pruning).
	hist     []histEntry
	branches int
	pc       int
	prec     precSet
	// live are the stack slots the continuation reads (precise pruning),
	// written those the instructions from the parent overwrote whole.
	live, written slotMask
}

// path is one pending exploration: a state at a pc, and (precise pruning)
// the instructions it executed since its last checkpoint.
type path struct {
	st     *State
	pc     int
	parent *checkpoint
	hist   []histEntry
	// written are the stack slots overwritten whole since the last
	// checkpoint (precise pruning).
	written slotMask
}

func (v *vm) newID() uint32 { v.nextID++; return v.nextID }

func (v *vm) errorf(pc int, format string, a ...any) *Error {
	e := &Error{PC: pc, Reason: fmt.Sprintf(format, a...)}
	if pc >= 0 && pc < len(v.insns) && v.insns[pc] != nil {
		e.Insn = Disasm(*v.insns[pc])
		if s := v.insns[pc].Source(); s != nil {
			e.Source = strings.TrimSpace(s.String())
		}
	}
	return e
}

func (v *vm) warn(format string, a ...any) {
	if v.warnings == nil {
		v.warnings = map[string]bool{}
	}
	v.warnings[fmt.Sprintf(format, a...)] = true
}

// run explores every path depth first.
func (v *vm) run() error {
	stack := []path{{st: v.entryState(), pc: 0}}
	v.depth = len(stack[0].st.frames)
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for {
			// Facts first, so that a path pruned here still counts at pc.
			if !v.precise {
				v.record(p.pc, p.st)
			}
			if v.prune[p.pc] {
				done, err := v.checkpoint(&p)
				if err != nil {
					return err
				}
				if done {
					v.pruned++
					v.endPath(p.parent)
					v.release(p.st)
					break
				}
			}
			v.processed++
			if v.processed > v.maxInsns() {
				return v.errorf(-1, "BPF program is too large. Processed %d insn", v.processed)
			}
			if v.opts.LogLevel >= 2 && v.opts.Log != nil {
				v.logState(p.pc, p.st)
			}
			if v.precise {
				v.ent = histEntry{pc: int32(p.pc), frame: int8(len(p.st.frames) - 1), sframe: -1}
				v.needAny = false
			}
			v.cbEntered = false
			next, alt, err := v.step(p.st, p.pc)
			if err != nil {
				return err
			}
			if v.precise {
				if v.needAny {
					v.backtrack(p.hist, p.parent, v.need)
					v.need = precSet{}
				}
				v.slotsUsed(&p)
				if p.hist == nil {
					// Checkpoints are a few instructions apart: one
					// allocation instead of growing from one entry.
					p.hist = make([]histEntry, 0, 8)
				}
				p.hist = append(p.hist, v.ent)
				if len(p.hist) >= maxHist {
					// A link without a state bounds the walk of each
					// backtrack where no checkpoint is taken.
					p.parent = &checkpoint{parent: p.parent, branches: 1, pc: -1, hist: p.hist, written: p.written}
					p.hist, p.written = nil, slotMask{}
				}
			}
			if alt != nil {
				if len(stack) >= maxPending {
					return v.errorf(p.pc, "The sequence of %d jumps is too complex.", len(stack))
				}
				if p.parent != nil {
					p.parent.branches++
				}
				var h []histEntry
				if v.precise {
					h = append(make([]histEntry, 0, len(p.hist)+8), p.hist...)
					if v.cbEntered {
						h[len(h)-1].cb = cbEntry
					}
				}
				stack = append(stack, path{st: alt.st, pc: alt.pc, parent: p.parent, hist: h, written: p.written})
			}
			if next < 0 { // the path ended (exit of main, or infeasible)
				v.endPath(p.parent)
				v.release(p.st)
				break
			}
			p.pc = next
		}
	}
	return nil
}

func (v *vm) maxInsns() int {
	if v.opts.MaxInsns > 0 {
		return v.opts.MaxInsns
	}
	return DefaultMaxInsns
}

// checkpoint prunes p against the states remembered at its pc, or
// remembers p's state. It reports whether p is done.
//
// Fully explored states (done) prune; states still being explored (open)
// only detect infinite loops, when one of them is an ancestor of p that
// includes p's state. Only the most recent open states are compared: a loop
// that repeats a state repeats it soon, and any other loop runs into the
// instruction budget.
func (v *vm) checkpoint(p *path) (bool, error) {
	live := v.live[p.pc]
	done := v.done[p.pc]
	var lastModes uint32
	var lastSig uint64
	for i := len(done) - 1; i >= 0; i-- {
		e := &done[i]
		if i == len(done)-1 || e.modes != lastModes {
			lastModes, lastSig = e.modes, stateSig(p.st, e.modes)
		}
		if lastSig != e.sig {
			e.misses++
			continue
		}
		c := e.c
		var prec *precSet
		var slive *slotMask
		if v.precise {
			prec, slive = &c.prec, &c.live
		}
		if e.hint.fails(c.st, p.st, live, prec, slive) {
			e.misses++
			continue
		}
		if coversWhere(c.st, p.st, live, prec, slive, &e.hint) {
			e.hits++
			if v.precise {
				// p continues as c's explored path: what that relied on,
				// p's past must provide too.
				v.backtrack(p.hist, p.parent, c.prec)
				var reads slotMask
				for f := range reads {
					for w := range reads[f] {
						reads[f][w] = c.live[f][w] &^ p.written[f][w]
					}
				}
				liveReads(p.parent, reads)
			}
			return true, nil
		}
		e.misses++
	}
	// Forget fully explored states that keep missing (the kernel's
	// miss_cnt heuristic), so the scan stays short.
	kept := done[:0]
	for _, e := range done {
		if e.misses <= 3*e.hits+3 {
			kept = append(kept, e)
		} else {
			// A done checkpoint is nobody's parent: its state is free.
			v.release(e.c.st)
			e.c.st = nil
		}
	}
	clear(done[len(kept):])
	v.done[p.pc] = kept
	if v.callbackSite(p.pc) && widenCallback(p) && !v.precise {
		v.record(p.pc, p.st) // the facts cover the widened state too
	}
	if v.callbackSite(p.pc) {
		// A callback's next invocation: a state included in one still
		// being explored adds nothing (its exploration covers it). That
		// state's precision and liveness are not final: p's past is
		// marked as needing everything.
		for _, c := range v.open[p.pc] {
			if c.branches > 0 && covers(c.st, p.st, live, nil, nil) {
				if v.precise {
					v.backtrack(p.hist, p.parent, allPrecise)
					var all slotMask
					for f := range all {
						all.setAll(f)
					}
					liveReads(p.parent, all)
				}
				return true, nil
			}
		}
	}
	// States fully explored since they were listed leave the open list
	// (they are in done, or forgotten).
	open := v.open[p.pc][:0]
	for _, c := range v.open[p.pc] {
		if c.branches > 0 {
			open = append(open, c)
		}
	}
	clear(v.open[p.pc][len(open):])
	v.open[p.pc] = open
	for i, n := len(open)-1, 0; i >= 0 && n < maxOpenCompared; i-- {
		c := open[i]
		n++
		if v.callbackSite(p.pc) || !covers(c.st, p.st, live, nil, nil) {
			continue
		}
		for a := p.parent; a != nil; a = a.parent {
			if a == c {
				return false, v.errorf(p.pc, "infinite loop detected at insn %d", p.pc)
			}
		}
	}
	if len(open)+len(v.done[p.pc]) >= maxCheckpoints {
		return false, nil
	}
	c := &checkpoint{st: v.clone(p.st), parent: p.parent, branches: 1, pc: p.pc, hist: p.hist, written: p.written}
	v.open[p.pc] = append(open, c)
	v.nstates++
	p.parent, p.hist, p.written = c, nil, slotMask{}
	return false, nil
}

// endPath tells the ancestors of a finished path that it is done; a
// checkpoint whose every descendant is done becomes a pruning state.
//
// A fully explored checkpoint no longer needs its way back (parent and
// history serve the backtracking of its descendants, all finished): they
// are dropped, so that the ancestors of forgotten states can be freed.
func (v *vm) endPath(c *checkpoint) {
	for c != nil {
		c.branches--
		if c.branches > 0 {
			return
		}
		if c.st != nil {
			v.done[c.pc] = append(v.done[c.pc], v.newDoneEntry(c))
		}
		next := c.parent
		c.parent, c.hist = nil, nil
		c = next
	}
}

func (v *vm) result() *Result {
	r := &Result{Facts: v.facts, Slots: len(v.insns), Processed: v.processed, States: v.nstates, Pruned: v.pruned,
		StackDepth: v.stackDepth, MaxPacketOffset: v.maxPkt, Forgot: v.coarsened}
	for w := range v.warnings {
		r.Warnings = append(r.Warnings, w)
	}
	sortStrings(r.Warnings)
	return r
}

// checkFixups refuses what the kernel refuses after verification, when it
// rewrites instructions (do_misc_fixups).
func (v *vm) checkFixups() error {
	for pc := range v.insns {
		if m, ok := v.tailMap[pc]; ok && m < 0 {
			return v.errorf(-1, "tail_call abusing map_ptr")
		}
	}
	return nil
}
