// Package gen generates random eBPF programs that the kernel's verifier
// (and nfpcc's, compiler/verifier) accepts by construction, for
// differential testing of the NFP compiler: each program is compiled for the
// NFP, run on the NFP emulator and on the reference interpreter over the
// frames Packets makes for it, and the results compared.
//
// How validity is guaranteed: the generator keeps an abstract state that is
// a conservative subset of what the verifier will know at the current
// instruction (state.go): the kind of every register (scalar, context,
// packet pointer with its proven range, data_end, map value, stack
// pointer), which stack bytes are initialised, which slots hold spilled
// pointers. A statement is only emitted when its preconditions hold in that
// state, and control flow is structured (forward diamonds, early exits,
// counted loops whose bodies cannot change a register's kind), so the state
// after a join is the meet of the arms' states. The verifier explores paths
// separately; its knowledge on every path includes the generator's.
//
// How miscompilations become visible: every scalar a statement produces is
// "dirty" until it is folded into an accumulator register (observe); a
// dirty register is folded before it is overwritten, before a call clobbers
// it and at every exit. Exits store the accumulator into the packet (and
// sometimes a map) and derive the return code from it, so a wrong value
// anywhere changes the packet, a map, an event or the action.
//
// Generation is deterministic in (seed, Config) and allocation-light: one
// PCG generator, fixed-size abstract states copied by value, jump targets
// resolved by index at the end, scratch memory pooled (about 30 µs and 16
// allocations for a 190-instruction program: BenchmarkGenerate).
//
// What the programs contain (Coverage names each feature; TestCoverage
// checks they all appear over 2000 seeds): XDP and tc programs; bounds
// checks in all eight compare shapes (p+n against data_end either way
// round, jumping to the failure or to the success path), packet loads of
// 1/2/4/8 bytes at every lane, sign-extending ones, stores of registers and
// immediates, accesses through data + (x & mask) rechecked, header-field
// parsing, LD_ABS/LD_IND (tc), __sk_buff.len; every ALU op in 64 and 32
// bits with register and immediate operands, edge constants and LD_IMM64
// constants with non-zero upper halves, shifts by 0/31/32/63 and by masked
// or unmasked registers, div/mod by registers that may be 0, endianness
// conversions; cpu v4 movsx, ldsx, bswap, sdiv/smod, gotol; all jump
// conditions signed and unsigned, 64 and 32 bits; if-then, if-then-else
// (with values live after the join), early exits, counted loops; stack
// stores and loads of every size, through fp or a register, spills and
// fills of pointers; BPF-to-BPF calls with 0–5 arguments; hash and array
// maps (lookup with null check, update with every flag, delete, value
// accesses at every size and lane, pointers into values), atomics (add;
// and/or/xor, fetch forms, xchg and cmpxchg on map values and the stack
// when refused shapes are on); bpf_get_prandom_u32, bpf_csum_diff,
// bpf_xdp_adjust_head/tail with packet pointers reloaded and rechecked
// after them, bpf_perf_event_output from the stack or a map value.
//
// What they do not contain: packet or context pointers passed to
// callees (callees see scalars only), helper calls or new pointers inside
// loop bodies, nested loops, bpf_loop, tail calls, other helpers and map
// types, global data (PseudoMapValue), data_meta, context fields besides
// data, data_end and len, context stores, variable offsets into map values
// or the stack, packet memory as a helper argument other than
// bpf_csum_diff's (the kernel refuses it for perf_event_output, nfpcc's
// verifier does not), "data_end - data" length checks (nfpcc's verifier
// understands them, the kernel does not). Bytes bpf_xdp_adjust_head
// exposes are left as the helper leaves them (zero in both emulators).
//
// Every program is meant to load into Linux too: 4000 default and 3000
// refused-shape programs were loaded into Linux 6.18 and all accepted, and
// BPF_PROG_TEST_RUN agreed with emulator/ebpf on 5000 of them (programs
// without prandom and perf events, whose results depend on the host).
package gen

import (
	"math/rand/v2"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Stmt is a kind of statement the generator emits; Config.Weights is
// indexed by it.
type Stmt int

// The statements. Each one keeps the program verifiable on its own; their
// weights in Config decide the mix.
const (
	StmtALU        Stmt = iota // add sub mul or and xor mov neg, 64 and 32 bit, reg and imm
	StmtDivMod                 // div and mod (by registers that may be 0, by non-zero immediates)
	StmtShift                  // lsh rsh arsh by immediates (edges) and registers (masked or not)
	StmtSwap                   // le/be conversions and cpu v4 bswap
	StmtMovSX                  // cpu v4 sign-extending moves
	StmtLoadImm64              // LD_IMM64 of edge constants
	StmtBranch                 // if-then and if-then-else on scalar compares
	StmtEarlyExit              // a conditional jump to an exit
	StmtLoop                   // a counted loop the verifier unrolls
	StmtStack                  // stack stores and loads of every size
	StmtSpill                  // spill and fill of pointers
	StmtCall                   // BPF-to-BPF call
	StmtMapLookup              // bpf_map_lookup_elem + null check + value accesses
	StmtMapUpdate              // bpf_map_update_elem
	StmtMapDelete              // bpf_map_delete_elem
	StmtMapValue               // more accesses through a map value pointer already held
	StmtAtomic                 // atomics on map values
	StmtPrandom                // bpf_get_prandom_u32
	StmtCsumDiff               // bpf_csum_diff over a packet range
	StmtAdjustHead             // bpf_xdp_adjust_head (XDP)
	StmtAdjustTail             // bpf_xdp_adjust_tail (XDP)
	StmtPerfOutput             // bpf_perf_event_output
	StmtPktLoad                // packet loads of 1/2/4/8 bytes, any lane, some sign-extending
	StmtPktStore               // packet stores, register and immediate
	StmtVarOffset              // packet access through data + (x & mask), rechecked
	StmtParse                  // header-field compares (ethertype, protocol, ports) giving packet hints
	StmtLdAbs                  // LD_ABS / LD_IND (tc)
	StmtCtxLen                 // __sk_buff.len (tc)
	StmtSelect                 // r = cond ? 1 : 0 (either way) as a branch over one move
	NumStmts
)

var stmtNames = [NumStmts]string{
	"alu", "divmod", "shift", "swap", "movsx", "lddw", "branch", "early-exit", "loop", "stack", "spill",
	"call", "map-lookup", "map-update", "map-delete", "map-value", "atomic", "prandom", "csum-diff",
	"adjust-head", "adjust-tail", "perf-output", "pkt-load", "pkt-store", "var-offset", "parse", "ldabs", "ctx-len",
	"select",
}

func (s Stmt) String() string {
	if s >= 0 && s < NumStmts {
		return stmtNames[s]
	}
	return "stmt?"
}

// Config tunes generation. The zero value generates nothing useful; start
// from DefaultConfig.
type Config struct {
	// MinInsns and MaxInsns bound the size the entry function's body aims
	// at (the final program, with exits and callees, is somewhat larger).
	MinInsns, MaxInsns int
	// TCProb is the probability that a program is tc (SchedCLS) rather than XDP.
	TCProb float64
	// Weights of the statements (relative; 0 disables one).
	Weights [NumStmts]int
	// ALU32Prob is the share of ALU, shift and div/mod statements that are 32-bit.
	ALU32Prob float64
	// JMP32Prob is the share of conditional jumps that compare 32 bits.
	JMP32Prob float64
	// ImmProb is the share of ALU and jump operands that are immediates.
	ImmProb float64
	// CPUv4Prob is the probability that a program may use cpu v4
	// instructions (movsx, ldsx, bswap, sdiv/smod, gotol).
	CPUv4Prob float64
	// NFPRefusedProb is the probability that a program may use shapes the
	// kernel accepts but the NFP backend refuses (64-bit div/mod, signed
	// div/mod, atomics other than add, atomics on the stack, growing the
	// frame's tail, bpf_csum_diff over the stack, variable offsets into map
	// values, XDP_REDIRECT codes). 0 keeps to what the backend compiles.
	NFPRefusedProb float64
	// MaxDepth bounds the nesting of branches and loops.
	MaxDepth int
	// MaxCallees bounds the BPF-to-BPF functions besides the entry.
	MaxCallees int
	// MaxLoopIters bounds loop trip counts.
	MaxLoopIters int
	// MaxPhis bounds the if-then-else joins after which registers the arms
	// wrote stay readable (each may double the verifier's paths).
	MaxPhis int
	// ResultMapProb is the probability that exits also store the
	// accumulator into an array map.
	ResultMapProb float64
}

// DefaultConfig is tuned so that nearly every program compiles for the NFP
// while all features appear over a few hundred seeds.
func DefaultConfig() Config {
	c := Config{
		MinInsns: 50, MaxInsns: 170,
		TCProb:         0.35,
		ALU32Prob:      0.35,
		JMP32Prob:      0.3,
		ImmProb:        0.45,
		CPUv4Prob:      0.5,
		NFPRefusedProb: 0.1,
		MaxDepth:       3,
		MaxCallees:     3,
		MaxLoopIters:   8,
		MaxPhis:        4,
		ResultMapProb:  0.15,
	}
	c.Weights = [NumStmts]int{
		StmtALU: 30, StmtDivMod: 4, StmtShift: 8, StmtSwap: 3, StmtMovSX: 3, StmtLoadImm64: 4,
		StmtBranch: 9, StmtEarlyExit: 4, StmtLoop: 2, StmtStack: 8, StmtSpill: 2, StmtCall: 2,
		StmtMapLookup: 4, StmtMapUpdate: 2, StmtMapDelete: 1, StmtMapValue: 4, StmtAtomic: 2,
		StmtPrandom: 1, StmtCsumDiff: 1, StmtAdjustHead: 1, StmtAdjustTail: 1, StmtPerfOutput: 1,
		StmtPktLoad: 14, StmtPktStore: 6, StmtVarOffset: 2, StmtParse: 4, StmtLdAbs: 3, StmtCtxLen: 1,
		StmtSelect: 3,
	}
	return c
}

// Program is one generated program with the maps it refers to.
type Program struct {
	Seed uint64
	Type ebpf.ProgramType // ebpf.XDP or ebpf.SchedCLS
	// Insns is the linked program in the loader's kernel form: the entry
	// function first, BPF-to-BPF callees after it (each marked with its
	// symbol), jump and call offsets resolved, LD_IMM64 of a map with
	// Src = asm.PseudoMapFD and Constant = index into Maps.
	Insns asm.Instructions
	// Funcs lists the functions in Insns (the entry first, at slot 0).
	Funcs []loader.Func
	// Maps the program refers to, by index.
	Maps []*loader.Map
	// Hints describe packet contents that steer the program down its
	// deeper paths (compared header fields, checked lengths); Packets uses
	// them.
	Hints []Hint
	// sem holds the semantic features the generator used (those an opcode
	// scan cannot see); Coverage adds the opcode features.
	sem Features
}

// Hint is a fact about frames the program treats specially: Size bytes
// Bytes at Off (a compared field, in packet byte order), or, when Size is
// 0, a frame length Off the program checks for.
type Hint struct {
	Off   uint16
	Size  uint8
	Bytes [8]byte
}

// EntryName is the entry function's symbol.
const EntryName = "gen"

// Object wraps the program in a loader.Object, as loader.Load would give
// it: ready for compiler.Compile, verifier.Verify and emulator/ebpf.FromObject.
func (p *Program) Object() *loader.Object {
	sec := "xdp"
	if p.Type == ebpf.SchedCLS {
		sec = "tc"
	}
	return &loader.Object{
		Path: "gen.o",
		Programs: []*loader.Program{{
			Name: EntryName, Section: sec, Type: p.Type, License: "GPL",
			Insns: p.Insns, Funcs: p.Funcs,
		}},
		Maps: p.Maps,
	}
}

// Generate makes the program of seed under cfg; the same seed and cfg give
// an identical program.
func Generate(seed uint64, cfg Config) *Program {
	g := genPool.Get().(*gen)
	// Zero the state, keep the scratch slices' memory.
	*g = gen{labels: g.labels[:0], fix: g.fix[:0], deferred: g.deferred[:0], mapInfo: g.mapInfo[:0], slots: g.slots[:0]}
	g.cfg = &cfg
	g.src.Seed(seed, 0x6e667063632d6765) // "nfpcc-ge"
	g.rng = rand.New(&g.src)
	g.p = &Program{Seed: seed, Type: ebpf.XDP}
	g.insns = make(asm.Instructions, 0, cfg.MaxInsns+cfg.MaxInsns/2+64)
	g.program()
	p := g.p
	g.p, g.insns, g.cfg, g.rng = nil, nil, nil, nil
	genPool.Put(g)
	return p
}

// genPool keeps generators (their scratch slices) between programs.
var genPool = sync.Pool{New: func() any { return new(gen) }}

// fixup is a jump or call whose target is a label.
type fixup struct {
	at    int32 // instruction index
	label int32
}

// deferredExit is an exit block emitted after the current function's body:
// the target of early exits and failed bounds checks.
type deferredExit struct {
	label int32
	st    state
}

// callee is a BPF-to-BPF function.
type callee struct {
	label  int32
	nargs  int
	called bool
}

// gen is one generation in progress.
type gen struct {
	cfg *Config
	src rand.PCG
	rng *rand.Rand
	p   *Program

	insns  asm.Instructions
	fix    []fixup
	labels []int32 // label → instruction index (-1 until placed)
	slots  []int32 // finish's scratch: instruction index → slot

	st       state
	deferred []deferredExit
	short    int32 // the current function's shared exit label, -1 if none yet

	// Per function.
	fnIndex  int          // -1 in the entry, else index into callees
	acc      asm.Register // the accumulator
	target   int          // instruction budget of the current function body
	depth    int          // nesting of arms and loops
	inLoop   bool         // emitting a loop body: no new pointers, no calls
	reserved uint16       // registers not to touch (loop counters)
	wmask    uint16       // registers written since the innermost branch began

	// Per program.
	tc        bool
	v4        bool // cpu v4 instructions allowed
	refused   bool // shapes the NFP backend refuses allowed
	useCalls  bool // BPF-to-BPF calls (excludes LD_ABS)
	callees   []callee
	maps      [numMapRoles]int // index in p.Maps, -1 if not created
	mapInfo   []mapInfo
	phis      int
	resultMap bool
	adjusted  bool // a packet-moving helper ran (reloads after it are counted)
	sem       Features
	weights   [NumStmts]int
	total     int // sum of weights
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }
func (g *gen) intn(n int) int        { return g.rng.IntN(n) }

// n is the number of instructions emitted so far.
func (g *gen) n() int { return len(g.insns) }

func (g *gen) emit(ins asm.Instruction) { g.insns = append(g.insns, ins) }

func (g *gen) newLabel() int32 {
	g.labels = append(g.labels, -1)
	return int32(len(g.labels) - 1)
}

func (g *gen) place(l int32) { g.labels[l] = int32(len(g.insns)) }

// jump emits a jump (conditional, ja, or local call) to label l.
func (g *gen) jump(ins asm.Instruction, l int32) {
	g.fix = append(g.fix, fixup{at: int32(len(g.insns)), label: l})
	g.insns = append(g.insns, ins)
}

// program generates the whole program into g.p.
func (g *gen) program() {
	cfg := g.cfg
	for i := range g.maps {
		g.maps[i] = -1
	}
	g.tc = g.chance(cfg.TCProb)
	if g.tc {
		g.p.Type = ebpf.SchedCLS
	}
	g.v4 = g.chance(cfg.CPUv4Prob)
	g.refused = g.chance(cfg.NFPRefusedProb)
	g.resultMap = g.chance(cfg.ResultMapProb)
	g.weights = cfg.Weights
	if g.refused {
		// The refused shapes are mostly atomics and divisions: make them
		// frequent in the programs that may have them.
		g.weights[StmtAtomic] *= 6
		g.weights[StmtDivMod] *= 3
	}
	// LD_ABS and BPF-to-BPF calls do not mix (the kernel refuses it).
	if g.tc && g.weights[StmtLdAbs] > 0 && cfg.MaxCallees > 0 && g.weights[StmtCall] > 0 {
		if g.chance(0.5) {
			g.weights[StmtCall] = 0
		} else {
			g.weights[StmtLdAbs] = 0
		}
	}
	if !g.tc {
		g.weights[StmtLdAbs], g.weights[StmtCtxLen] = 0, 0
	} else {
		g.weights[StmtAdjustHead], g.weights[StmtAdjustTail] = 0, 0
	}
	for _, w := range g.weights {
		g.total += w
	}
	if g.weights[StmtCall] > 0 && cfg.MaxCallees > 0 {
		g.useCalls = true
		n := 1 + g.intn(cfg.MaxCallees)
		for i := 0; i < n; i++ {
			g.callees = append(g.callees, callee{label: -1, nargs: g.intn(6)})
		}
	}
	if g.tc {
		g.sem.add(FTC)
	} else {
		g.sem.add(FXDP)
	}

	g.entry()
	for i := range g.callees {
		if g.callees[i].called {
			g.function(i)
		}
	}
	g.finish()
}

// finish resolves jumps and calls to slot offsets and fills Funcs.
func (g *gen) finish() {
	slots := append(g.slots[:0], make([]int32, len(g.insns)+1)...)
	g.slots = slots
	s := int32(0)
	for i := range g.insns {
		slots[i] = s
		s++
		if g.insns[i].OpCode.IsDWordLoad() {
			s++
		}
	}
	slots[len(g.insns)] = s
	for _, f := range g.fix {
		at := f.at
		tgt := g.labels[f.label]
		if tgt < 0 {
			panic("BUG: gen: jump to an unplaced label")
		}
		d := slots[tgt] - slots[at] - 1
		ins := &g.insns[at]
		if ins.OpCode.JumpOp() == asm.Call || ins.OpCode.Class() == asm.Jump32Class && ins.OpCode.JumpOp() == asm.Ja {
			ins.Constant = int64(d)
		} else {
			ins.Offset = int16(d)
		}
	}
	g.p.Funcs = append(g.p.Funcs, loader.Func{Name: EntryName, Slot: 0})
	g.insns[0] = g.insns[0].WithSymbol(EntryName)
	for i, c := range g.callees {
		if !c.called {
			continue
		}
		at := g.labels[c.label]
		name := calleeName(i)
		g.insns[at] = g.insns[at].WithSymbol(name)
		g.p.Funcs = append(g.p.Funcs, loader.Func{Name: name, Slot: int(slots[at])})
	}
	g.p.Insns = g.insns
	g.p.sem = g.sem
}

func calleeName(i int) string { return "f" + string(rune('1'+i)) }

// pickStmt chooses a statement by weight among those allowed now: by
// weight among all, again while the choice is not allowed here (cheaper
// than weighing the allowed ones each time; the mix is the same).
func (g *gen) pickStmt() Stmt {
	if g.total == 0 {
		return StmtALU
	}
	for try := 0; try < 8; try++ {
		x := g.intn(g.total)
		s := Stmt(0)
		for x >= g.weights[s] {
			x -= g.weights[s]
			s++
		}
		if g.allowed(s) {
			return s
		}
	}
	return StmtALU
}

// allowed says whether statement s may be emitted in the current context.
func (g *gen) allowed(s Stmt) bool {
	inEntry := g.fnIndex < 0
	switch s {
	case StmtBranch, StmtLoop:
		return g.depth < g.cfg.MaxDepth && !g.inLoop
	case StmtEarlyExit:
		return true
	case StmtCall:
		return g.useCalls && !g.inLoop && g.fnIndex+1 < len(g.callees)
	case StmtMapLookup, StmtMapUpdate, StmtMapDelete, StmtPrandom, StmtSpill:
		return !g.inLoop
	case StmtMapValue:
		return g.holdsMapValue() != noReg
	case StmtAtomic:
		return g.holdsMapValue() != noReg || g.refused
	case StmtCsumDiff, StmtAdjustHead, StmtAdjustTail, StmtPerfOutput, StmtLdAbs:
		return inEntry && !g.inLoop
	case StmtParse, StmtVarOffset:
		return inEntry && !g.inLoop
	case StmtPktLoad, StmtPktStore, StmtCtxLen:
		return inEntry
	}
	return true
}

// stmt emits one statement.
func (g *gen) stmt() {
	switch g.pickStmt() {
	case StmtALU:
		g.stmtALU()
	case StmtDivMod:
		g.stmtDivMod()
	case StmtShift:
		g.stmtShift()
	case StmtSwap:
		g.stmtSwap()
	case StmtMovSX:
		g.stmtMovSX()
	case StmtLoadImm64:
		g.stmtLoadImm64()
	case StmtBranch:
		g.stmtBranch()
	case StmtEarlyExit:
		g.stmtEarlyExit()
	case StmtSelect:
		g.stmtSelect()
	case StmtLoop:
		g.stmtLoop()
	case StmtStack:
		g.stmtStack()
	case StmtSpill:
		g.stmtSpill()
	case StmtCall:
		g.stmtCall()
	case StmtMapLookup:
		g.stmtMapLookup()
	case StmtMapUpdate:
		g.stmtMapUpdate()
	case StmtMapDelete:
		g.stmtMapDelete()
	case StmtMapValue:
		g.stmtMapValue()
	case StmtAtomic:
		g.stmtAtomic()
	case StmtPrandom:
		g.stmtPrandom()
	case StmtCsumDiff:
		g.stmtCsumDiff()
	case StmtAdjustHead:
		g.stmtAdjustHead()
	case StmtAdjustTail:
		g.stmtAdjustTail()
	case StmtPerfOutput:
		g.stmtPerfOutput()
	case StmtPktLoad:
		g.stmtPktLoad()
	case StmtPktStore:
		g.stmtPktStore()
	case StmtVarOffset:
		g.stmtVarOffset()
	case StmtParse:
		g.stmtParse()
	case StmtLdAbs:
		g.stmtLdAbs()
	case StmtCtxLen:
		g.stmtCtxLen()
	}
}

// block emits statements until the function's body has about budget more
// instructions.
func (g *gen) block(budget int) {
	end := g.n() + budget
	for g.n() < end {
		g.stmt()
	}
}
