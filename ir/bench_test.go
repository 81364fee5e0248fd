package ir

import (
	"testing"

	"golang.org/x/tools/txtar"
)

func benchSource(b *testing.B) string {
	ar, err := txtar.ParseFile("testdata/ok_all_ops.txtar")
	if err != nil {
		b.Fatal(err)
	}
	src, _ := section(ar, "ir")
	return src
}

// BenchmarkParse measures the text parser (participle) on the op-coverage
// file (~170 lines).
func BenchmarkParse(b *testing.B) {
	src := benchSource(b)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrint(b *testing.B) {
	m, err := Parse(benchSource(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Print(m)
	}
}

// BenchmarkCheck measures the invariant checker, run after every pass with
// -d=check.
func BenchmarkCheck(b *testing.B) {
	m, err := Parse(benchSource(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := CheckModule(m); err != nil {
			b.Fatal(err)
		}
	}
}
