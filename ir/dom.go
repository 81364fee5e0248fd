package ir

import "sort"

// DomTree is the dominator tree of a function, computed with the iterative
// algorithm of Cooper, Harvey and Kennedy ("A Simple, Fast Dominance
// Algorithm", 2001) over reverse postorder. Unreachable blocks have no
// immediate dominator and are dominated by nothing.
type DomTree struct {
	// RPO lists the reachable blocks in reverse postorder from the entry.
	RPO []*Block
	// By block ID (dense: Func.NewBlock numbers blocks); blocks made after
	// the tree was computed are unreachable to it.
	idom      []*Block
	rpoIndex  []int // -1: unreachable
	children  [][]*Block
	pre, post []int // dominator-tree DFS numbering, for O(1) Dominates
}

// Dominators computes the dominator tree of f.
func Dominators(f *Func) *DomTree {
	n := f.nextBlock
	for _, b := range f.Blocks {
		n = max(n, b.ID+1)
	}
	d := &DomTree{idom: make([]*Block, n), rpoIndex: make([]int, n), children: make([][]*Block, n),
		pre: make([]int, n), post: make([]int, n)}
	for i := range d.rpoIndex {
		d.rpoIndex[i] = -1
	}
	entry := f.Entry()
	if entry == nil {
		return d
	}
	d.RPO = reversePostorder(entry, n)
	for i, b := range d.RPO {
		d.rpoIndex[b.ID] = i
	}
	preds := f.Preds()
	d.idom[entry.ID] = entry
	for changed := true; changed; {
		changed = false
		for _, b := range d.RPO[1:] {
			var nd *Block
			for _, p := range preds[b] {
				if d.idom[p.ID] == nil {
					continue // not yet processed, or unreachable
				}
				if nd == nil {
					nd = p
				} else {
					nd = d.intersect(p, nd)
				}
			}
			if nd != nil && d.idom[b.ID] != nd {
				d.idom[b.ID] = nd
				changed = true
			}
		}
	}
	d.idom[entry.ID] = nil
	for _, b := range d.RPO[1:] {
		p := d.idom[b.ID]
		d.children[p.ID] = append(d.children[p.ID], b)
	}
	k := 0
	var walk func(b *Block)
	walk = func(b *Block) {
		d.pre[b.ID] = k
		k++
		for _, c := range d.children[b.ID] {
			walk(c)
		}
		d.post[b.ID] = k
		k++
	}
	walk(entry)
	return d
}

func (d *DomTree) intersect(a, b *Block) *Block {
	for a != b {
		for d.rpoIndex[a.ID] > d.rpoIndex[b.ID] {
			a = d.idom[a.ID]
		}
		for d.rpoIndex[b.ID] > d.rpoIndex[a.ID] {
			b = d.idom[b.ID]
		}
	}
	return a
}

// reversePostorder lists the blocks reachable from entry in reverse
// postorder (n: a bound on the block IDs).
func reversePostorder(entry *Block, n int) []*Block {
	type frame struct {
		b    *Block
		next int
	}
	seen := make([]bool, n)
	seen[entry.ID] = true
	stack := []frame{{b: entry}}
	var post []*Block
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		t := top.b.Terminator()
		if t != nil && top.next < len(t.Targets) {
			s := t.Targets[top.next].Block
			top.next++
			if !seen[s.ID] {
				seen[s.ID] = true
				stack = append(stack, frame{b: s})
			}
			continue
		}
		post = append(post, top.b)
		stack = stack[:len(stack)-1]
	}
	for i, j := 0, len(post)-1; i < j; i, j = i+1, j-1 {
		post[i], post[j] = post[j], post[i]
	}
	return post
}

// in reports whether b is numbered in the tree (it existed then).
func (d *DomTree) in(b *Block) bool { return b != nil && b.ID < len(d.rpoIndex) }

// Idom is b's immediate dominator, nil for the entry and unreachable blocks.
func (d *DomTree) Idom(b *Block) *Block {
	if !d.in(b) {
		return nil
	}
	return d.idom[b.ID]
}

// Children are the blocks b immediately dominates, in reverse postorder.
func (d *DomTree) Children(b *Block) []*Block {
	if !d.in(b) {
		return nil
	}
	return d.children[b.ID]
}

// Reachable reports whether b is reachable from the entry.
func (d *DomTree) Reachable(b *Block) bool { return d.in(b) && d.rpoIndex[b.ID] >= 0 }

// Dominates reports whether a dominates b (every block dominates itself).
func (d *DomTree) Dominates(a, b *Block) bool {
	return d.Reachable(a) && d.Reachable(b) && d.pre[a.ID] <= d.pre[b.ID] && d.post[b.ID] <= d.post[a.ID]
}

// Loop is a natural loop: a header that dominates the sources of its back
// edges (the latches), and every block that reaches a latch without passing
// through the header.
type Loop struct {
	Header  *Block
	Latches []*Block
	Blocks  []*Block // in reverse postorder, header first
	Exits   []*Block // blocks outside the loop entered from inside it, in reverse postorder
	Parent  *Loop    // the innermost enclosing loop, or nil
	Depth   int      // 1 for outermost loops
}

// Loops finds the natural loops of f, outermost first (by header reverse
// postorder). It also returns the retreating edges that are not back edges,
// i.e. the irreducible parts of the CFG, as (from, to) pairs; eBPF allows
// them (the verifier explores paths, not loops), so passes must not assume
// a reducible CFG.
func Loops(f *Func, d *DomTree) (loops []*Loop, irreducible [][2]*Block) {
	preds := f.Preds()
	byHeader := map[*Block]*Loop{}
	for _, b := range d.RPO {
		for _, s := range b.Succs() {
			if !d.in(s) || d.rpoIndex[s.ID] > d.rpoIndex[b.ID] {
				continue // forward edge (or to a block made after the tree)
			}
			if !d.Dominates(s, b) {
				irreducible = append(irreducible, [2]*Block{b, s})
				continue
			}
			l := byHeader[s]
			if l == nil {
				l = &Loop{Header: s}
				byHeader[s] = l
				loops = append(loops, l)
			}
			if len(l.Latches) == 0 || l.Latches[len(l.Latches)-1] != b {
				l.Latches = append(l.Latches, b)
			}
		}
	}
	sort.Slice(loops, func(i, j int) bool { return d.rpoIndex[loops[i].Header.ID] < d.rpoIndex[loops[j].Header.ID] })
	for _, l := range loops {
		in := map[*Block]bool{l.Header: true}
		work := append([]*Block(nil), l.Latches...)
		for len(work) > 0 {
			b := work[len(work)-1]
			work = work[:len(work)-1]
			if in[b] {
				continue
			}
			in[b] = true
			for _, p := range preds[b] {
				if d.Reachable(p) {
					work = append(work, p)
				}
			}
		}
		exit := map[*Block]bool{}
		for _, b := range d.RPO {
			if in[b] {
				l.Blocks = append(l.Blocks, b)
				for _, s := range b.Succs() {
					if !in[s] {
						exit[s] = true
					}
				}
			}
		}
		for _, b := range d.RPO {
			if exit[b] {
				l.Exits = append(l.Exits, b)
			}
		}
	}
	// The parent of a loop is the smallest other loop containing its header.
	for _, l := range loops {
		for _, o := range loops {
			if o == l || !containsBlock(o.Blocks, l.Header) {
				continue
			}
			if l.Parent == nil || len(o.Blocks) < len(l.Parent.Blocks) {
				l.Parent = o
			}
		}
	}
	for _, l := range loops {
		for p := l; p != nil; p = p.Parent {
			l.Depth++
		}
	}
	return loops, irreducible
}

func containsBlock(bs []*Block, b *Block) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}
