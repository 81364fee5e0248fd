package verifier

import "github.com/cilium/ebpf/asm"

// A quick rejection before comparing states.
//
// Most comparisons at a prune point fail (about seven in eight on the
// cilium corpus), and two thirds of the failures are on something old
// demands exactly: a register's kind, a precise constant, a pointer's
// offset. Each comparison used to read the old state through four
// pointers, which was most of its cost. A fully explored checkpoint's
// demands no longer change (its precision and liveness are final when it
// is done), so they are summarised once, when it joins the done list, as a
// hash over the registers of the innermost frame it compares (doneEntry):
// a state that hashes differently is not included, and the old state is
// only read when the hashes agree.

// doneEntry is a fully explored checkpoint in the list of its pc, with its
// summary and the prune counters, kept in the list so that a rejection
// reads nothing else.
type doneEntry struct {
	c *checkpoint
	// sig hashes what modes selects of the checkpoint's state; modes has
	// two bits per register r0-r9 of the innermost frame (sigKind...).
	sig   uint64
	modes uint32
	// hits and misses count prune attempts, to forget useless states.
	hits, misses int32
	// hint is where the last comparison failed.
	hint failAt
}

// What the summary takes of one register.
const (
	sigNone  = iota // not compared, or anything matches
	sigKind         // the kind
	sigConst        // the kind and the constant value
	sigPtr          // the kind, constant offset, map and frame
)

// sigModes chooses, for a checkpoint's state st at a pc whose live
// registers are live, what covers demands exactly of each register of the
// innermost frame; prec is the checkpoint's precise set (nil: everything
// is precise).
func sigModes(st *State, live uint16, prec *precSet) uint32 {
	fi := len(st.frames) - 1
	f := st.frames[fi]
	var modes uint32
	for r := 0; r < 10; r++ {
		if live&(1<<r) == 0 {
			continue
		}
		o := &f.regs[r]
		m := uint32(sigPtr)
		switch {
		case o.Kind == Uninit:
			continue
		case o.Kind == ScalarKind:
			m = sigKind
			if (prec == nil || prec.hasReg(fi, asm.Register(r))) && o.Value.IsConst() {
				// Contains of a constant holds only for the same constant.
				m = sigConst
			}
		}
		modes |= m << (2 * r)
	}
	return modes
}

// stateSig hashes what modes selects of st, with the depth and call site
// (covers demands them equal too). Equal demands give equal hashes.
func stateSig(st *State, modes uint32) uint64 {
	f := st.frames[len(st.frames)-1]
	h := mix(uint64(len(st.frames)), uint64(uint32(f.callsite)))
	for r := 0; modes != 0; r, modes = r+1, modes>>2 {
		x := &f.regs[r]
		switch modes & 3 {
		case sigNone:
			continue
		case sigKind:
			h = mix(h, uint64(x.Kind)|uint64(r)<<8)
		case sigConst:
			k := uint64(x.Kind) | uint64(r)<<8
			if x.Value.IsConst() {
				k |= 1 << 16
			}
			h = mix(mix(h, k), x.Value.Var.Value)
		case sigPtr:
			h = mix(h, uint64(x.Kind)|uint64(r)<<8|uint64(uint8(x.Frame))<<16|uint64(uint32(x.Off))<<32)
			h = mix(h, uint64(uint32(x.Map)))
		}
	}
	return h
}

// mix folds x into the hash h.
func mix(h, x uint64) uint64 {
	h ^= x
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// newDoneEntry summarises a checkpoint that has just been fully explored.
func (v *vm) newDoneEntry(c *checkpoint) doneEntry {
	var prec *precSet
	if v.precise {
		prec = &c.prec
	}
	m := sigModes(c.st, v.live[c.pc], prec)
	return doneEntry{c: c, sig: stateSig(c.st, m), modes: m, hint: noFail}
}

// failAt is the register (reg ≥ 0) or stack slot of call frame frame where
// a comparison with a done checkpoint last failed; frame -1: none. The next
// state compared with that checkpoint is checked there first: states that
// reach a pc differ again and again in the same place (a loop counter, a
// spilled offset), and the place is one read instead of a whole walk.
type failAt struct{ frame, reg, slot int8 }

var noFail = failAt{frame: -1}

// fails reports that old does not include cur because of the register or
// slot at, compared alone. With no link seen yet a comparison fails only
// where it fails whatever the other values' links (an old link against no
// link), so this rejects nothing that covers accepts.
func (at failAt) fails(old, cur *State, live uint16, prec *precSet, slive *slotMask) bool {
	fi := int(at.frame)
	if fi < 0 || fi >= len(old.frames) || len(cur.frames) != len(old.frames) {
		return false
	}
	of, cf := old.frames[fi], cur.frames[fi]
	ids := idMap{lenient: prec != nil}
	if at.reg >= 0 {
		mask := live
		if fi != len(old.frames)-1 {
			mask = 0x3c0 // as covers
		}
		r := asm.Register(at.reg)
		return mask&(1<<r) != 0 && !regCovers(&of.regs[r], &cf.regs[r], &ids, prec == nil || prec.hasReg(fi, r))
	}
	i := int(at.slot)
	live8 := uint8(0xff)
	if slive != nil {
		if live8 = slive.bytes(fi, i); live8 == 0 {
			return false
		}
	}
	os := of.slot(i)
	return os != nil && !slotCovers(os, cf.slot(i), &ids, prec == nil || prec.hasSlot(fi, i), live8)
}
