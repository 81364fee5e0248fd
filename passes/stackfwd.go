package passes

import "github.com/nfpcc/nfpcc/ir"

// stackfwd forwards stack stores to the loads that read them back (the
// stack slots the lifter could not promote: sub-word spills, slots whose
// address escapes to a helper) and drops stack stores that are
// overwritten, or that the function returns after, before anything may
// read them (a load forwarded or unused reads nothing: deadcode removes
// it), and stores of the value the slot already holds. It works along extended basic blocks, as cse's loads: a store
// reaches a load through the same address value at the same offset with
// the same width when no writer that may alias lies between (memAvail).
//
// Needs PropInlined. Remarks: each load forwarded, each store dropped.
func stackfwd(u *Unit) {
	f := u.f
	d := ir.Dominators(f)
	preds := f.Preds()
	users := uses(f)
	var dead []*ir.Value
	var walk func(b *ir.Block, mem memAvail)
	walk = func(b *ir.Block, mem memAvail) {
		pending := map[memKey]*ir.Value{} // stores not read yet in this block
		for i := 0; i < len(b.Instrs); i++ {
			v := b.Instrs[i]
			info := v.Op.Info()
			switch {
			case info.Fmt == ir.FmtStore && !info.Fetch && v.Op <= ir.OpStore64 && v.Region == ir.RegionStack:
				k := memKey{storeToLoad(v.Op), v.Args[0].ID, v.Imm, ir.RegionStack}
				if s, ok := mem[k]; ok && s.Op == v.Op && s.Args[1] == v.Args[1] {
					u.remark(v, "stack store [v%d%+d] writes the value the store at pc %d left there: removed", v.Args[0].ID, v.Imm, s.Pos)
					dead = append(dead, v)
					continue
				}
				if s, ok := pending[k]; ok {
					u.remark(s, "stack store [v%d%+d] overwritten by the store at pc %d before any read: removed", v.Args[0].ID, v.Imm, v.Pos)
					dead = append(dead, s)
				}
				mem.kill(v)
				mem[k] = v
				pending[k] = v
			case info.Fmt == ir.FmtLoad && v.Region == ir.RegionStack && !info.Signed:
				k := memKey{v.Op, v.Args[0].ID, v.Imm, ir.RegionStack}
				s, ok := mem[k]
				if ok && len(users.of(v)) > 0 {
					src := s.Args[1]
					if info.Size < 4 {
						c := newConst(f, ir.I32, 1<<(8*info.Size)-1, v.Pos)
						and := f.NewValue(ir.OpAnd32, ir.I32, src, c)
						and.Pos = v.Pos
						b.InsertBefore(i, c)
						b.InsertBefore(i+1, and)
						i += 2
						src = and
					}
					u.remark(v, "%s of stack [v%d%+d] forwarded from the store at pc %d", v.Op, v.Args[0].ID, v.Imm, s.Pos)
					replaceAll(users.of(v), v, src)
					users.moved(v, src)
				}
				if len(users.of(v)) > 0 {
					// A load forwarded or unused goes (deadcode): it reads
					// nothing. Others may read the pending stores.
					forgetRead(pending, v)
				}
			default:
				if info.ReadsMem || info.WritesMem {
					if v.Op.IsCall() || !v.Op.IsMemory() || v.Region == ir.RegionAny || v.Region == ir.RegionStack {
						if v.Op.IsMemory() && v.Region == ir.RegionStack {
							forgetRead(pending, v)
						} else {
							clear(pending)
						}
					}
				}
				mem.kill(v)
				if v.Op == ir.OpRet {
					for _, s := range pending {
						u.remark(s, "stack store [v%d%+d] not read before the function returns: removed", s.Args[0].ID, s.Imm)
						dead = append(dead, s)
					}
				}
			}
		}
		for _, c := range d.Children(b) {
			if singlePred(preds, c, b) {
				walk(c, mem.clone())
			} else {
				walk(c, memAvail{})
			}
		}
	}
	walk(f.Entry(), memAvail{})
	for _, s := range dead {
		if s.Block != nil {
			s.Block.Remove(s)
		}
	}
}

// forgetRead drops the pending stores a stack access r may read: all of
// them unless it is through the same address at other bytes.
func forgetRead(pending map[memKey]*ir.Value, r *ir.Value) {
	size := r.Op.Info().Size
	for k, s := range pending {
		if k.addr == r.Args[0].ID && disjoint(s.Imm, s.Op.Info().Size, r.Imm, size) {
			continue
		}
		delete(pending, k)
	}
}

// storeToLoad is the zero-extending load of a store's width.
func storeToLoad(op ir.Op) ir.Op { return op - ir.OpStore8 + ir.OpLoad8 }
