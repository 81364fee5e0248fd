package backend

import (
	"fmt"

	"github.com/nfpcc/nfpcc/ir"
)

// inlineCalls returns a copy of the module's entry function with every
// BPF-to-BPF call (callfn) replaced by the callee's body: the NFP has no
// cheap call (the JIT's costs a return-address store and register pushes),
// eBPF forbids recursion, and the verifier bounds the call chain's stack
// to 512 bytes. Each inlined body gets a frame of its own below all
// earlier ones (simple, if not the tightest): frames maps the fp values of
// inlined bodies to their offset from the entry's fp. The verifier's facts stay valid: they hold at every call.
func inlineCalls(m *ir.Module) (*ir.Func, map[*ir.Value]int64, error) {
	byName := map[string]*ir.Func{}
	for _, f := range m.Funcs[1:] {
		byName[f.Name] = f
	}
	f := m.Funcs[0].Clone()
	frames := map[*ir.Value]int64{}
	// depth is the stack the frames below fp use so far.
	depth := int64(f.StackSize+7) &^ 7
	for n := 0; ; n++ {
		if n > 1000 {
			return nil, nil, fmt.Errorf("more than 1000 inlined calls")
		}
		b, i := findCall(f)
		if b == nil {
			break
		}
		call := b.Instrs[i]
		callee := byName[call.Sym]
		if callee == nil {
			return nil, nil, fmt.Errorf("call of unknown function %s", call.Sym)
		}
		// The callee's frame goes below everything placed so far.
		frame := -depth
		depth += int64(callee.StackSize+7) &^ 7
		if depth > 512 {
			return nil, nil, fmt.Errorf("the call chain's stack (%d bytes) exceeds 512", depth)
		}
		if err := inlineOne(f, b, i, callee, frame, frames); err != nil {
			return nil, nil, err
		}
	}
	f.StackSize = int(depth)
	return f, frames, nil
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
// after b (their fp at frame from the entry's fp), binds the callee's
// parameters to the call's arguments, and turns each ret into a jump to
// the rest of b, whose new parameter replaces the call's result.
func inlineOne(f *ir.Func, b *ir.Block, i int, callee *ir.Func, frame int64, frames map[*ir.Value]int64) error {
	call := b.Instrs[i]
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
	f.Blocks = append(f.Blocks, rest)
	f.ReplaceUses(call, res)
	f.Blocks = f.Blocks[:len(f.Blocks)-1]
	delete(f.Facts, call.ID)
	// Successors of b now see rest as their predecessor: nothing to fix,
	// block parameters are bound by branches, which moved with rest.

	blocks := map[*ir.Block]*ir.Block{}
	values := map[*ir.Value]*ir.Value{}
	entry := callee.Blocks[0]
	if len(entry.Params) > len(call.Args) {
		return fmt.Errorf("call of %s passes %d arguments, it takes %d", callee.Name, len(call.Args), len(entry.Params))
	}
	for k, p := range entry.Params {
		values[p] = call.Args[k]
	}
	var body []*ir.Block
	for _, cb := range callee.Blocks {
		nb := f.NewBlock()
		f.Blocks = f.Blocks[:len(f.Blocks)-1]
		blocks[cb] = nb
		body = append(body, nb)
		if cb != entry {
			for _, p := range cb.Params {
				np := nb.AddParam(p.Type)
				values[p] = np
				if fa := callee.Facts[p.ID]; fa != nil {
					f.Facts[np.ID] = fa.Clone()
				}
			}
		}
		for _, v := range cb.Instrs {
			nv := f.NewValue(v.Op, v.Type)
			nv.Imm, nv.Imm2, nv.Region, nv.Sym, nv.Pos = v.Imm, v.Imm2, v.Region, v.Sym, v.Pos
			values[v] = nv
			if fa := callee.Facts[v.ID]; fa != nil {
				f.Facts[nv.ID] = fa.Clone()
			}
			if v.Op == ir.OpFP {
				frames[nv] = frame
			}
			nb.Append(nv)
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
				// ret x → jump rest(x)
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
	// Layout: b, the body, rest, then what followed b.
	var out []*ir.Block
	for _, x := range f.Blocks {
		out = append(out, x)
		if x == b {
			out = append(out, body...)
			out = append(out, rest)
		}
	}
	f.Blocks = out
	return nil
}
