package compiler

import (
	"sort"

	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa/image"
)

// scopeMaps keeps in the image only the maps the program still refers to
// after the passes, renumbered in object order (the ids in m are rewritten
// to match). Maps of the object the program never uses (a per-CPU array of
// another program, a .rodata map whose reads all became constants) do not
// reach the NFP: the image loads wherever the program itself could.
func scopeMaps(m *ir.Module, all []image.Map) []image.Map {
	used := map[int64]bool{}
	for _, f := range m.Funcs {
		for _, b := range f.Blocks {
			for _, v := range b.Instrs {
				if v.Op == ir.OpMapRef || v.Op == ir.OpMapValue {
					used[v.Imm] = true
				}
			}
		}
	}
	ids := make([]int64, 0, len(used))
	for id := range used {
		if id >= 0 && id < int64(len(all)) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	newID := make(map[int64]int64, len(ids))
	out := make([]image.Map, 0, len(ids))
	for i, id := range ids {
		newID[id] = int64(i)
		out = append(out, all[id])
	}
	seen := map[*ir.Facts]bool{} // a Facts may be shared: remap it once
	for _, f := range m.Funcs {
		for _, b := range f.Blocks {
			for _, v := range b.Instrs {
				if n, ok := newID[v.Imm]; ok && (v.Op == ir.OpMapRef || v.Op == ir.OpMapValue) {
					v.Imm = n
				}
			}
		}
		for _, fa := range f.Facts {
			if fa == nil || fa.Map == nil || seen[fa] {
				continue
			}
			seen[fa] = true
			if n, ok := newID[*fa.Map]; ok {
				fa.Map = &n
			} else {
				fa.Map = nil
			}
		}
	}
	return out
}
