package isa_test

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

const goldenPath = "testdata/disasm.txtar"

// goldenWords reads the "words" section of the disassembly golden.
func goldenWords(t testing.TB, a *golden.Archive) []isa.Word {
	sec, ok := a.Lookup("words")
	if !ok {
		t.Fatalf("%s has no words section", goldenPath)
	}
	var ws []isa.Word
	for n, l := range strings.Split(sec, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(l, "0x"), 16, 64)
		if err != nil {
			t.Fatalf("%s: words line %d: %v", goldenPath, n+1, err)
		}
		ws = append(ws, isa.Word(v))
	}
	return ws
}

// TestDisasmGolden: the words of testdata/disasm.txtar (one or more of
// every class, with odd bit patterns) print as recorded, in both context
// modes (sections ctx4 and ctx8, rewritten by go test -update), and
// re-encode to themselves. With GNU objdump present, TestGNUDisasmGolden
// checks the recorded text against it.
func TestDisasmGolden(t *testing.T) {
	a := golden.Open(t, goldenPath)
	words := goldenWords(t, a)
	for _, m := range []isa.Mode{isa.Ctx4, isa.Ctx8} {
		var b strings.Builder
		for _, w := range words {
			fmt.Fprintf(&b, "%016x  %s\n", uint64(w), isa.Disasm(w, isa.Options{Mode: m}))
			if isa.CheckECC(w) == nil {
				if got, err := isa.Encode(isa.Decode(w)); err != nil || got != w {
					t.Errorf("0x%016x re-encodes to 0x%016x, %v", uint64(w), uint64(got), err)
				}
			}
		}
		a.Check(t, fmt.Sprintf("ctx%d", m), b.String())
	}
}

func TestGNUDisasmGolden(t *testing.T) {
	objdump := testsuite.GNUObjdump(t)
	crossCheck(t, objdump, "golden words", goldenWords(t, golden.Open(t, goldenPath)))
}

// TestWriteGoldenWords regenerates the words section (go test -run
// WriteGoldenWords -update -golden-words): the §8 words and, per class, a
// few seeded random words of that class.
func TestWriteGoldenWords(t *testing.T) {
	if !golden.Update() || !*regenWords {
		t.Skip("only with -update -golden-words")
	}
	var b bytes.Buffer
	b.WriteString("# nfp-isa.md §8 golden words\n")
	for _, g := range section8Words {
		fmt.Fprintf(&b, "%016x\n", g)
	}
	r := rand.New(rand.NewSource(28))
	for c := isa.ClassInvalid; c <= isa.ClassMul; c++ {
		fmt.Fprintf(&b, "# %s\n", c)
		for n := 0; n < 12; {
			x := r.Uint64() & isa.InstrMask
			if c != isa.ClassCmd {
				x |= 1 << 39
			}
			if isa.ClassOf(isa.Word(x)) != c {
				continue
			}
			fmt.Fprintf(&b, "%016x\n", uint64(isa.WithECC(x)))
			n++
		}
	}
	a := &txtar.Archive{
		Comment: []byte("Disassembly golden: words (hex, one per line) and their GNU objdump 2.40 text\n" +
			"in 4- and 8-context mode. Regenerate the text with go test ./isa -run DisasmGolden -update;\n" +
			"TestGNUDisasmGolden checks it against GNU objdump when that is installed.\n"),
		Files: []txtar.File{{Name: "words", Data: b.Bytes()}},
	}
	if err := os.WriteFile(goldenPath, txtar.Format(a), 0o644); err != nil {
		t.Fatal(err)
	}
}

var regenWords = flag.Bool("golden-words", false, "with -update: regenerate the words of testdata/disasm.txtar")

// section8Words are the words with ECC of nfp-isa.md §8 and §8.1.
var section8Words = []uint64{
	0x000000f0000c0300, 0x000502f0000c0800, 0x000f20f003f05bff, 0x000562f0800c5402, 0x000142f28edf2c03,
	0x000e62f0056de003, 0x0001e2f4412cd003, 0x000880f001fe0300, 0x000700b441605a20, 0x000a02a080401804,
	0x000362a880501c05, 0x000e22aa80401300, 0x0009a0aaf0000804, 0x000942a000201000, 0x000360a058000002,
	0x000642a000260400, 0x000120a020301000, 0x000366a00048c000, 0x000186a000881400, 0x00098281d0401200,
	0x0008028030401100, 0x0006e281d0501305, 0x0003628c70401100, 0x0004028000401100, 0x000bc094002409ff,
	0x000462c08f080802, 0x000482c003120002, 0x000880d819008120, 0x000080d802808125, 0x000ac1d8ca208038,
	0x000dc0d001c49802, 0x000260e8003c0015, 0x0005d0431604b85a, 0x0007505c12088002, 0x0000e45c12080c02,
	0x0007504212089804, 0x0003844718000e02, 0x0000c64700080f02, 0x000340fc06601300, 0x000780fc09ec0016,
	0x000ca0fc096c1705, 0x000ea0fc14800000, 0x0000c0f800000800, 0x000cc0f980000800, 0x000402f980400000,
	0x0001a2f980500001, 0x000302f900400000, 0x000cc2f0000c0001, 0x000ae0db02008038, 0x000060d800608038,
	0x000a00a0000c0000, 0x000800c10c048a00, 0x000460aab0000303, 0x000540db01408125, 0x000da0f002200b82,
	0x000b60f444400b11, 0x000b0081d0100200, 0x000200aa300c0001, 0x000100c10c000a00,
}
