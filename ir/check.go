package ir

import (
	"fmt"
	"math"
)

// Check verifies the invariants every stage may rely on, in the manner of
// Go's ssa/check.go; it is run after the lifter and, with -d=check, after
// every pass. It returns the first violation found, naming the function,
// block and value.
//
// The invariants:
//   - the function has blocks; the entry has no predecessors; every block
//     is reachable from the entry;
//   - every block ends with exactly one terminator and has no other;
//   - block and value IDs are unique; each value records its block;
//   - operands and results have the types the op table gives; calls have at
//     most MaxCallArgs arguments; memory ops name a region and others do not;
//   - every branch passes as many arguments as its target has parameters,
//     of the same types;
//   - every use is dominated by its definition (a branch argument is used at
//     the end of the branching block);
//   - facts belong to values that exist and agree with their types.
func Check(f *Func) error {
	c := checker{f: f}
	return c.run()
}

// CheckModule checks every function and that each callfn names a function
// of the module and passes it no more arguments than it has parameters.
func CheckModule(m *Module) error {
	names := map[string]*Func{}
	for _, f := range m.Funcs {
		if _, dup := names[f.Name]; dup {
			return fmt.Errorf("func %s: defined twice", f.Name)
		}
		names[f.Name] = f
	}
	for _, f := range m.Funcs {
		if err := Check(f); err != nil {
			return err
		}
		for _, b := range f.Blocks {
			for _, v := range b.Instrs {
				if v.Op != OpCallFn {
					continue
				}
				callee := names[v.Sym]
				if callee == nil {
					return fmt.Errorf("func %s: b%d: %s: calls %s, which the module does not define", f.Name, b.ID, v.LongString(), v.Sym)
				}
				if n := len(callee.Entry().Params); len(v.Args) != n {
					return fmt.Errorf("func %s: b%d: %s: %s takes %d arguments, got %d", f.Name, b.ID, v.LongString(), v.Sym, n, len(v.Args))
				}
			}
		}
	}
	return nil
}

type checker struct {
	f   *Func
	dom *DomTree
	// index of each defined value: its block and position (-1 for params)
	defs map[*Value]int
}

func (c *checker) errf(b *Block, v *Value, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch {
	case v != nil && b != nil:
		return fmt.Errorf("func %s: b%d: %s: %s", c.f.Name, b.ID, v.LongString(), msg)
	case b != nil:
		return fmt.Errorf("func %s: b%d: %s", c.f.Name, b.ID, msg)
	}
	return fmt.Errorf("func %s: %s", c.f.Name, msg)
}

func (c *checker) run() error {
	f := c.f
	if !ValidName(f.Name) {
		return c.errf(nil, nil, "the name %q cannot be written in the text format (want [A-Za-z_][A-Za-z0-9_.]*)", f.Name)
	}
	if len(f.Blocks) == 0 {
		return c.errf(nil, nil, "no blocks")
	}
	if f.StackSize < 0 || f.StackSize > FrameSize {
		return c.errf(nil, nil, "stack size %d outside 0..%d", f.StackSize, FrameSize)
	}
	if err := c.structure(); err != nil {
		return err
	}
	c.dom = Dominators(f)
	preds := f.Preds()
	if len(preds[f.Entry()]) > 0 {
		return c.errf(f.Entry(), nil, "the entry block has predecessors (b%d)", preds[f.Entry()][0].ID)
	}
	for _, b := range f.Blocks {
		if !c.dom.Reachable(b) {
			return c.errf(b, nil, "unreachable from the entry")
		}
	}
	for _, b := range f.Blocks {
		for i, v := range b.Instrs {
			if err := c.instr(b, i, v); err != nil {
				return err
			}
		}
	}
	return c.facts()
}

// structure checks block shape and ID uniqueness.
func (c *checker) structure() error {
	blockIDs := map[int]bool{}
	valueIDs := map[int]*Value{}
	c.defs = map[*Value]int{}
	inFunc := map[*Block]bool{}
	for _, b := range c.f.Blocks {
		inFunc[b] = true
	}
	for _, b := range c.f.Blocks {
		if b == nil {
			return c.errf(nil, nil, "nil block")
		}
		if blockIDs[b.ID] {
			return c.errf(b, nil, "block ID used twice")
		}
		blockIDs[b.ID] = true
		if b.Func != c.f {
			return c.errf(b, nil, "block belongs to another function")
		}
		add := func(v *Value, pos int) error {
			if v == nil {
				return c.errf(b, nil, "nil value")
			}
			if o := valueIDs[v.ID]; o != nil {
				return c.errf(b, v, "value ID v%d used twice", v.ID)
			}
			valueIDs[v.ID] = v
			if v.Block != b {
				return c.errf(b, v, "value records the wrong block")
			}
			c.defs[v] = pos
			return nil
		}
		for _, p := range b.Params {
			if err := add(p, -1); err != nil {
				return err
			}
			if p.Op != OpParam {
				return c.errf(b, p, "block parameter with op %s", p.Op)
			}
			if p.Type != I32 && p.Type != I64 {
				return c.errf(b, p, "block parameter of type %s", p.Type)
			}
		}
		if len(b.Instrs) == 0 {
			return c.errf(b, nil, "empty block (it needs a terminator)")
		}
		for i, v := range b.Instrs {
			if err := add(v, i); err != nil {
				return err
			}
			if v.Op == OpInvalid || v.Op == OpParam || v.Op.Info() == &badOp {
				return c.errf(b, v, "op %d cannot be an instruction", v.Op)
			}
			want := 0
			switch v.Op.Info().Fmt {
			case FmtJump:
				want = 1
			case FmtBranch:
				want = 2
			}
			if len(v.Targets) != want {
				return c.errf(b, v, "%s has %d targets, wants %d", v.Op, len(v.Targets), want)
			}
			last := i == len(b.Instrs)-1
			if v.Op.IsTerminator() && !last {
				return c.errf(b, v, "terminator before the end of the block")
			}
			if !v.Op.IsTerminator() && last {
				return c.errf(b, v, "the block does not end with a terminator")
			}
			for _, t := range v.Targets {
				if t.Block == nil || !inFunc[t.Block] {
					return c.errf(b, v, "branch to a block outside the function")
				}
			}
		}
	}
	return nil
}

// instr checks one instruction against the op table and dominance.
func (c *checker) instr(b *Block, i int, v *Value) error {
	info := v.Op.Info()
	// Result type.
	switch {
	case info.AnyInt:
		if v.Type != I32 && v.Type != I64 {
			return c.errf(b, v, "%s must be i32 or i64, not %s", info.Name, v.Type)
		}
	case v.Type != info.Result:
		return c.errf(b, v, "%s gives %s, not %s", info.Name, info.Result, v.Type)
	}
	// Operands.
	switch info.Fmt {
	case FmtCall, FmtCallFn:
		if len(v.Args) > MaxCallArgs {
			return c.errf(b, v, "%d call arguments; eBPF passes at most %d", len(v.Args), MaxCallArgs)
		}
		for j, a := range v.Args {
			if a == nil || a.Type != I64 {
				return c.errf(b, v, "call argument %d must be i64", j+1)
			}
		}
		if info.Fmt == FmtCallFn && !ValidName(v.Sym) {
			return c.errf(b, v, "callfn needs a callee name")
		}
	default:
		if len(v.Args) != len(info.Args) {
			return c.errf(b, v, "%s takes %d operands, has %d", info.Name, len(info.Args), len(v.Args))
		}
		for j, a := range v.Args {
			if a == nil {
				return c.errf(b, v, "operand %d is missing", j+1)
			}
			if a.Type != info.Args[j] {
				return c.errf(b, v, "operand %d (v%d) is %s, %s wants %s", j+1, a.ID, a.Type, info.Name, info.Args[j])
			}
		}
	}
	if v.Op == OpConst && v.Type == I32 && (v.Imm < math.MinInt32 || v.Imm > math.MaxInt32) {
		return c.errf(b, v, "i32 constant %d out of range (write it sign-extended)", v.Imm)
	}
	if (v.Op == OpMapRef || v.Op == OpMapValue || v.Op == OpCall) && v.Imm < 0 || v.Op == OpMapValue && (v.Imm2 < 0 || v.Imm2 > math.MaxInt32) {
		return c.errf(b, v, "negative or out-of-range map index, offset or helper id")
	}
	if v.Op.IsMemory() {
		if int(v.Region) >= len(regionNames) {
			return c.errf(b, v, "bad memory region %d", v.Region)
		}
		if v.Imm < math.MinInt32 || v.Imm > math.MaxInt32 {
			return c.errf(b, v, "memory offset %d out of range", v.Imm)
		}
		if v.Op == OpCtxPtr && v.Region != RegionCtx {
			return c.errf(b, v, "ctxptr reads the context, not %s", v.Region)
		}
	} else if v.Region != RegionAny {
		return c.errf(b, v, "%s is not a memory op but has region %s", info.Name, v.Region)
	}
	// Targets (their number was checked with the block structure).
	for _, t := range v.Targets {
		if len(t.Args) != len(t.Block.Params) {
			return c.errf(b, v, "passes %d arguments to b%d, which has %d parameters", len(t.Args), t.Block.ID, len(t.Block.Params))
		}
		for j, a := range t.Args {
			if a == nil {
				return c.errf(b, v, "argument %d to b%d is missing", j+1, t.Block.ID)
			}
			if p := t.Block.Params[j]; a.Type != p.Type {
				return c.errf(b, v, "argument %d to b%d is v%d:%s, parameter v%d is %s", j+1, t.Block.ID, a.ID, a.Type, p.ID, p.Type)
			}
			if err := c.dominated(b, len(b.Instrs), v, a); err != nil {
				return err
			}
		}
	}
	for _, a := range v.Args {
		if err := c.dominated(b, i, v, a); err != nil {
			return err
		}
	}
	return nil
}

// dominated checks that a's definition dominates its use by v at position i
// of block b.
func (c *checker) dominated(b *Block, i int, v, a *Value) error {
	pos, ok := c.defs[a]
	if !ok {
		return c.errf(b, v, "uses v%d, which is not defined in this function", a.ID)
	}
	if a.Type == Void {
		return c.errf(b, v, "uses v%d, which has no result", a.ID)
	}
	if a.Block == b {
		if pos >= i {
			return c.errf(b, v, "uses v%d before its definition", a.ID)
		}
		return nil
	}
	if !c.dom.Dominates(a.Block, b) {
		return c.errf(b, v, "uses v%d, whose block b%d does not dominate b%d", a.ID, a.Block.ID, b.ID)
	}
	return nil
}

func (c *checker) facts() error {
	byID := map[int]*Value{}
	for v := range c.defs {
		byID[v.ID] = v
	}
	// Report in ID order so the first error is deterministic.
	for id := 0; id < c.f.NumValues(); id++ {
		fa, ok := c.f.Facts[id]
		if !ok {
			continue
		}
		v := byID[id]
		if v == nil {
			return c.errf(nil, nil, "facts for v%d, which does not exist", id)
		}
		if v.Type == Void && !fa.Empty() {
			return c.errf(v.Block, v, "facts on an instruction without a result")
		}
		if err := fa.check(v.Type); err != nil {
			return c.errf(v.Block, v, "%v", err)
		}
	}
	for id := range c.f.Facts {
		if id < 0 || id >= c.f.NumValues() {
			return c.errf(nil, nil, "facts for v%d, which does not exist", id)
		}
	}
	return nil
}

// ValidName reports whether s can name a function in the text format: an
// identifier ([A-Za-z_][A-Za-z0-9_.]*) that the lexer does not read as a
// value or block name (v12, b3).
func ValidName(s string) bool {
	if s == "" || !isWordStart(s[0]) {
		return false
	}
	if (s[0] == 'v' || s[0] == 'b') && len(s) > 1 && isDigit(s[1]) && numberedName(s) == len(s) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWord(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}
