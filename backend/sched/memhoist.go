package sched

import (
	"github.com/nfpcc/nfpcc/backend/mir"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
)

// memSpacing is the gap, in cycles since the previous memory command, from
// which a blocking command costs its minimum (3 cycles for MAX 16:
// docs/cycle-model.md's `MAX − (t − last_mem)`, at least 3).
const memSpacing = 13

// MemHoist moves independent one-cycle words from right after a blocking
// memory command to before it. A command waits MAX − (t − last_mem)
// cycles when issued soon after the previous one (16 right at the start),
// so work done before it instead of after costs nothing and shortens the
// wait — but shortens the gap to the next command by as much: words move
// only while every path from the command still does at least memSpacing
// words before the next command (counted in words, a lower bound on
// cycles), so no command waits longer than before. The scan stops at a
// label, a branch or defer slot, the next memory command, and anything the
// moved word depends on; the rules for a word are LMFill's.
func MemHoist(f *mir.Func) int {
	dist := memDistance(f)
	// Moves stay within a label-free run of words, so labels and defer
	// slots keep their indices.
	at, slot := f.LabelsAt(), f.DeferSlots()
	n := 0
	for m := 0; m < len(f.Instrs); m++ {
		if !blockingCmd(&f.Instrs[m]) || m+1 >= len(f.Instrs) {
			continue
		}
		if at[m] || slot[m] {
			continue // code jumping to the command must not skip hoisted words
		}
		budget := min(memSpacing, dist[m+1]-memSpacing)
		ins := m // where the next hoisted word goes: right before the command
		for x := m + 1; x < len(f.Instrs) && budget > 0; x++ {
			it := &f.Instrs[x]
			if at[x] || slot[x] || it.Kind != mir.Plain || blockingCmd(it) {
				break
			}
			if !hoistable(f, x, ins) {
				continue
			}
			w := f.Instrs[x]
			w.In = noCC(w.In)
			copy(f.Instrs[ins+1:x+1], f.Instrs[ins:x])
			f.Instrs[ins] = w
			ins++
			budget--
			n++
		}
		m = ins // the command's new index
	}
	return n
}

// hoistable reports whether word x may run before words ins..x-1.
func hoistable(f *mir.Func, x, ins int) bool {
	it := &f.Instrs[x]
	if !movable(it) || isFiller(it) || readsPrev(it) || csrNear(f, x) || !deadCC(f, x) {
		return false
	}
	if x+1 < len(f.Instrs) && readsPrev(&f.Instrs[x+1]) {
		return false // the next word takes something from this one
	}
	if lmHazard(f, ins, it) {
		return false // it would use an LM pointer before its write takes effect
	}
	w := effectsOf(it)
	for k := ins; k < x; k++ {
		c := effectsOf(&f.Instrs[k])
		if c.barrier || c.readsPrev && k == ins {
			return false
		}
		if dependent(w, c) {
			return false
		}
	}
	return true
}

// blockingCmd reports a memory command that waits for its signal.
func blockingCmd(it *mir.Instr) bool {
	in, ok := it.In.(isa.CmdInstr)
	return it.Kind == mir.Plain && ok && in.Ctx != isa.CtxNoSwap
}

// memDistance gives, for every word, the fewest words any path from it
// runs before a memory command (0 at a command; a firmware helper call
// counts as one, the exit as none ever): a backward fixed point over the
// machine IR's control flow. Unreached ends are "far" (a large number).
func memDistance(f *mir.Func) []int {
	const far = 1 << 20
	n := len(f.Instrs)
	d := make([]int, n+1)
	for i := range d {
		d[i] = far
	}
	// Each word's successors (at most two; -1: none), and whether it is
	// where a path meets memory.
	s1, s2 := make([]int, n), make([]int, n)
	mem := make([]bool, n)
	for i := range f.Instrs {
		it := &f.Instrs[i]
		s1[i], s2[i] = i+1, -1
		switch {
		case blockingCmd(it):
			mem[i] = true
		case it.Kind == mir.Branch && it.Reloc != 0 && !exits(it.Reloc):
			mem[i] = true // a firmware call, which may issue commands
		case it.Kind == mir.Branch:
			if it.Cond == isa.BR && it.Defer == 0 {
				s1[i] = -1 // no fall through (defer slots run first)
			}
			if it.Reloc == 0 {
				s2[i] = f.Labels[it.Target]
			} // (an exit's taken side leads nowhere)
		}
	}
	for changed := true; changed; {
		changed = false
		for i := n - 1; i >= 0; i-- {
			v := far
			if mem[i] {
				v = 0
			} else {
				for _, s := range [2]int{s1[i], s2[i]} {
					if s >= 0 && s <= n {
						v = min(v, 1+d[s])
					}
				}
			}
			if v < d[i] {
				d[i] = v
				changed = true
			}
		}
	}
	return d
}

// exits are the load-time branch targets that end the program's path.
func exits(k image.RelocKind) bool {
	return k == image.RelocBrGoOut || k == image.RelocBrGoAbort || k == image.RelocBrNextPkt
}
