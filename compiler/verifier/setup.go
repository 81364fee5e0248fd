package verifier

import (
	"slices"
	"sort"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// newVM lays the program out by instruction slot, checks its control flow
// (every jump inside its function, every call to a function start, no
// falling off the end) and computes register liveness for pruning.
func newVM(prog *loader.Program, maps []*loader.Map, opts *Options) (*vm, error) {
	v := &vm{prog: prog, opts: opts, progType: prog.Type, target: opts.Target, maxPkt: -1,
		typeAt: map[int]Kind{}, stackOffAt: map[int]int32{}}
	if opts.Type != ebpf.UnspecifiedProgram {
		v.progType = opts.Type
	}
	v.maps = append([]*loader.Map(nil), maps...)
	v.nObjMaps = len(maps)
	for _, m := range maps {
		if m != nil && m.InnerMap != nil {
			v.maps = append(v.maps, m.InnerMap)
		}
	}
	v.ctx = opts.Context
	if v.ctx == nil && v.target != nil {
		v.ctx = v.target.Contexts[v.progType]
	}
	if v.ctx == nil {
		v.ctx = contextFor(v.progType)
	}
	for i := range prog.Insns {
		ins := &prog.Insns[i]
		v.insns = append(v.insns, ins)
		if ins.OpCode.IsDWordLoad() {
			v.insns = append(v.insns, nil)
		}
	}
	n := len(v.insns)
	if n == 0 {
		return nil, v.errorf(-1, "empty program")
	}
	if n > 1_000_000 {
		return nil, v.errorf(-1, "program of %d instructions is too large", n)
	}
	v.precise = opts.VerdictOnly && opts.Target == nil
	if !v.precise {
		v.facts = make([]InsnFacts, n)
	}
	v.prune = make([]bool, n)
	v.open, v.done = make([][]*checkpoint, n), make([][]doneEntry, n)
	v.funcOf = make([]int, n)

	// Subprograms: the entry, the listed functions, and every call target.
	starts := map[int]bool{0: true}
	for _, f := range prog.Funcs {
		if f.Slot < 0 || f.Slot >= n || v.insns[f.Slot] == nil {
			return nil, v.errorf(-1, "function %s starts at slot %d, outside the program", f.Name, f.Slot)
		}
		starts[f.Slot] = true
	}
	for pc, ins := range v.insns {
		if ins != nil && (ins.IsFunctionCall() || isFuncPointer(ins)) {
			t := pc + 1 + int(ins.Constant)
			if t < 0 || t >= n || v.insns[t] == nil {
				return nil, v.errorf(pc, "call to an invalid destination %d", t)
			}
			starts[t] = true
			v.prune[t] = true
			if pc+1 < n {
				v.prune[pc+1] = true
			}
		}
	}
	for s := range starts {
		v.funcs = append(v.funcs, s)
	}
	sort.Ints(v.funcs)
	for i, s := range v.funcs {
		end := n
		if i+1 < len(v.funcs) {
			end = v.funcs[i+1]
		}
		for pc := s; pc < end; pc++ {
			v.funcOf[pc] = i
		}
	}
	v.stackDepth = make([]int, len(v.funcs))

	for pc, ins := range v.insns {
		if ins == nil {
			continue
		}
		if ins.OpCode == asm.InvalidOpCode {
			return nil, v.errorf(pc, "invalid opcode")
		}
		if msg := checkEncoding(ins, pc+1 >= n); msg != "" {
			return nil, v.errorf(pc, "%s", msg)
		}
		if ins.Dst > asm.R10 || ins.Src > asm.R10 && !ins.OpCode.IsDWordLoad() && !isCallLike(ins) {
			return nil, v.errorf(pc, "invalid register (R%d, R%d)", ins.Dst, ins.Src)
		}
		var sb [2]int
		for _, t := range v.successors(pc, sb[:0]) {
			if t < 0 || t >= n {
				if t == n && !isTerminator(ins) {
					return nil, v.errorf(pc, "last insn is not an exit or jmp")
				}
				return nil, v.errorf(pc, "jump out of range from insn %d to %d", pc, t)
			}
			if v.insns[t] == nil {
				return nil, v.errorf(pc, "jump into the middle of ldimm64 insn %d", t-1)
			}
			if v.funcOf[t] != v.funcOf[pc] {
				return nil, v.errorf(pc, "jump out of range from insn %d to %d", pc, t)
			}
		}
		if op := ins.OpCode.JumpOp(); ins.OpCode.Class().IsJump() && op != asm.Call && op != asm.Exit {
			t := pc + 1 + jumpOffset(ins)
			if t >= 0 && t < n {
				v.prune[t] = true
			}
			if op != asm.Ja && pc+1 < n {
				v.prune[pc+1] = true
			}
		}
	}
	for pc := range v.insns {
		if v.callbackSite(pc) {
			v.prune[pc] = true // where a callback's invocations converge
		}
	}
	if err := v.checkReachable(); err != nil {
		return nil, err
	}
	v.computeLiveness()
	if v.target != nil {
		if err := v.target.checkProgram(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// checkReachable rejects instructions no path of the control-flow graph
// reaches from the entry, as the kernel's check_cfg does ("unreachable
// insn N"): jumps, fall-throughs and BPF-to-BPF calls are edges, whatever
// the values. (Code that is reachable in the graph but dead for every
// value, such as the branch a constant comparison never takes, is allowed.)
func (v *vm) checkReachable() error {
	seen := make([]bool, len(v.insns))
	seen[0] = true
	stack := []int{0}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var sb [3]int
		next := v.successors(pc, sb[:0])
		if ins := v.insns[pc]; ins.IsFunctionCall() || isFuncPointer(ins) {
			next = append(next, pc+1+int(ins.Constant))
		}
		for _, t := range next {
			if !seen[t] {
				seen[t] = true
				stack = append(stack, t)
			}
		}
	}
	for pc, ins := range v.insns {
		if ins != nil && !seen[pc] {
			return v.errorf(-1, "unreachable insn %d", pc)
		}
	}
	return nil
}

// isFuncPointer reports a LD_IMM64 of a subprogram's address (a callback).
func isFuncPointer(ins *asm.Instruction) bool {
	return ins.OpCode.IsDWordLoad() && ins.Src == asm.PseudoFunc
}

func isCallLike(ins *asm.Instruction) bool {
	return ins.OpCode.JumpOp() == asm.Call || ins.OpCode.IsDWordLoad()
}

func isTerminator(ins *asm.Instruction) bool {
	op := ins.OpCode.JumpOp()
	return ins.OpCode.Class().IsJump() && (op == asm.Exit || op == asm.Ja)
}

// jumpOffset is a jump's displacement in slots (gotol keeps it in the
// immediate).
func jumpOffset(ins *asm.Instruction) int {
	if ins.OpCode.Class() == asm.Jump32Class && ins.OpCode.JumpOp() == asm.Ja {
		return int(int32(ins.Constant))
	}
	return int(ins.Offset)
}

// successors lists the slots control may reach next within the function.
// successors appends the instructions that may follow pc to buf (a
// caller's small array: it runs for every instruction, several times).
func (v *vm) successors(pc int, buf []int) []int {
	ins := v.insns[pc]
	next := pc + 1
	if ins.OpCode.IsDWordLoad() {
		next = pc + 2
	}
	if !ins.OpCode.Class().IsJump() {
		return append(buf, next)
	}
	switch ins.OpCode.JumpOp() {
	case asm.Exit:
		return buf
	case asm.Call:
		return append(buf, next)
	case asm.Ja:
		return append(buf, pc+1+jumpOffset(ins))
	}
	return append(buf, next, pc+1+jumpOffset(ins))
}

// usesDefs gives the registers an instruction reads and writes, for
// liveness. A call reads r1-r5; with helperArgs a known helper reads only
// its arguments, as the kernel's compute_live_registers counts them (the
// facts mode keeps r1-r5, so that its pruning, and its facts, stay as
// they were).
func usesDefs(ins *asm.Instruction, helperArgs bool) (use, def uint16) {
	r := func(x asm.Register) uint16 { return 1 << x }
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls.IsALU():
		def = r(ins.Dst)
		a := op.ALUOp()
		if a != asm.Mov && a != asm.MovSX8 && a != asm.MovSX16 && a != asm.MovSX32 {
			use |= r(ins.Dst)
		}
		if op.Source() == asm.RegSource && a != asm.Neg && a != asm.Swap {
			use |= r(ins.Src)
		}
	case cls == asm.LdClass:
		if op.IsDWordLoad() {
			def = r(ins.Dst)
		} else { // LD_ABS / LD_IND use the context in r6
			use = r(asm.R6)
			if op.Mode() == asm.IndMode {
				use |= r(ins.Src)
			}
			def = 0x3f
		}
	case cls == asm.LdXClass:
		use, def = r(ins.Src), r(ins.Dst)
	case cls == asm.StClass:
		use = r(ins.Dst)
	case cls == asm.StXClass:
		use = r(ins.Dst) | r(ins.Src)
		if op.Mode() == asm.AtomicMode {
			switch a := op.AtomicOp(); a {
			case asm.CmpXchg:
				use |= r(asm.R0)
				def = r(asm.R0)
			case asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor, asm.Xchg:
				def = r(ins.Src)
			}
		}
	case cls.IsJump():
		switch op.JumpOp() {
		case asm.Call:
			use, def = 0x3e, 0x3f
			if h, ok := Helper(int32(ins.Constant)); ok && helperArgs && ins.Src == asm.R0 {
				use = uint16(1)<<(h.Args+1) - 2 // r1 … r(Args)
			}
		case asm.Exit:
			use = r(asm.R0)
		case asm.Ja:
		default:
			use = r(ins.Dst)
			if op.Source() == asm.RegSource {
				use |= r(ins.Src)
			}
		}
	}
	return use, def
}

// computeLiveness is a backward dataflow fixpoint over the intra-function
// control flow graph, driven by a worklist so that it stays linear in
// practice on long programs.
func (v *vm) computeLiveness() {
	n := len(v.insns)
	v.live = make([]uint16, n)
	// Successors (-1: none) and predecessors computed once, in flat arrays:
	// the predecessors of t are preds[start[t]:start[t+1]].
	succ := make([][2]int32, n)
	start := make([]int32, n+1)
	var sb [2]int
	for pc, ins := range v.insns {
		succ[pc] = [2]int32{-1, -1}
		if ins == nil {
			continue
		}
		for i, t := range v.successors(pc, sb[:0]) {
			if t >= 0 && t < n {
				succ[pc][i] = int32(t)
				start[t+1]++
			}
		}
	}
	for t := 0; t < n; t++ {
		start[t+1] += start[t]
	}
	preds := make([]int32, start[n])
	fill := slices.Clone(start[:n])
	for pc := range succ {
		for _, t := range succ[pc] {
			if t >= 0 {
				preds[fill[t]] = int32(pc)
				fill[t]++
			}
		}
	}
	work := make([]int32, 0, n)
	queued := make([]bool, n)
	for pc := 0; pc < n; pc++ { // popped from the end: the last slot first
		if v.insns[pc] != nil {
			work = append(work, int32(pc))
			queued[pc] = true
		}
	}
	for len(work) > 0 {
		pc := int(work[len(work)-1])
		work = work[:len(work)-1]
		queued[pc] = false
		var out uint16
		for _, t := range succ[pc] {
			if t >= 0 {
				out |= v.live[t]
			}
		}
		use, def := usesDefs(v.insns[pc], v.precise)
		in := use | out&^def
		if in == v.live[pc] {
			continue
		}
		v.live[pc] = in
		for _, p := range preds[start[pc]:start[pc+1]] {
			if !queued[p] {
				queued[p] = true
				work = append(work, p)
			}
		}
	}
}

// entryState is r1 = context, r10 = frame pointer, the rest uninitialised
// (or Options.Entry).
func (v *vm) entryState() *State {
	f := &frame{callsite: -1}
	f.regs[asm.R1] = pointerReg(Ctx, 0)
	f.regs[asm.R10] = pointerReg(Stack, 0)
	for r, val := range v.opts.Entry {
		if r <= asm.R10 {
			f.regs[r] = val
			if val.ID > v.nextID {
				v.nextID = val.ID
			}
		}
	}
	for _, sb := range v.opts.EntryStack {
		if sb.Size == 8 && sb.Off%8 == 0 && sb.Value.Kind == ScalarKind {
			if s, _, ok := f.slotAt(int(sb.Off)); ok {
				s.spill = sb.Value
				s.kinds = spillKinds
			}
			continue
		}
		for b := sb.Off; b < sb.Off+sb.Size; b++ {
			if s, i, ok := f.slotAt(int(b)); ok {
				s.kinds[i] = byteMisc
			}
		}
	}
	return &State{frames: []*frame{f}}
}

func sortStrings(s []string) { sort.Strings(s) }
