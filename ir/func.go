package ir

// Module is every function lifted from one eBPF program: the entry first,
// then the BPF-to-BPF subprograms it calls, in slot order.
type Module struct {
	Funcs []*Func
}

// Func is one function in SSA form with block arguments instead of phi
// nodes (as in wazero's wazevo/ssa): a block's parameters are the values
// live into it that differ by predecessor, and every branch passes one
// argument per parameter.
type Func struct {
	Name string
	// StackSize is how many bytes below fp the function uses (the
	// verifier's stack depth), which the backend allocates per frame;
	// written `func NAME stack=N {` when not 0.
	StackSize int
	// Blocks in layout order; Blocks[0] is the entry, whose parameters are
	// the function's arguments (r1 for a program, r1–r5 for a subprogram).
	Blocks []*Block
	// Facts is the side table of what the verifier proved about values,
	// keyed by value ID. A value without an entry has no known facts.
	Facts map[int]*Facts

	nextValue int
	nextBlock int
}

// Block is a basic block: parameters, then instructions, the last of which
// is the only terminator.
type Block struct {
	ID     int
	Func   *Func
	Params []*Value // Op == OpParam
	Instrs []*Value
}

// Value is both an SSA value and an instruction (Go's ssa.Value style): ops
// without a result have Type Void.
type Value struct {
	ID    int
	Op    Op
	Type  Type
	Args  []*Value
	Block *Block
	// Imm is the op's integer: the constant of const, the offset of memory
	// ops, the helper id of call, the map index of mapref and mapvalue.
	Imm int64
	// Imm2 is mapvalue's offset into the value.
	Imm2   int64
	Region Region // memory ops
	Sym    string // callfn: the callee's name
	// Targets are a terminator's successors with their block arguments:
	// jump has one; conditional branches have the taken target first.
	Targets []Target
	// Pos is the eBPF instruction (slot index) this value came from, or -1.
	Pos int
}

// Target is a branch edge: the successor block and the arguments bound to
// its parameters.
type Target struct {
	Block *Block
	Args  []*Value
}

// NewFunc returns an empty function.
func NewFunc(name string) *Func {
	return &Func{Name: name, Facts: map[int]*Facts{}}
}

// NewBlock appends a new empty block.
func (f *Func) NewBlock() *Block {
	b := &Block{ID: f.nextBlock, Func: f}
	f.nextBlock++
	f.Blocks = append(f.Blocks, b)
	return b
}

// Entry is the first block.
func (f *Func) Entry() *Block {
	if len(f.Blocks) == 0 {
		return nil
	}
	return f.Blocks[0]
}

// NewValue makes a value without placing it in a block.
func (f *Func) NewValue(op Op, t Type, args ...*Value) *Value {
	v := &Value{ID: f.nextValue, Op: op, Type: t, Args: args, Pos: -1}
	f.nextValue++
	return v
}

// NumValues is one more than the largest value ID, for tables indexed by ID.
func (f *Func) NumValues() int { return f.nextValue }

// AddParam appends a block parameter of type t.
func (b *Block) AddParam(t Type) *Value {
	v := b.Func.NewValue(OpParam, t)
	v.Block = b
	b.Params = append(b.Params, v)
	return v
}

// Append adds an instruction at the end of the block.
func (b *Block) Append(v *Value) *Value {
	v.Block = b
	b.Instrs = append(b.Instrs, v)
	return v
}

// Terminator is the block's last instruction if it is a terminator, or nil.
func (b *Block) Terminator() *Value {
	if n := len(b.Instrs); n > 0 && b.Instrs[n-1].Op.IsTerminator() {
		return b.Instrs[n-1]
	}
	return nil
}

// Succs lists the successor blocks in target order (duplicates kept: a
// branch whose two targets are the same block has it twice).
func (b *Block) Succs() []*Block {
	t := b.Terminator()
	if t == nil {
		return nil
	}
	s := make([]*Block, len(t.Targets))
	for i, tg := range t.Targets {
		s[i] = tg.Block
	}
	return s
}

// Preds computes every block's predecessors, one entry per edge, in layout
// order of the predecessor and then target order.
func (f *Func) Preds() map[*Block][]*Block {
	p := make(map[*Block][]*Block, len(f.Blocks))
	for _, b := range f.Blocks {
		if t := b.Terminator(); t != nil {
			for _, tg := range t.Targets {
				p[tg.Block] = append(p[tg.Block], b)
			}
		}
	}
	return p
}

// FactsOf returns v's facts, creating an empty entry on first use.
func (f *Func) FactsOf(v *Value) *Facts {
	if f.Facts == nil {
		f.Facts = map[int]*Facts{}
	}
	fa := f.Facts[v.ID]
	if fa == nil {
		fa = &Facts{}
		f.Facts[v.ID] = fa
	}
	return fa
}

// Lookup finds a function of the module by name.
func (m *Module) Lookup(name string) *Func {
	for _, f := range m.Funcs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// renumber sets the ID counters past the largest IDs in use (after Parse,
// which keeps the IDs of the text).
func (f *Func) renumber() {
	for _, b := range f.Blocks {
		if b.ID >= f.nextBlock {
			f.nextBlock = b.ID + 1
		}
		for _, v := range b.Params {
			if v.ID >= f.nextValue {
				f.nextValue = v.ID + 1
			}
		}
		for _, v := range b.Instrs {
			if v.ID >= f.nextValue {
				f.nextValue = v.ID + 1
			}
		}
	}
}

// Renumber gives blocks and values consecutive IDs in layout order (blocks
// b0, b1, …; values in print order: parameters, then instructions), moving
// their facts along. Builders call it once done, so that printed IR has no
// gaps left by removed values.
func (f *Func) Renumber() {
	facts := make(map[int]*Facts, len(f.Facts))
	n := 0
	// Named values first, so the text counts up without gaps; then the
	// instructions without a result, which the text never names.
	for _, named := range []bool{true, false} {
		for i, b := range f.Blocks {
			b.ID = i
			for _, vs := range [][]*Value{b.Params, b.Instrs} {
				for _, v := range vs {
					if (v.Type != Void) != named {
						continue
					}
					if fa, ok := f.Facts[v.ID]; ok && !fa.Empty() {
						facts[n] = fa
					}
					v.ID = n
					n++
				}
			}
		}
	}
	f.Facts = facts
	f.nextValue = n
	f.nextBlock = len(f.Blocks)
}
