package gen

// Packets is a stub until the frame generator lands.
func Packets(p *Program, seed uint64, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, 14+i*8)
	}
	return out
}
