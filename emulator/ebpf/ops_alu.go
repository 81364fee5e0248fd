// The ALU and jump ops were written out by a one-off script from the
// tables of RFC 9669 sections 4.1 and 4.3; exec_alu.go holds their bodies.

package ebpf

// The ALU and conditional-jump operations of the internal form, one per
// (operation, width, source) so that the run loop dispatches once.
const (
	opAdd64Imm op = iota + opFirstGenerated
	opAdd64Reg
	opAdd32Imm
	opAdd32Reg
	opSub64Imm
	opSub64Reg
	opSub32Imm
	opSub32Reg
	opMul64Imm
	opMul64Reg
	opMul32Imm
	opMul32Reg
	opDiv64Imm
	opDiv64Reg
	opDiv32Imm
	opDiv32Reg
	opSdiv64Imm
	opSdiv64Reg
	opSdiv32Imm
	opSdiv32Reg
	opOr64Imm
	opOr64Reg
	opOr32Imm
	opOr32Reg
	opAnd64Imm
	opAnd64Reg
	opAnd32Imm
	opAnd32Reg
	opLsh64Imm
	opLsh64Reg
	opLsh32Imm
	opLsh32Reg
	opRsh64Imm
	opRsh64Reg
	opRsh32Imm
	opRsh32Reg
	opMod64Imm
	opMod64Reg
	opMod32Imm
	opMod32Reg
	opSmod64Imm
	opSmod64Reg
	opSmod32Imm
	opSmod32Reg
	opXor64Imm
	opXor64Reg
	opXor32Imm
	opXor32Reg
	opMov64Imm
	opMov64Reg
	opMov32Imm
	opMov32Reg
	opArsh64Imm
	opArsh64Reg
	opArsh32Imm
	opArsh32Reg
	opJeq64Imm
	opJeq64Reg
	opJeq32Imm
	opJeq32Reg
	opJgt64Imm
	opJgt64Reg
	opJgt32Imm
	opJgt32Reg
	opJge64Imm
	opJge64Reg
	opJge32Imm
	opJge32Reg
	opJset64Imm
	opJset64Reg
	opJset32Imm
	opJset32Reg
	opJne64Imm
	opJne64Reg
	opJne32Imm
	opJne32Reg
	opJsgt64Imm
	opJsgt64Reg
	opJsgt32Imm
	opJsgt32Reg
	opJsge64Imm
	opJsge64Reg
	opJsge32Imm
	opJsge32Reg
	opJlt64Imm
	opJlt64Reg
	opJlt32Imm
	opJlt32Reg
	opJle64Imm
	opJle64Reg
	opJle32Imm
	opJle32Reg
	opJslt64Imm
	opJslt64Reg
	opJslt32Imm
	opJslt32Reg
	opJsle64Imm
	opJsle64Reg
	opJsle32Imm
	opJsle32Reg
	opLastGenerated
)

var generatedOpNames = map[op]string{
	opAdd64Imm:  "add imm",
	opAdd64Reg:  "add reg",
	opAdd32Imm:  "add32 imm",
	opAdd32Reg:  "add32 reg",
	opSub64Imm:  "sub imm",
	opSub64Reg:  "sub reg",
	opSub32Imm:  "sub32 imm",
	opSub32Reg:  "sub32 reg",
	opMul64Imm:  "mul imm",
	opMul64Reg:  "mul reg",
	opMul32Imm:  "mul32 imm",
	opMul32Reg:  "mul32 reg",
	opDiv64Imm:  "div imm",
	opDiv64Reg:  "div reg",
	opDiv32Imm:  "div32 imm",
	opDiv32Reg:  "div32 reg",
	opSdiv64Imm: "sdiv imm",
	opSdiv64Reg: "sdiv reg",
	opSdiv32Imm: "sdiv32 imm",
	opSdiv32Reg: "sdiv32 reg",
	opOr64Imm:   "or imm",
	opOr64Reg:   "or reg",
	opOr32Imm:   "or32 imm",
	opOr32Reg:   "or32 reg",
	opAnd64Imm:  "and imm",
	opAnd64Reg:  "and reg",
	opAnd32Imm:  "and32 imm",
	opAnd32Reg:  "and32 reg",
	opLsh64Imm:  "lsh imm",
	opLsh64Reg:  "lsh reg",
	opLsh32Imm:  "lsh32 imm",
	opLsh32Reg:  "lsh32 reg",
	opRsh64Imm:  "rsh imm",
	opRsh64Reg:  "rsh reg",
	opRsh32Imm:  "rsh32 imm",
	opRsh32Reg:  "rsh32 reg",
	opMod64Imm:  "mod imm",
	opMod64Reg:  "mod reg",
	opMod32Imm:  "mod32 imm",
	opMod32Reg:  "mod32 reg",
	opSmod64Imm: "smod imm",
	opSmod64Reg: "smod reg",
	opSmod32Imm: "smod32 imm",
	opSmod32Reg: "smod32 reg",
	opXor64Imm:  "xor imm",
	opXor64Reg:  "xor reg",
	opXor32Imm:  "xor32 imm",
	opXor32Reg:  "xor32 reg",
	opMov64Imm:  "mov imm",
	opMov64Reg:  "mov reg",
	opMov32Imm:  "mov32 imm",
	opMov32Reg:  "mov32 reg",
	opArsh64Imm: "arsh imm",
	opArsh64Reg: "arsh reg",
	opArsh32Imm: "arsh32 imm",
	opArsh32Reg: "arsh32 reg",
	opJeq64Imm:  "jeq imm",
	opJeq64Reg:  "jeq reg",
	opJeq32Imm:  "jeq32 imm",
	opJeq32Reg:  "jeq32 reg",
	opJgt64Imm:  "jgt imm",
	opJgt64Reg:  "jgt reg",
	opJgt32Imm:  "jgt32 imm",
	opJgt32Reg:  "jgt32 reg",
	opJge64Imm:  "jge imm",
	opJge64Reg:  "jge reg",
	opJge32Imm:  "jge32 imm",
	opJge32Reg:  "jge32 reg",
	opJset64Imm: "jset imm",
	opJset64Reg: "jset reg",
	opJset32Imm: "jset32 imm",
	opJset32Reg: "jset32 reg",
	opJne64Imm:  "jne imm",
	opJne64Reg:  "jne reg",
	opJne32Imm:  "jne32 imm",
	opJne32Reg:  "jne32 reg",
	opJsgt64Imm: "jsgt imm",
	opJsgt64Reg: "jsgt reg",
	opJsgt32Imm: "jsgt32 imm",
	opJsgt32Reg: "jsgt32 reg",
	opJsge64Imm: "jsge imm",
	opJsge64Reg: "jsge reg",
	opJsge32Imm: "jsge32 imm",
	opJsge32Reg: "jsge32 reg",
	opJlt64Imm:  "jlt imm",
	opJlt64Reg:  "jlt reg",
	opJlt32Imm:  "jlt32 imm",
	opJlt32Reg:  "jlt32 reg",
	opJle64Imm:  "jle imm",
	opJle64Reg:  "jle reg",
	opJle32Imm:  "jle32 imm",
	opJle32Reg:  "jle32 reg",
	opJslt64Imm: "jslt imm",
	opJslt64Reg: "jslt reg",
	opJslt32Imm: "jslt32 imm",
	opJslt32Reg: "jslt32 reg",
	opJsle64Imm: "jsle imm",
	opJsle64Reg: "jsle reg",
	opJsle32Imm: "jsle32 imm",
	opJsle32Reg: "jsle32 reg",
}
