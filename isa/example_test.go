package isa_test

import (
	"fmt"

	"github.com/nfpcc/nfpcc/isa"
)

func Example() {
	add := isa.ALU(isa.GPRBoth(4), isa.GPRA(4), isa.OpAdd, isa.GPRB(6))
	w, err := isa.Encode(add)
	fmt.Printf("0x%016x %v %v\n", uint64(w), err, add)

	br := isa.Br(isa.BR, 9000)
	br.Defer = 2
	fmt.Println(isa.Disasm(isa.MustEncode(br), isa.Options{Mode: isa.Ctx4}))

	_, err = isa.Encode(isa.ALU(isa.GPRA(1), isa.GPRA(2), isa.OpAdd, isa.GPRA(3)))
	fmt.Println(err)

	in := isa.Decode(0x000366a00048c000)
	dst := in.(isa.ALUInstr).Dest(isa.Ctx4)
	_, src := in.(isa.ALUInstr).Sources(isa.Ctx4)
	fmt.Println(in, "|", dst.Kind == isa.KGPR, dst.Bank == isa.BankBoth, src.Kind == isa.KLM, src.Index, src.Mod == isa.ModInc)
	// Output:
	// 0x000a02a080401804 <nil> alu[gprA_4, gprA_4, +, gprB_6], gpr_wrboth
	// br[.9000], defer[2]
	// isa: alu: two bank A GPR sources (gprA_2, gprA_3): one must be in the A field and one in the B field
	// alu[gprA_4, --, B, *l$index3++], gpr_wrboth | true true true 3 true
}
