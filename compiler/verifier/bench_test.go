package verifier_test

import (
	"path/filepath"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite"
)

// BenchmarkLargestSamples verifies the largest XDP programs of
// ebpf-samples and reports instructions verified per second (program
// instructions, not processed states: PREVAIL's figure of ≈5k/s counts
// the same way).
func BenchmarkLargestSamples(b *testing.B) {
	dir := testsuite.Corpus(b, "ebpf-samples")
	for _, c := range []struct{ file, prog string }{
		{"suricata/xdp_filter.o", ""},
		{"linux/xdp_tx_iptunnel_kern.o", ""},
		{"linux/xdp_fwd_kern.o", "xdp_fwd_prog"},
	} {
		obj, err := loader.Load(filepath.Join(dir, c.file))
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range obj.Programs {
			if c.prog != "" && p.Name != c.prog || p.Type == 0 {
				continue
			}
			b.Run(filepath.Base(c.file)+"/"+p.Name, func(b *testing.B) {
				n := 0
				for i := 0; i < b.N; i++ {
					res, err := verifier.Verify(p, obj.Maps, nil)
					if err != nil {
						b.Fatal(err)
					}
					n += len(res.Facts)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "insns/s")
			})
			if c.prog == "" {
				break
			}
		}
	}
}
