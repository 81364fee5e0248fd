package isa

// String methods print an instruction as GNU objdump does in 4-context mode
// (the mode eBPF offload runs in), for messages and debugging; use Text for
// another mode and to learn whether objdump would flag it.

func str(in Instr) string { s, _ := Text(in, Options{Mode: Ctx4}); return s }

func (i ALUInstr) String() string     { return str(i) }
func (i ShfInstr) String() string     { return str(i) }
func (i ImmedInstr) String() string   { return str(i) }
func (i LdFieldInstr) String() string { return str(i) }
func (i CtxArbInstr) String() string  { return str(i) }
func (i CSRInstr) String() string     { return str(i) }
func (i BranchInstr) String() string  { return str(i) }
func (i BrByteInstr) String() string  { return str(i) }
func (i BrBitInstr) String() string   { return str(i) }
func (i JumpInstr) String() string    { return str(i) }
func (i MulInstr) String() string     { return str(i) }
func (i CmdInstr) String() string     { return str(i) }
func (i InvalidInstr) String() string { return str(i) }
