// Package loader reads clang-built eBPF ELF objects into the programs, maps
// and global data that every later stage of nfpcc (verifier, lift,
// interpreter, emulator) consumes.
//
// It uses github.com/cilium/ebpf for ELF and BTF parsing only, never for
// anything that talks to the kernel. The output is the object as the kernel
// would see it after libbpf's relocation step: each program is one linked
// instruction stream (its subprograms appended), map references are
// resolved to indices into Object.Maps, and BPF-to-BPF calls carry their
// final relative offsets. That is the form the verifier, the interpreter and
// the kernel oracle all want, so nobody downstream deals with ELF symbols.
package loader

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Object is one loaded ELF file.
type Object struct {
	Path string
	// Programs in ELF section order, then symbol order. Functions of
	// `.text` are listed too, as UnspecifiedProgram entries of section
	// ".text" (PREVAIL and old objects use them as programs); they are also
	// linked into every program that calls them. Filter on Type (XDP,
	// SchedCLS, …) to get the attachable entry points.
	Programs []*Program
	// Maps holds every map of the object: legacy `maps` definitions, BTF
	// `.maps`, and one ARRAY of one entry per global data section (.data,
	// .rodata, .bss, .data.*, .rodata.*). Sorted by name, so indices are
	// deterministic.
	Maps []*Map
}

// ProgType is the program type as nfpcc cares about it.
type ProgType = ebpf.ProgramType

// Program is one entry point with everything it calls linked in.
type Program struct {
	Name    string   // the function symbol
	Section string   // the ELF section it came from, e.g. "xdp", "classifier/ingress"
	Type    ProgType // from the section name (ebpf.XDP, ebpf.SchedCLS, …); ebpf.UnspecifiedProgram if unknown
	License string
	// Insns is the linked program in kernel form (no symbolic references):
	//   - LD_IMM64 of a map: Src = asm.PseudoMapFD, Constant = index into Object.Maps;
	//   - LD_IMM64 of a map value (global data): Src = asm.PseudoMapValue,
	//     Constant = int64(index) | int64(offset)<<32, as the kernel's
	//     (map fd, offset) pair in the two immediates;
	//   - BPF-to-BPF call: Src = asm.PseudoCall, Constant = target pc − (pc + 1)
	//     counted in 64-bit instruction slots, as the kernel expects.
	// Instruction metadata keeps source lines (asm.Instruction.Source()) where
	// the object has BTF line info.
	Insns asm.Instructions
	// Funcs lists the subprograms in Insns: the entry first, at slot 0.
	Funcs []Func
}

// Func is a subprogram's name and its first slot in Program.Insns.
type Func struct {
	Name string
	Slot int // offset in 64-bit instruction slots (LD_IMM64 counts 2)
}

// Map is one map definition, with initial contents for global data.
type Map struct {
	Name       string
	Type       ebpf.MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	// InnerMap is the template of a map-in-map's values, or nil.
	InnerMap *Map
	// Contents is the initial value of a global-data map (.data/.rodata:
	// the section bytes; .bss: zeros), nil for other maps.
	Contents []byte
	// ReadOnly marks .rodata maps (BPF_F_RDONLY_PROG).
	ReadOnly bool
	// Section is where the definition lives ("maps", ".maps", ".data", …).
	Section string
}

// EffectiveType is the program type the later stages use for p, the one
// rule of `nfpcc verify --type` and `nfpcc compile --type/--tc`: an
// override, when given, wins over the section name (a tc program in a
// section named "from-netdev" is still tc); otherwise the section's type,
// and for sections that name no hook XDP when defaultXDP is set.
func EffectiveType(p *Program, override ProgType, defaultXDP bool) ProgType {
	switch {
	case override != ebpf.UnspecifiedProgram:
		return override
	case p.Type == ebpf.UnspecifiedProgram && defaultXDP:
		return ebpf.XDP
	}
	return p.Type
}
