package diff

import (
	"path/filepath"
	"testing"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite"
)

// BenchmarkCompileQuicLB is the whole pipeline (verify, lift, backend) on
// the largest nfp-jit program (251 eBPF instructions).
func BenchmarkCompileQuicLB(b *testing.B) {
	dir := testsuite.Corpus(b, "nfp-jit")
	obj, err := loader.Load(filepath.Join(dir, "programs", "xdp-quic-lb.bpf.o"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := compiler.Compile(obj, compiler.Options{DefaultXDP: true, MCPU: "emulator"}); err != nil {
			b.Fatal(err)
		}
	}
}
