package image

// ELF constants and the fixed layout of the image (docs/image.md). Only what
// the image uses is named here.
const (
	elfHeaderSize  = 64
	sectHeaderSize = 64
	symSize        = 24

	etExec        = 2
	shtProgbits   = 1
	shtSymtab     = 2
	shtStrtab     = 3
	shtNFPInitReg = 0x70000002 // SHT_LOPROC + 2 (binutils SHT_NFP_INITREG)

	shfAlloc     = 0x2
	shfExec      = 0x4
	stbLocal     = 0
	stbGlobal    = 1
	sttFunc      = 2
	sttSection   = 3
	eFlagsNFP600 = MachNFP6000 << 8 // EF_NFP_SET_MACH(0x6000)
)

// Section names, in file order. The order is fixed so that section indices
// are constants and the output is deterministic.
const (
	secNull = iota
	secText
	secRelo
	secProg
	secMaps
	secMapInit
	secLines
	secMECSR
	secSymtab
	secStrtab
	secShstrtab
	numSections
)

var sectionNames = [numSections]string{
	secNull:     "",
	secText:     ".text.i32.me0",
	secRelo:     ".nfp.relo",
	secProg:     ".nfp.prog",
	secMaps:     ".nfp.maps",
	secMapInit:  ".nfp.mapinit",
	secLines:    ".nfp.lines",
	secMECSR:    ".regt.mecsr.i32",
	secSymtab:   ".symtab",
	secStrtab:   ".strtab",
	secShstrtab: ".shstrtab",
}

// Record sizes of the nfpcc sections.
const (
	progSize    = 32
	mapSize     = 32
	lineSize    = 16
	relocSize   = 12
	initRegSize = 16
	progVersion = 1 // .nfp.prog format version
)

// The code section sits at ME island 32, ME 0, in the code store: binutils'
// SHI_NFP_SET_ISLAND(32) | SHI_NFP_SET_MENUM(0) | SHI_NFP_MEMTYPE_USTORE.
const textInfo = 32<<24 | 0<<16 | 1

// The ME-CSR init section addresses island 32 through the CTXPB target with
// the read/write actions binutils expects (SHI_NFP_6000_IS_IREG_MECSR),
// order 1, and holds one entry: CTX_ENABLES (CSR 0x18) of ME 0, bit 31 set,
// i.e. 4-context mode, as the eBPF offload runs.
const (
	mecsrInfo      = 32<<26 | 14<<22 | 2<<17 | 1<<15 | 3<<10 | 1<<8 | 1
	mecsrW0        = 1 << 25 // NFP_IREG_VTP_CONST, last word
	mecsrCppOffset = 32<<24 | 1<<16 | (0+4)<<10 | 0x18
	mecsrCtx4Value = 1 << 31
	mecsrCtx4Mask  = 1 << 31
	firstGlobalSym = 2 // symbols 0 and 1 are local
)
