// Package image reads, writes and validates the `.nfp` image: the container
// in which nfpcc hands a compiled program to the NFP emulator, to a loader
// or to a person with `readelf`.
//
// An image is an ELF64 little-endian file with e_machine = EM_NFP (250) and
// e_flags naming the NFP-6xxx family, laid out like Netronome's own firmware
// files where that helps existing tools: the code lives in a section named
// `.text.i32.me0` (SHF_ALLOC|SHF_EXECINSTR, sh_info = island 32, ME 0, ustore),
// which is how GNU objdump built for nfp-elf finds and disassembles ME code,
// and a `.regt.mecsr.i32` init-register section puts that ME in 4-context
// mode so objdump decodes it as the Linux JIT's code without `-M ctx4`.
//
// The code words are what the Linux nfp driver DMAs to the card: a 45-bit
// instruction with its 7 ECC bits at 51:45, stored as a little-endian u64
// (nfp-isa.md §1.1). They are kept in their position-independent form: what
// is only known at load time (where the code is placed, the firmware's
// next-packet and helper addresses) is described by relocations that mirror
// the kernel's `enum nfp_relo_type` (nfp-isa.md §4.12), applied by Relocate.
// Beside the code the image carries the program metadata, the map table with
// initial contents for global data, and a line table from NFP address to eBPF
// pc and source line. docs/image.md describes the format field by field.
//
// Read(Write(img)) returns an image equal to img, and Write is deterministic:
// the same image gives byte-identical files.
package image

import "fmt"

// EMNFP is the ELF machine number of the Netronome Flow Processor.
const EMNFP = 250

// MachNFP6000 is the chip family in e_flags bits 23:8 (binutils
// EF_NFP_SET_MACH), shared by NFP-4000 and NFP-6000 (ME version 2.8).
const MachNFP6000 = 0x6000

// Limits the validator enforces.
const (
	// MaxCode is the number of instructions a 14-bit branch target can reach.
	MaxCode = 1 << 14
	// MaxStack is the eBPF stack size limit, in bytes.
	MaxStack = 512
	// BranchRelocBase is the kernel's BR_OFF_RELO: the placeholder branch
	// target the JIT writes for branches fixed at load (helper calls carry
	// BranchRelocBase + helper id).
	BranchRelocBase = 15000
	// NoPC marks a line-table entry for code that no eBPF instruction
	// produced (prologue, outro, padding).
	NoPC = ^uint32(0)
)

// Image is one compiled program with everything needed to load and run it.
type Image struct {
	Program Program
	// Code holds the instruction words as stored: instruction bits 44:0,
	// ECC bits 51:45 computed over them, bits 63:52 zero. Branches fixed at
	// load keep their placeholder targets here; see Relocs.
	Code   []uint64
	Relocs []Reloc // sorted by Index, at most one per word
	Maps   []Map   // a map's index in this slice is its id in the program
	Lines  []Line  // sorted by Addr, strictly increasing
}

// Program is the metadata a loader needs besides the code.
type Program struct {
	Name      string
	Type      ProgType
	Entry     uint32 // word index where execution starts
	StackSize uint32 // bytes of eBPF stack the program uses (at most MaxStack)
	Caps      Caps   // firmware capabilities the program needs
	// MCPU is the target the program was compiled for: CoreNIC (what the
	// Linux nfp driver and the CoreNIC firmware run) or Emulator (needs
	// nfpcc's firmware model: global data, any tc return code, …).
	MCPU MCPU
}

// MCPU names a compilation target (`nfpcc --mcpu`); the zero value is
// CoreNIC, so images written before the field existed read as CoreNIC.
type MCPU uint32

const (
	MCPUCoreNIC  MCPU = 0 // --mcpu=corenic
	MCPUEmulator MCPU = 1 // --mcpu=emulator
)

func (m MCPU) String() string {
	switch m {
	case MCPUCoreNIC:
		return "corenic"
	case MCPUEmulator:
		return "emulator"
	}
	return fmt.Sprintf("mcpu(%d)", uint32(m))
}

// ParseMCPU accepts "corenic" (or "") and "emulator".
func ParseMCPU(s string) (MCPU, error) {
	switch s {
	case "", "corenic":
		return MCPUCoreNIC, nil
	case "emulator":
		return MCPUEmulator, nil
	}
	return 0, fmt.Errorf("unknown mcpu %q (want corenic or emulator)", s)
}

// ProgType is the eBPF program type, numbered as the kernel's
// enum bpf_prog_type.
type ProgType uint32

const (
	ProgTC  ProgType = 3 // BPF_PROG_TYPE_SCHED_CLS (tc direct action)
	ProgXDP ProgType = 6 // BPF_PROG_TYPE_XDP
)

func (t ProgType) String() string {
	switch t {
	case ProgTC:
		return "tc"
	case ProgXDP:
		return "xdp"
	}
	return fmt.Sprintf("progtype(%d)", uint32(t))
}

// ParseProgType accepts "xdp" and "tc".
func ParseProgType(s string) (ProgType, error) {
	switch s {
	case "xdp":
		return ProgXDP, nil
	case "tc":
		return ProgTC, nil
	}
	return 0, fmt.Errorf("unknown program type %q (want xdp or tc)", s)
}

// Caps is the set of firmware capabilities a program needs. Bit n stands
// for the BPF capability TLV of type n that CoreNIC firmware advertises
// (kernel enum nfp_bpf_cap_tlv_type), so a loader checks an image against
// the firmware by comparing bit sets.
type Caps uint64

const (
	CapFunc        Caps = 1 << 1 // helper calls through firmware (map ops, perf output)
	CapAdjustHead  Caps = 1 << 2 // bpf_xdp_adjust_head
	CapMaps        Caps = 1 << 3 // offloaded maps
	CapRandom      Caps = 1 << 4 // bpf_get_prandom_u32
	CapQueueSelect Caps = 1 << 5 // RX queue selection
	CapAdjustTail  Caps = 1 << 6 // bpf_xdp_adjust_tail

	capsKnown = CapFunc | CapAdjustHead | CapMaps | CapRandom | CapQueueSelect | CapAdjustTail
)

var capNames = []struct {
	c    Caps
	name string
}{
	{CapFunc, "func"}, {CapAdjustHead, "adjust_head"}, {CapMaps, "maps"},
	{CapRandom, "random"}, {CapQueueSelect, "queue_select"}, {CapAdjustTail, "adjust_tail"},
}

func (c Caps) String() string {
	if c == 0 {
		return "none"
	}
	s := ""
	for _, n := range capNames {
		if c&n.c != 0 {
			if s != "" {
				s += ","
			}
			s += n.name
			c &^= n.c
		}
	}
	if c != 0 {
		if s != "" {
			s += ","
		}
		s += fmt.Sprintf("%#x", uint64(c))
	}
	return s
}

// RelocKind says how a word is patched at load; the numbers are the
// kernel's enum nfp_relo_type.
type RelocKind uint8

const (
	// RelocBrRel: a branch to a program-relative target (in the word);
	// the loader adds the load offset.
	RelocBrRel RelocKind = 1
	// RelocBrGoOut: a branch to the program's outro (Reloc.Value, a word
	// index); the loader sets target = Value + load offset.
	RelocBrGoOut RelocKind = 2
	// RelocBrGoAbort: a branch to the abort path (Reloc.Value), as GoOut.
	RelocBrGoAbort RelocKind = 3
	// RelocBrGoCallPushRegs: a branch to the register-push subroutine of
	// BPF-to-BPF calls (Reloc.Value), as GoOut.
	RelocBrGoCallPushRegs RelocKind = 4
	// RelocBrGoCallPopRegs: a branch to the register-pop subroutine.
	RelocBrGoCallPopRegs RelocKind = 5
	// RelocBrNextPkt: a branch to the firmware's next-packet address
	// (absolute, given by the firmware).
	RelocBrNextPkt RelocKind = 6
	// RelocBrHelper: a call of firmware helper Reloc.Value (the eBPF
	// helper id); the loader sets the target to the helper's address.
	RelocBrHelper RelocKind = 7
	// RelocImmedRel: an immed whose 16-bit value is program-relative; the
	// loader adds the load offset.
	RelocImmedRel RelocKind = 8
)

// relocInfo describes each kind: its name, whether it patches a branch,
// and whether Reloc.Value is a word index into the code.
var relocInfo = map[RelocKind]struct {
	name       string
	branch     bool
	valueIsTgt bool
}{
	RelocBrRel:            {"RELO_BR_REL", true, false},
	RelocBrGoOut:          {"RELO_BR_GO_OUT", true, true},
	RelocBrGoAbort:        {"RELO_BR_GO_ABORT", true, true},
	RelocBrGoCallPushRegs: {"RELO_BR_GO_CALL_PUSH_REGS", true, true},
	RelocBrGoCallPopRegs:  {"RELO_BR_GO_CALL_POP_REGS", true, true},
	RelocBrNextPkt:        {"RELO_BR_NEXT_PKT", true, false},
	RelocBrHelper:         {"RELO_BR_HELPER", true, false},
	RelocImmedRel:         {"RELO_IMMED_REL", false, false},
}

func (k RelocKind) String() string {
	if i, ok := relocInfo[k]; ok {
		return i.name
	}
	return fmt.Sprintf("RELO(%d)", uint8(k))
}

// Reloc marks one word that the loader patches.
type Reloc struct {
	Index uint32 // word index in Code
	Kind  RelocKind
	// Value: the target word index for GoOut, GoAbort, GoCallPushRegs and
	// GoCallPopRegs; the eBPF helper id for BrHelper; 0 otherwise.
	Value uint32
}

// Helper ids the firmware provides (kernel nfp_bpf_relo_for_vnic), with the
// names used for their ELF symbols.
var helperNames = map[uint32]string{
	1:  "bpf_map_lookup_elem",
	2:  "bpf_map_update_elem",
	3:  "bpf_map_delete_elem",
	25: "bpf_perf_event_output",
}

// HelperName returns the firmware helper's name, or "" if the firmware has
// no such helper.
func HelperName(id uint32) string { return helperNames[id] }

// Map is one map the program uses, as the loader creates it.
type Map struct {
	Name       string
	Type       uint32 // enum bpf_map_type (1 HASH, 2 ARRAY, …)
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32 // BPF_F_* map flags (BPF_F_RDONLY_PROG for .rodata)
	// Contents is the initial value of the first len(Contents)/ValueSize
	// entries (global data); nil when the map starts empty or zeroed.
	Contents []byte
}

// Line maps an NFP address to the eBPF instruction and source line that
// produced it; it applies from Addr up to the next entry's Addr.
type Line struct {
	Addr uint32 // word index
	PC   uint32 // eBPF instruction index, or NoPC
	File string // "" when unknown
	Line uint32 // 0 when unknown
}
