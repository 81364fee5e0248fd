package ir

// Editing helpers for passes. They keep the IR's own bookkeeping (a
// value's Block, the Facts side table) right; they do not re-check
// invariants, which is Check's job between passes.

// InsertBefore places v in b before position i (i == len(b.Instrs)
// appends, which is only valid before the terminator is added).
func (b *Block) InsertBefore(i int, v *Value) *Value {
	v.Block = b
	b.Instrs = append(b.Instrs, nil)
	copy(b.Instrs[i+1:], b.Instrs[i:])
	b.Instrs[i] = v
	return v
}

// Remove deletes v from its block and its facts from the side table. Uses
// of v must have been replaced first.
func (b *Block) Remove(v *Value) {
	for i, x := range b.Instrs {
		if x == v {
			b.Instrs = append(b.Instrs[:i], b.Instrs[i+1:]...)
			break
		}
	}
	if b.Func != nil {
		delete(b.Func.Facts, v.ID)
	}
	v.Block = nil
}

// ReplaceUses makes every use of old (operands and branch arguments) a use
// of new and returns how many uses it changed.
func (f *Func) ReplaceUses(old, new *Value) int {
	n := 0
	for _, b := range f.Blocks {
		for _, v := range b.Instrs {
			for i, a := range v.Args {
				if a == old {
					v.Args[i] = new
					n++
				}
			}
			for _, t := range v.Targets {
				for i, a := range t.Args {
					if a == old {
						t.Args[i] = new
						n++
					}
				}
			}
		}
	}
	return n
}

// Uses counts the uses of every value (operands and branch arguments).
func (f *Func) Uses() map[*Value]int {
	u := map[*Value]int{}
	for _, b := range f.Blocks {
		for _, v := range b.Instrs {
			for _, a := range v.Args {
				u[a]++
			}
			for _, t := range v.Targets {
				for _, a := range t.Args {
					u[a]++
				}
			}
		}
	}
	return u
}

// RemoveParam deletes parameter i of b and the matching argument of every
// branch to b.
func (f *Func) RemoveParam(b *Block, i int) {
	p := b.Params[i]
	b.Params = append(b.Params[:i], b.Params[i+1:]...)
	delete(f.Facts, p.ID)
	for _, x := range f.Blocks {
		if t := x.Terminator(); t != nil {
			for k := range t.Targets {
				if t.Targets[k].Block == b && i < len(t.Targets[k].Args) {
					args := t.Targets[k].Args
					t.Targets[k].Args = append(args[:i:i], args[i+1:]...)
				}
			}
		}
	}
}

// RemoveUnreachable deletes the blocks no path from the entry reaches (a
// pass that folds a branch leaves them behind) and returns how many.
func (f *Func) RemoveUnreachable() int {
	d := Dominators(f)
	keep := f.Blocks[:0]
	n := 0
	for _, b := range f.Blocks {
		if d.Reachable(b) {
			keep = append(keep, b)
			continue
		}
		n++
		for _, vs := range [][]*Value{b.Params, b.Instrs} {
			for _, v := range vs {
				delete(f.Facts, v.ID)
			}
		}
	}
	f.Blocks = keep
	return n
}

// Clone returns a deep copy of f (blocks, values, facts), so that a pass
// can be run on the copy and the two compared, e.g. by executing both
// with Machine.
func (f *Func) Clone() *Func {
	g := &Func{Name: f.Name, StackSize: f.StackSize, Facts: make(map[int]*Facts, len(f.Facts)), nextValue: f.nextValue, nextBlock: f.nextBlock}
	blocks := make(map[*Block]*Block, len(f.Blocks))
	values := map[*Value]*Value{}
	for _, b := range f.Blocks {
		nb := &Block{ID: b.ID, Func: g}
		blocks[b] = nb
		g.Blocks = append(g.Blocks, nb)
		for _, vs := range [][]*Value{b.Params, b.Instrs} {
			for _, v := range vs {
				nv := *v
				nv.Block = nb
				values[v] = &nv
			}
		}
		for _, p := range b.Params {
			nb.Params = append(nb.Params, values[p])
		}
		for _, v := range b.Instrs {
			nb.Instrs = append(nb.Instrs, values[v])
		}
	}
	mapv := func(v *Value) *Value {
		if nv, ok := values[v]; ok {
			return nv
		}
		return v // not in f: left for Check to report
	}
	for _, nb := range g.Blocks {
		for _, v := range nb.Instrs {
			args := make([]*Value, len(v.Args))
			for i, a := range v.Args {
				args[i] = mapv(a)
			}
			v.Args = args
			targets := make([]Target, len(v.Targets))
			for i, t := range v.Targets {
				targets[i] = Target{Block: blocks[t.Block], Args: make([]*Value, len(t.Args))}
				if targets[i].Block == nil {
					targets[i].Block = t.Block
				}
				for j, a := range t.Args {
					targets[i].Args[j] = mapv(a)
				}
			}
			if v.Targets == nil {
				targets = nil
			}
			v.Targets = targets
		}
	}
	for id, fa := range f.Facts {
		g.Facts[id] = fa.Clone()
	}
	return g
}

// Clone is a deep copy of fa.
func (fa *Facts) Clone() *Facts {
	if fa == nil {
		return nil
	}
	c := &Facts{Le: append([]Bound(nil), fa.Le...)}
	if fa.Le == nil {
		c.Le = nil
	}
	if fa.U64 != nil {
		x := *fa.U64
		c.U64 = &x
	}
	if fa.S64 != nil {
		x := *fa.S64
		c.S64 = &x
	}
	if fa.U32 != nil {
		x := *fa.U32
		c.U32 = &x
	}
	if fa.S32 != nil {
		x := *fa.S32
		c.S32 = &x
	}
	if fa.Tnum != nil {
		x := *fa.Tnum
		c.Tnum = &x
	}
	if fa.Ptr != nil {
		x := *fa.Ptr
		c.Ptr = &x
	}
	if fa.Map != nil {
		x := *fa.Map
		c.Map = &x
	}
	return c
}
