package gen

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/testsuite/conformance"
)

// The text form of a program, for regression files (a txtar section a
// harness writes next to the packet that failed) and for people:
//
//	seed 42
//	type xdp
//	map 0 hash type=Hash key=4 value=24 max=64
//	hint 12 0800
//	hint len 34
//	func gen
//	gen:
//	    mov %r6, %r1
//	    jgt %r2, %r3, L17
//	    ...
//	L17:
//	    ...
//
// Instructions are in the uBPF assembler syntax of testsuite/conformance
// (Assemble/Disassemble, which round-trip and know "lddw %rN, map I"), with
// jump targets and callees as labels; the other lines describe the
// program's type, maps and packet hints. Parse reads it back:
// Parse(p.String()) gives p again (without the generator's semantic
// features, which Coverage then cannot report).

// String prints the program in its text form.
func (p *Program) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d\n", p.Seed)
	if p.Type == ebpf.SchedCLS {
		b.WriteString("type tc\n")
	} else {
		b.WriteString("type xdp\n")
	}
	for i, m := range p.Maps {
		fmt.Fprintf(&b, "map %d %s type=%s key=%d value=%d max=%d", i, m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries)
		if m.Flags != 0 {
			fmt.Fprintf(&b, " flags=%#x", m.Flags)
		}
		b.WriteByte('\n')
	}
	for _, h := range p.Hints {
		if h.Size == 0 {
			fmt.Fprintf(&b, "hint len %d\n", h.Off)
		} else {
			fmt.Fprintf(&b, "hint %d %x\n", h.Off, h.Bytes[:h.Size])
		}
	}
	// Slot of every instruction, labels at jump targets.
	slots := make([]int, len(p.Insns)+1)
	for i, ins := range p.Insns {
		slots[i+1] = slots[i] + int(ins.Size()/asm.InstructionSize)
	}
	funcAt := map[int]string{}
	for _, f := range p.Funcs {
		funcAt[f.Slot] = f.Name
	}
	labelAt := map[int]bool{}
	for i, ins := range p.Insns {
		if isJump(&ins) {
			labelAt[slots[i]+1+jumpDelta(&ins)] = true
		}
	}
	var buf bytes.Buffer
	for i, ins := range p.Insns {
		s := slots[i]
		if name, ok := funcAt[s]; ok {
			fmt.Fprintf(&b, "func %s\n%s:\n", name, name)
		}
		if labelAt[s] {
			fmt.Fprintf(&b, "L%d:\n", s)
		}
		buf.Reset()
		if _, err := ins.Marshal(&buf, binary.LittleEndian); err != nil {
			fmt.Fprintf(&b, "    # cannot encode %v: %v\n", ins, err)
			continue
		}
		line, err := conformance.Disassemble(buf.Bytes())
		if err != nil {
			fmt.Fprintf(&b, "    # cannot print %v: %v\n", ins, err)
			continue
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case ins.IsFunctionCall():
			line = "call local " + funcAt[s+1+int(ins.Constant)]
		case isJump(&ins):
			// The disassembler ends a jump with its displacement.
			line = line[:strings.LastIndexAny(line, " ")+1] + "L" + strconv.Itoa(s+1+jumpDelta(&ins))
		}
		if ins.OpCode.JumpOp() == asm.Call && ins.Src != asm.PseudoCall {
			if name, ok := helperNames[asm.BuiltinFunc(ins.Constant)]; ok {
				line += " # " + name
			}
		}
		b.WriteString("    ")
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// isJump reports whether ins is a jump with a displacement (not a call or exit).
func isJump(ins *asm.Instruction) bool {
	if !ins.OpCode.Class().IsJump() {
		return false
	}
	j := ins.OpCode.JumpOp()
	return j != asm.Call && j != asm.Exit
}

// jumpDelta is a jump's displacement in slots (gotol keeps it in imm).
func jumpDelta(ins *asm.Instruction) int {
	if ins.OpCode.Class() == asm.Jump32Class && ins.OpCode.JumpOp() == asm.Ja {
		return int(ins.Constant)
	}
	return int(ins.Offset)
}

// mapTypes are the map types the text form names.
var mapTypes = []ebpf.MapType{ebpf.Hash, ebpf.Array, ebpf.PerfEventArray, ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUHash}

// Parse reads a program in the text form String prints.
func Parse(text string) (*Program, error) {
	p := &Program{Type: ebpf.XDP}
	lines := strings.Split(text, "\n")
	src := make([]string, len(lines))
	type fn struct {
		name  string
		index int // instruction index
	}
	var funcs []fn
	ninsns := 0
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("line %d: %s", i+1, fmt.Sprintf(format, a...))
		}
		switch f[0] {
		case "seed":
			if len(f) != 2 {
				return nil, bad("seed N")
			}
			v, err := strconv.ParseUint(f[1], 0, 64)
			if err != nil {
				return nil, bad("seed: %v", err)
			}
			p.Seed = v
			continue
		case "type":
			if len(f) != 2 || f[1] != "xdp" && f[1] != "tc" {
				return nil, bad("type xdp or type tc")
			}
			if f[1] == "tc" {
				p.Type = ebpf.SchedCLS
			}
			continue
		case "map":
			m, err := parseMap(f, len(p.Maps))
			if err != nil {
				return nil, bad("%v", err)
			}
			p.Maps = append(p.Maps, m)
			continue
		case "hint":
			h, err := parseHint(f)
			if err != nil {
				return nil, bad("%v", err)
			}
			p.Hints = append(p.Hints, h)
			continue
		case "func":
			if len(f) != 2 {
				return nil, bad("func NAME")
			}
			funcs = append(funcs, fn{f[1], ninsns})
			continue
		}
		src[i] = line
		// An instruction line (not a label alone) is one instruction.
		rest := line
		if c := strings.IndexByte(rest, '#'); c >= 0 {
			rest = rest[:c]
		}
		if c := strings.IndexByte(rest, ':'); c >= 0 && !strings.Contains(rest[:c], "[") {
			rest = rest[c+1:]
		}
		if strings.TrimSpace(rest) != "" {
			ninsns++
		}
	}
	code, err := conformance.Assemble(strings.Join(src, "\n"), 1)
	if err != nil {
		return nil, err
	}
	p.Insns, err = asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
	if err != nil {
		return nil, fmt.Errorf("decoding the assembled code: %v", err)
	}
	if len(p.Insns) != ninsns {
		return nil, fmt.Errorf("BUG: %d instruction lines gave %d instructions", ninsns, len(p.Insns))
	}
	if len(funcs) == 0 {
		funcs = append(funcs, fn{EntryName, 0})
	}
	slot := make([]int, len(p.Insns)+1)
	for i, ins := range p.Insns {
		slot[i+1] = slot[i] + int(ins.Size()/asm.InstructionSize)
	}
	for _, f := range funcs {
		if f.index >= len(p.Insns) {
			return nil, fmt.Errorf("func %s has no instructions", f.name)
		}
		p.Insns[f.index] = p.Insns[f.index].WithSymbol(f.name)
		p.Funcs = append(p.Funcs, loader.Func{Name: f.name, Slot: slot[f.index]})
	}
	if p.Funcs[0].Slot != 0 {
		return nil, fmt.Errorf("the first func %s does not start the program", p.Funcs[0].Name)
	}
	return p, nil
}

// parseMap reads "map I NAME type=T key=K value=V max=M [flags=F]".
func parseMap(f []string, want int) (*loader.Map, error) {
	if len(f) < 3 {
		return nil, fmt.Errorf("map I NAME type=T key=K value=V max=M")
	}
	if i, err := strconv.Atoi(f[1]); err != nil || i != want {
		return nil, fmt.Errorf("map %s: maps are numbered from 0 in order (want %d)", f[1], want)
	}
	m := &loader.Map{Name: f[2], Section: ".maps"}
	for _, kv := range f[3:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("map field %q is not key=value", kv)
		}
		if k == "type" {
			found := false
			for _, t := range mapTypes {
				if t.String() == v {
					m.Type, found = t, true
				}
			}
			if !found {
				return nil, fmt.Errorf("unknown map type %s", v)
			}
			continue
		}
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil {
			return nil, fmt.Errorf("map field %s: %v", k, err)
		}
		switch k {
		case "key":
			m.KeySize = uint32(n)
		case "value":
			m.ValueSize = uint32(n)
		case "max":
			m.MaxEntries = uint32(n)
		case "flags":
			m.Flags = uint32(n)
		default:
			return nil, fmt.Errorf("unknown map field %s", k)
		}
	}
	if m.Type == 0 {
		return nil, fmt.Errorf("map %s without type=", m.Name)
	}
	return m, nil
}

// parseHint reads "hint len N" or "hint OFF HEXBYTES".
func parseHint(f []string) (Hint, error) {
	if len(f) != 3 {
		return Hint{}, fmt.Errorf("hint len N, or hint OFF HEXBYTES")
	}
	if f[1] == "len" {
		n, err := strconv.ParseUint(f[2], 0, 16)
		if err != nil {
			return Hint{}, fmt.Errorf("hint len: %v", err)
		}
		return Hint{Off: uint16(n)}, nil
	}
	off, err := strconv.ParseUint(f[1], 0, 16)
	if err != nil {
		return Hint{}, fmt.Errorf("hint offset: %v", err)
	}
	b, err := hex.DecodeString(f[2])
	if err != nil || len(b) == 0 || len(b) > 8 {
		return Hint{}, fmt.Errorf("hint bytes %q: 1 to 8 bytes in hex", f[2])
	}
	h := Hint{Off: uint16(off), Size: uint8(len(b))}
	copy(h.Bytes[:], b)
	return h, nil
}
