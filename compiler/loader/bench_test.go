package loader

import (
	"os"
	"testing"
)

// BenchmarkLoad loads a large old object (xdp_tx_iptunnel: 283 slots,
// legacy maps, symbol repair) and a modern BTF one (testdata xdp_lb:
// global data, BTF maps, line info).
func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct{ name, path string }{
		{"xdp_tx_iptunnel", corpusObject(b, "linux/xdp_tx_iptunnel_kern.o")},
		{"xdp_lb", progsObject(b, "xdp_lb.o")},
	} {
		data, err := os.ReadFile(c.path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := LoadBytes(c.name, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
