package compiler_test

import (
	"fmt"
	"path/filepath"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Compile an XDP program to an NFP image: the loader reads the object,
// Compile verifies, lifts, optimises and generates NFP code; the image is
// what `nfpcc prog.o -o prog.nfp` writes (Image.Write).
func ExampleCompile() {
	obj, err := loader.Load(filepath.Join("..", "testdata", "progs", "xdp_drop.o"))
	if err != nil {
		fmt.Println(err)
		return
	}
	imgs, rep, err := compiler.Compile(obj, compiler.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	img := imgs[0]
	fmt.Printf("%s: %s program, %d words of NFP code, %d maps\n", rep.Programs[0].Name, img.Program.Type, len(img.Code), len(img.Maps))
	// A program the NFP cannot run is refused with the reason.
	obj, _ = loader.Load(filepath.Join("..", "testdata", "progs", "tc_classify.o"))
	if _, _, err := compiler.Compile(obj, compiler.Options{}); err != nil {
		fmt.Println("refused")
	}
	// Output:
	// xdp_drop: xdp program, 26 words of NFP code, 0 maps
	// refused
}
