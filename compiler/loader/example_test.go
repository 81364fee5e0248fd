package loader_test

import (
	"fmt"
	"path/filepath"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Load an eBPF object (clang -O2 -g --target=bpf) and list its programs
// and maps: each program's instructions are in the kernel's form, map
// references resolved to indices into Object.Maps.
func ExampleLoad() {
	obj, err := loader.Load(filepath.Join("..", "..", "testdata", "progs", "xdp_router.o"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range obj.Programs {
		fmt.Printf("program %s (section %s, %v): %d instructions\n", p.Name, p.Section, p.Type, len(p.Insns))
	}
	for _, m := range obj.Maps {
		fmt.Printf("map %s: %v, key %d bytes, value %d bytes, %d entries\n", m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries)
	}
	// Output:
	// program xdp_router (section xdp, XDP): 72 instructions
	// map routes: Array, key 4 bytes, value 24 bytes, 256 entries
}
