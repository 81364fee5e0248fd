package nfp

import "hash/maphash"

// Profile collects where the cycles go over many packets, as perf annotate
// does for a CPU: per code word its executions and the published model's
// cycles charged to it, per packet its cycles, and the distinct paths the
// packets took. Set Firmware.Profile before running packets; a profiled
// run goes through the general step (every word is seen), so it is slower.
type Profile struct {
	Counts []uint64 // per word: times executed
	Cycles []int64  // per word: model cycles charged (published model)

	// Per packet: the published and the extended figure, the path's index
	// in Paths (-1: more distinct paths than MaxPaths).
	PacketCycles    []int64
	PacketExtCycles []int64
	PacketPath      []int

	// Paths are the distinct paths, in order of first appearance.
	Paths []*ProfilePath

	pathOf  map[uint64]int
	seed    maphash.Seed
	hash    maphash.Hash
	words   []uint32 // the current packet's words, in order
	prevPC  int
	prevT   int64
	started bool
}

// ProfilePath is one distinct path: the words it executes (in order, with
// repeats for loops), how many packets took it, and its cycles.
type ProfilePath struct {
	Words   []uint32
	Packets int
	Cycles  int64 // published model, of the first packet that took it
}

// MaxPaths bounds the distinct paths a Profile keeps.
const MaxPaths = 256

// NewProfile returns an empty profile for a program of n words.
func NewProfile(n int) *Profile {
	p := &Profile{Counts: make([]uint64, n), Cycles: make([]int64, n), pathOf: map[uint64]int{}, seed: maphash.MakeSeed()}
	p.hash.SetSeed(p.seed)
	return p
}

// Hottest is the index of the path most packets took (ties: the one with
// more cycles), or -1.
func (p *Profile) Hottest() int {
	best := -1
	for i, q := range p.Paths {
		if best < 0 || q.Packets > p.Paths[best].Packets ||
			(q.Packets == p.Paths[best].Packets && q.Cycles > p.Paths[best].Cycles) {
			best = i
		}
	}
	return best
}

func (p *Profile) begin() {
	p.started = false
	p.words = p.words[:0]
	p.hash.Reset()
}

// step sees the word at pc about to run, with the model's figure so far.
func (p *Profile) step(pc uint32, t int64) {
	if int(pc) >= len(p.Counts) {
		return
	}
	if p.started {
		p.Cycles[p.prevPC] += t - p.prevT
	}
	p.started, p.prevPC, p.prevT = true, int(pc), t
	p.Counts[pc]++
	p.words = append(p.words, pc)
	var b [4]byte
	b[0], b[1], b[2], b[3] = byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24)
	p.hash.Write(b[:])
}

// end closes a packet that took the published figure t and extended x.
func (p *Profile) end(t, x int64) {
	if p.started {
		p.Cycles[p.prevPC] += t - p.prevT
	}
	p.PacketCycles = append(p.PacketCycles, t)
	p.PacketExtCycles = append(p.PacketExtCycles, x)
	h := p.hash.Sum64()
	i, ok := p.pathOf[h]
	switch {
	case ok:
		p.Paths[i].Packets++
	case len(p.Paths) < MaxPaths:
		i = len(p.Paths)
		p.pathOf[h] = i
		p.Paths = append(p.Paths, &ProfilePath{Words: append([]uint32(nil), p.words...), Packets: 1, Cycles: t})
	default:
		i = -1
	}
	p.PacketPath = append(p.PacketPath, i)
}
