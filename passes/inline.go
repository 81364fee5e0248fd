package passes

import (
	"fmt"

	"github.com/nfpcc/nfpcc/ir"
)

// inline replaces every BPF-to-BPF call (callfn) of the entry function by
// the callee's body, until the module is one function (PropInlined): the
// NFP has no cheap call (the JIT's costs a return-address store and
// register pushes), eBPF forbids recursion, and the verifier bounds the
// call chain's stack to 512 bytes. Required at every level: the backend
// lowers one function.
//
// Each inlined body gets its frame right below its caller's (sibling calls
// share the bytes: a callee's frame dies when it returns, so the stack is
// the deepest call chain's, which the verifier bounds by 512): its fp
// becomes `add64 fp, -DEPTH`, which the backend folds into the stack
// accesses as it folds any fp+constant.
//
// Facts: the callee's facts hold at every call (the verifier checked the
// body for each), so they are copied, except that stack pointer offsets
// were relative to whichever frame the verifier saw them in (the callee's
// or a caller's): in the one frame they now share, they are only known to
// lie in [-512, 0].
func inline(u *Unit, m *ir.Module) {
	if len(m.Funcs) <= 1 {
		return
	}
	byName := map[string]*ir.Func{}
	for _, f := range m.Funcs[1:] {
		byName[f.Name] = f
	}
	f := m.Funcs[0]
	u.f = f
	// base is, for each call, how far below the entry's fp the frame of
	// the function containing it ends: the callee's frame goes there.
	// Sibling calls reuse the same bytes (a callee's frame is dead once it
	// returns), so the stack is the deepest chain's, as the verifier's.
	base := map[*ir.Value]int64{}
	top := int64(f.StackSize+7) &^ 7
	deepest := top
	for n := 0; ; n++ {
		if n > 1000 {
			u.err = fmt.Errorf("more than 1000 inlined calls")
			return
		}
		b, i := findCall(f)
		if b == nil {
			break
		}
		call := b.Instrs[i]
		callee := byName[call.Sym]
		if callee == nil {
			u.err = fmt.Errorf("call of unknown function %s", call.Sym)
			return
		}
		d, ok := base[call]
		if !ok {
			d = top
		}
		frame := -d
		end := d + int64(callee.StackSize+7)&^7
		if end > 512 {
			u.err = fmt.Errorf("the call chain's stack (%d bytes) exceeds 512", end)
			return
		}
		deepest = max(deepest, end)
		u.remark(call, "call of %s inlined (frame at fp%+d)", callee.Name, frame)
		calls, err := inlineOne(f, b, i, callee, frame)
		if err != nil {
			u.err = err
			return
		}
		for _, c := range calls {
			base[c] = end
		}
	}
	f.StackSize = int(deepest)
	m.Funcs = m.Funcs[:1]
	// A callee that never returns (every path ends the program: a tail
	// call that cannot fail, a path the verifier proved dead) leaves the
	// rest of its caller's block unreachable.
	if n := f.RemoveUnreachable(); n > 0 {
		u.remark(nil, "%d blocks after calls that never return removed", n)
	}
}

func findCall(f *ir.Func) (*ir.Block, int) {
	for _, b := range f.Blocks {
		for i, v := range b.Instrs {
			if v.Op == ir.OpCallFn {
				return b, i
			}
		}
	}
	return nil, 0
}

// inlineOne splits b at the call b.Instrs[i], copies callee's blocks in
// after b, binds the callee's parameters to the call's arguments, and
// turns each ret into a jump to the rest of b, whose new parameter
// replaces the call's result.
func inlineOne(f *ir.Func, b *ir.Block, i int, callee *ir.Func, frame int64) (calls []*ir.Value, err error) {
	call := b.Instrs[i]
	entry := callee.Blocks[0]
	if len(entry.Params) > len(call.Args) {
		return nil, fmt.Errorf("call of %s passes %d arguments, it takes %d", callee.Name, len(call.Args), len(entry.Params))
	}
	rest := f.NewBlock()
	f.Blocks = f.Blocks[:len(f.Blocks)-1]
	res := rest.AddParam(ir.I64)
	if fa := f.Facts[call.ID]; fa != nil {
		f.Facts[res.ID] = fa.Clone()
	}
	for _, v := range b.Instrs[i+1:] {
		rest.Append(v)
	}
	b.Instrs = b.Instrs[:i]
	delete(f.Facts, call.ID)

	blocks := map[*ir.Block]*ir.Block{}
	values := map[*ir.Value]*ir.Value{}
	for k, p := range entry.Params {
		values[p] = call.Args[k]
	}
	copyFacts := func(from, to *ir.Value) {
		fa := callee.Facts[from.ID]
		if fa == nil {
			return
		}
		c := fa.Clone()
		if c.Ptr != nil && c.Ptr.Kind == ir.PtrStack {
			c.Ptr.MinOff, c.Ptr.MaxOff = -512, 0
		}
		f.Facts[to.ID] = c
	}
	var body []*ir.Block
	var fps []*ir.Value
	for _, cb := range callee.Blocks {
		nb := f.NewBlock()
		f.Blocks = f.Blocks[:len(f.Blocks)-1]
		blocks[cb] = nb
		body = append(body, nb)
		if cb != entry {
			for _, p := range cb.Params {
				np := nb.AddParam(p.Type)
				values[p] = np
				copyFacts(p, np)
			}
		}
		for _, v := range cb.Instrs {
			nv := f.NewValue(v.Op, v.Type)
			nv.Imm, nv.Imm2, nv.Region, nv.Sym, nv.Pos = v.Imm, v.Imm2, v.Region, v.Sym, v.Pos
			values[v] = nv
			copyFacts(v, nv)
			nb.Append(nv)
			if v.Op == ir.OpFP {
				fps = append(fps, nv)
			}
			if v.Op == ir.OpCallFn {
				calls = append(calls, nv)
			}
		}
	}
	mapv := func(v *ir.Value) *ir.Value {
		if nv, ok := values[v]; ok {
			return nv
		}
		return v
	}
	for _, cb := range callee.Blocks {
		nb := blocks[cb]
		for k, v := range cb.Instrs {
			nv := nb.Instrs[k]
			for _, a := range v.Args {
				nv.Args = append(nv.Args, mapv(a))
			}
			for _, t := range v.Targets {
				nt := ir.Target{Block: blocks[t.Block]}
				for _, a := range t.Args {
					nt.Args = append(nt.Args, mapv(a))
				}
				nv.Targets = append(nv.Targets, nt)
			}
			if v.Op == ir.OpRet {
				nv.Op, nv.Type = ir.OpJump, ir.Void
				nv.Targets = []ir.Target{{Block: rest, Args: []*ir.Value{nv.Args[0]}}}
				nv.Args = nil
			}
		}
	}
	jump := f.NewValue(ir.OpJump, ir.Void)
	jump.Pos = call.Pos
	jump.Targets = []ir.Target{{Block: blocks[entry]}}
	b.Append(jump)
	var out []*ir.Block
	for _, x := range f.Blocks {
		out = append(out, x)
		if x == b {
			out = append(out, body...)
			out = append(out, rest)
		}
	}
	f.Blocks = out
	f.ReplaceUses(call, res)
	// The callee's fp is the entry's fp moved down to its frame.
	if frame != 0 {
		for _, fp := range fps {
			nb := fp.Block
			at := indexOf(nb, fp)
			c := f.NewValue(ir.OpConst, ir.I64)
			c.Imm, c.Pos = frame, fp.Pos
			add := f.NewValue(ir.OpAdd64, ir.I64, fp, c)
			add.Pos = fp.Pos
			f.ReplaceUses(fp, add)
			nb.InsertBefore(at+1, c)
			nb.InsertBefore(at+2, add)
		}
	}
	return calls, nil
}

func indexOf(b *ir.Block, v *ir.Value) int {
	for i, x := range b.Instrs {
		if x == v {
			return i
		}
	}
	panic("BUG: value not in its block")
}
