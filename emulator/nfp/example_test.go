package nfp_test

import (
	"fmt"
	"path/filepath"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator/nfp"
)

// Run a compiled image on the NFP emulator: one microengine with the
// CoreNIC firmware's packet path around it. Each packet's result carries
// the action, the packet as it leaves and the cycle model's figure; the
// projection turns the cycles into a card's packet rate.
func ExampleFirmware_RunPacket() {
	obj, err := loader.Load(filepath.Join("..", "..", "testdata", "progs", "xdp_drop.o"))
	if err != nil {
		fmt.Println(err)
		return
	}
	imgs, _, err := compiler.Compile(obj, compiler.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := nfp.LoadImage(imgs[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	maps, err := nfp.MapsFor(imgs[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: maps})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := fw.RunPacket(make([]byte, 60))
	if err != nil {
		fmt.Println(err)
		return
	}
	p := nfp.DefaultModel.Project(float64(r.Cycles), r.DRAMCycles)
	fmt.Printf("%s after %d instructions, %d cycles: %.1f Mpps (%s-bound)\n", r.Action, r.Instructions, r.Cycles, p.PPS/1e6, p.Bound)
	// Output: XDP_DROP after 15 instructions, 230 cycles: 54.4 Mpps (mac-bound)
}
