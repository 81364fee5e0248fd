package diff

import (
	"path/filepath"
	"strings"
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

// BenchmarkCompileCorpus compiles each nfp-jit program (load excluded) at
// -O2: issue 11 asks < 50 ms per program; ns/op is per program.
func BenchmarkCompileCorpus(b *testing.B) {
	dir := testsuite.Corpus(b, "nfp-jit")
	files, err := filepath.Glob(filepath.Join(dir, "programs", "*.bpf.o"))
	if err != nil || len(files) == 0 {
		b.Fatal("no programs")
	}
	for _, f := range files {
		obj, err := loader.Load(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(f), ".bpf.o"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := compiler.Compile(obj, compiler.Options{DefaultXDP: true, MCPU: "emulator"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
