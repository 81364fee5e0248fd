package gen

import (
	"math/rand/v2"
)

// commonLens are frame lengths of real traffic (minimum Ethernet, TCP/UDP
// over IPv4 and IPv6) besides the ones the program checks.
var commonLens = [...]int{60, 64, 74, 86, 98, 128, 150, 200, 256}

// Packets makes n frames for p, deterministically from seed: mostly frames
// built along the program's hints (the compared header fields take the
// compared values, lengths sit at and around the checked ones, so the
// deep paths run), plus random bytes, Ethernet/IPv4-looking frames, and
// short frames (0 to 13 bytes) that fail every check.
func Packets(p *Program, seed uint64, n int) [][]byte {
	var src rand.PCG
	src.Seed(seed, 0x7061636b657473) // "packets"
	rng := rand.New(&src)
	var lens []int
	maxHint := 0
	for _, h := range p.Hints {
		if h.Size == 0 {
			lens = append(lens, int(h.Off))
		}
		if e := int(h.Off) + int(h.Size); e > maxHint {
			maxHint = e
		}
	}
	out := make([][]byte, n)
	for i := range out {
		var l int
		hints := true
		switch k := rng.IntN(16); {
		case k == 0:
			l = rng.IntN(14)
		case k < 3:
			l = 14 + rng.IntN(120)
			hints = false
		case k < 10 && len(lens) > 0:
			l = lens[rng.IntN(len(lens))] + rng.IntN(4) - 1
			if rng.IntN(3) == 0 {
				l += rng.IntN(48)
			}
		default:
			l = commonLens[rng.IntN(len(commonLens))]
			if l < maxHint {
				l = maxHint + rng.IntN(32)
			}
		}
		l = max(l, 0)
		b := make([]byte, l)
		small := rng.IntN(3) == 0 // few distinct byte values: map keys collide
		for j := range b {
			if small {
				b[j] = byte(rng.IntN(4))
			} else {
				b[j] = byte(rng.Uint32())
			}
		}
		if hints {
			applyHints(b, p.Hints, rng)
		}
		out[i] = b
	}
	return out
}

// applyHints writes hint bytes into b, each with probability 4/5, starting
// at a random hint so that conflicting values (two ethertypes) alternate
// between frames; a byte already written by a hint is not overwritten.
// Without an ethertype hint the frame looks like Ethernet/IPv4 half the time.
func applyHints(b []byte, hints []Hint, rng *rand.Rand) {
	var taken [256]bool
	if len(hints) > 0 {
		start := rng.IntN(len(hints))
		for k := range hints {
			h := &hints[(start+k)%len(hints)]
			off, size := int(h.Off), int(h.Size)
			if size == 0 || off+size > len(b) || off+size > len(taken) || rng.IntN(5) == 0 {
				continue
			}
			free := true
			for j := off; j < off+size; j++ {
				free = free && !taken[j]
			}
			if !free {
				continue
			}
			for j := 0; j < size; j++ {
				b[off+j] = h.Bytes[j]
				taken[off+j] = true
			}
		}
	}
	if len(b) >= 24 && !taken[12] && !taken[13] && rng.IntN(2) == 0 {
		b[12], b[13] = 0x08, 0x00
		if !taken[14] {
			b[14] = 0x45
		}
		if !taken[23] {
			b[23] = [...]byte{6, 17, 1}[rng.IntN(3)]
		}
	}
}
