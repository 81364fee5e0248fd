package verifier_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"gopkg.in/yaml.v3"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite"
)

// PREVAIL's yaml tests (vbpf/prevail test-data) give a pre-state, code in
// PREVAIL's assembly syntax, a post-state and the expected messages. This
// harness translates the code to eBPF instructions and the pre-state to
// nfpcc's entry registers, runs the verifier, and checks soundness: no
// case with expected messages may be accepted. Cases using features
// outside the kernel's model (PREVAIL's assume-only types such as
// "shared" regions of unknown kind, disjunctive types, stack contents in
// the pre-state, indirect calls) are counted as skipped, never as passed.

type prevailCase struct {
	File     string
	Name     string   `yaml:"test-case"`
	Options  []string `yaml:"options"`
	Pre      []string `yaml:"pre"`
	Code     yaml.Node
	Messages []string `yaml:"messages"`
	Except   string   `yaml:"expected-exception"`
}

func loadPrevail(t *testing.T) []*prevailCase {
	dir := filepath.Join(testsuite.Corpus(t, "prevail"), "test-data")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	sort.Strings(files)
	var cases []*prevailCase
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(fh)
		for {
			var c prevailCase
			if err := dec.Decode(&c); err != nil {
				break
			}
			if c.Name == "" {
				continue
			}
			c.File = filepath.Base(f)
			cases = append(cases, &c)
		}
		fh.Close()
	}
	return cases
}

// errSkip marks a case outside what the harness can translate.
type errSkip struct{ why string }

func (e errSkip) Error() string { return "skip: " + e.why }

var (
	reALU    = regexp.MustCompile(`^([rw])(\d+) (s?[-+*/%|&^]|<<|>>|s>>|s/|s%)?= ([rw]?)(-?\w+)$`)
	reMovSX  = regexp.MustCompile(`^([rw])(\d+) s(8|16|32)= [rw](\d+)$`)
	reNeg    = regexp.MustCompile(`^([rw])(\d+) = - ?[rw](\d+)$`)
	reEnd    = regexp.MustCompile(`^r(\d+) = (be|le|swap)(16|32|64) r(\d+)$`)
	reLoad   = regexp.MustCompile(`^r(\d+) = \*\(([us])(8|16|32|64) \*\)\(r(\d+) ([+-]) (\d+)\)$`)
	reStore  = regexp.MustCompile(`^\*\(u(8|16|32|64) \*\)\(r(\d+) ([+-]) (\d+)\) = (r?)(-?\d+)$`)
	reLock   = regexp.MustCompile(`^lock \*\(u(32|64) \*\)\(r(\d+) ([+-]) (\d+)\) (\+|&|\||\^|x|cx)= r(\d+)( fetch)?$`)
	reJump   = regexp.MustCompile(`^(if|assume) ([rw])(\d+) (==|!=|>|>=|<|<=|s>|s>=|s<|s<=|&!=|&) ([rw]?)(-?\w+)(?: goto <(\w+)>)?$`)
	reGoto   = regexp.MustCompile(`^goto <(\w+)>$`)
	reCall   = regexp.MustCompile(`^call (\d+)(;.*)?$`)
	reCallL  = regexp.MustCompile(`^call <(\w+)>$`)
	reFuncP  = regexp.MustCompile(`^r(\d+) = <(\w+)> ll$`) // a callback's address
	reLdImm  = regexp.MustCompile(`^r(\d+) = (-?(?:0x[0-9a-f]+|\d+))ll$`)
	reMapFD  = regexp.MustCompile(`^r(\d+) = map_fd (\d+)$`)
	reCallX  = regexp.MustCompile(`^callx r(\d+)$`)
	reLdAbs  = regexp.MustCompile(`^r0 = \*\(u(8|16|32) \*\)skb\[(r?)(\d+)\]$`)
	aluOps   = map[string]asm.ALUOp{"+": asm.Add, "-": asm.Sub, "*": asm.Mul, "/": asm.Div, "%": asm.Mod, "|": asm.Or, "&": asm.And, "^": asm.Xor, "<<": asm.LSh, ">>": asm.RSh, "s>>": asm.ArSh, "s/": asm.SDiv, "s%": asm.SMod, "": asm.Mov}
	jumpOps  = map[string]asm.JumpOp{"==": asm.JEq, "!=": asm.JNE, ">": asm.JGT, ">=": asm.JGE, "<": asm.JLT, "<=": asm.JLE, "s>": asm.JSGT, "s>=": asm.JSGE, "s<": asm.JSLT, "s<=": asm.JSLE, "&!=": asm.JSet, "&": asm.JSet}
	sizeOf   = map[string]asm.Size{"8": asm.Byte, "16": asm.Half, "32": asm.Word, "64": asm.DWord}
	atomicOp = map[string]asm.AtomicOp{"+": asm.AddAtomic, "&": asm.AndAtomic, "|": asm.OrAtomic, "^": asm.XorAtomic, "x": asm.Xchg, "cx": asm.CmpXchg}
)

func atoi(s string) int64 {
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		u, err2 := strconv.ParseUint(s, 0, 64)
		if err2 != nil {
			panic(errSkip{"number " + s})
		}
		return int64(u)
	}
	return v
}

type pending struct {
	slot  int
	label string
}

// assemble translates PREVAIL assembly into instructions, returning the
// slots of "assume" pseudo-jumps.
func assemble(code *yaml.Node) (insns asm.Instructions, assume map[int]bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			if s, ok := r.(errSkip); ok {
				err = s
				return
			}
			panic(r)
		}
	}()
	if code.Kind != yaml.MappingNode {
		return nil, nil, errSkip{"code is not a map"}
	}
	labels := map[string]int{}
	var fix []pending
	assume = map[int]bool{}
	slot := 0
	add := func(ins asm.Instruction) {
		insns = append(insns, ins)
		slot += int(ins.Width())
	}
	for i := 0; i+1 < len(code.Content); i += 2 {
		labels[strings.Trim(code.Content[i].Value, "<>")] = slot
		for _, line := range strings.Split(code.Content[i+1].Value, "\n") {
			if j := strings.Index(line, ";"); j >= 0 {
				line = line[:j]
			}
			line = strings.Join(strings.Fields(line), " ")
			if line == "" {
				continue
			}
			var m []string
			switch {
			case line == "exit":
				add(asm.Return())
			case reGoto.MatchString(line):
				m = reGoto.FindStringSubmatch(line)
				fix = append(fix, pending{slot, m[1]})
				add(asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)})
			case reMapFD.MatchString(line):
				m = reMapFD.FindStringSubmatch(line)
				add(asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.Register(atoi(m[1])), Src: asm.PseudoMapFD, Constant: atoi(m[2])})
			case reLdImm.MatchString(line):
				m = reLdImm.FindStringSubmatch(line)
				add(asm.LoadImm(asm.Register(atoi(m[1])), atoi(m[2]), asm.DWord))
			case reMovSX.MatchString(line):
				m = reMovSX.FindStringSubmatch(line)
				op := map[string]asm.ALUOp{"8": asm.MovSX8, "16": asm.MovSX16, "32": asm.MovSX32}[m[3]]
				add(asm.Instruction{OpCode: aluClass(m[1]).SetALUOp(op).SetSource(asm.RegSource), Dst: asm.Register(atoi(m[2])), Src: asm.Register(atoi(m[4]))})
			case reNeg.MatchString(line):
				m = reNeg.FindStringSubmatch(line)
				if m[2] != m[3] {
					return nil, nil, errSkip{line}
				}
				add(asm.Instruction{OpCode: aluClass(m[1]).SetALUOp(asm.Neg), Dst: asm.Register(atoi(m[2]))})
			case reEnd.MatchString(line):
				m = reEnd.FindStringSubmatch(line)
				if m[1] != m[4] {
					return nil, nil, errSkip{line}
				}
				size := atoi(m[3])
				var oc asm.OpCode
				switch m[2] {
				case "be":
					oc = asm.OpCode(asm.ALUClass).SetALUOp(asm.Swap) | asm.OpCode(asm.BE)
				case "le":
					oc = asm.OpCode(asm.ALUClass).SetALUOp(asm.Swap)
				default:
					oc = asm.OpCode(asm.ALU64Class).SetALUOp(asm.Swap)
				}
				add(asm.Instruction{OpCode: oc, Dst: asm.Register(atoi(m[1])), Constant: size})
			case reALU.MatchString(line):
				m = reALU.FindStringSubmatch(line)
				op, ok := aluOps[m[3]]
				if !ok {
					return nil, nil, errSkip{line}
				}
				ins := asm.Instruction{Dst: asm.Register(atoi(m[2]))}
				if m[4] != "" {
					ins.OpCode = aluClass(m[1]).SetALUOp(op).SetSource(asm.RegSource)
					ins.Src = asm.Register(atoi(m[5]))
				} else {
					c := atoi(m[5])
					if op == asm.Mov && m[1] == "r" && (c > math.MaxInt32 || c < math.MinInt32) {
						add(asm.LoadImm(ins.Dst, c, asm.DWord))
						continue
					}
					ins.OpCode = aluClass(m[1]).SetALUOp(op).SetSource(asm.ImmSource)
					ins.Constant = int64(int32(c))
				}
				add(ins)
			case reLoad.MatchString(line):
				m = reLoad.FindStringSubmatch(line)
				off := atoi(m[6])
				if m[5] == "-" {
					off = -off
				}
				ins := asm.LoadMem(asm.Register(atoi(m[1])), asm.Register(atoi(m[4])), int16(off), sizeOf[m[3]])
				if m[2] == "s" {
					ins.OpCode = ins.OpCode.SetMode(asm.MemSXMode)
				}
				add(ins)
			case reStore.MatchString(line):
				m = reStore.FindStringSubmatch(line)
				off := atoi(m[4])
				if m[3] == "-" {
					off = -off
				}
				if m[5] == "r" {
					add(asm.StoreMem(asm.Register(atoi(m[2])), int16(off), asm.Register(atoi(m[6])), sizeOf[m[1]]))
				} else {
					add(asm.Instruction{OpCode: asm.StoreImmOp(sizeOf[m[1]]), Dst: asm.Register(atoi(m[2])), Offset: int16(off), Constant: atoi(m[6])})
				}
			case reLock.MatchString(line):
				m = reLock.FindStringSubmatch(line)
				off := atoi(m[4])
				if m[3] == "-" {
					off = -off
				}
				aop := atomicOp[m[5]]
				if m[7] != "" {
					aop |= asm.AtomicOp(0x100)
				}
				add(asm.Instruction{OpCode: aop.OpCode(sizeOf[m[1]]), Dst: asm.Register(atoi(m[2])), Src: asm.Register(atoi(m[6])), Offset: int16(off)})
			case reJump.MatchString(line):
				m = reJump.FindStringSubmatch(line)
				cls := asm.JumpClass
				if m[2] == "w" {
					cls = asm.Jump32Class
				}
				ins := asm.Instruction{Dst: asm.Register(atoi(m[3]))}
				if m[5] != "" {
					ins.OpCode = asm.OpCode(asm.JumpClass).SetJumpOp(jumpOps[m[4]]).SetSource(asm.RegSource)
					ins.Src = asm.Register(atoi(m[6]))
				} else {
					ins.OpCode = asm.OpCode(asm.JumpClass).SetJumpOp(jumpOps[m[4]]).SetSource(asm.ImmSource)
					ins.Constant = int64(int32(atoi(m[6])))
				}
				ins.OpCode = ins.OpCode&^7 | asm.OpCode(cls)
				if m[1] == "assume" {
					assume[slot] = true
				} else {
					fix = append(fix, pending{slot, m[7]})
				}
				add(ins)
			case reCall.MatchString(line):
				m = reCall.FindStringSubmatch(line)
				add(asm.FnMapLookupElem.Call().WithMetadata(asm.Metadata{}))
				insns[len(insns)-1].Constant = atoi(m[1])
			case reCallX.MatchString(line):
				m = reCallX.FindStringSubmatch(line)
				add(asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call).SetSource(asm.RegSource), Dst: asm.Register(atoi(m[1]))})
			case reFuncP.MatchString(line):
				m = reFuncP.FindStringSubmatch(line)
				fix = append(fix, pending{slot, "call:" + m[2]})
				add(asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.Register(atoi(m[1])), Src: asm.PseudoFunc})
			case reCallL.MatchString(line):
				m = reCallL.FindStringSubmatch(line)
				fix = append(fix, pending{slot, "call:" + m[1]})
				add(asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoCall})
			case reLdAbs.MatchString(line):
				m = reLdAbs.FindStringSubmatch(line)
				if m[2] == "r" {
					add(asm.LoadInd(asm.R0, asm.Register(atoi(m[3])), 0, sizeOf[m[1]]))
				} else {
					add(asm.LoadAbs(int32(atoi(m[3])), sizeOf[m[1]]))
				}
			default:
				return nil, nil, errSkip{line}
			}
		}
	}
	// Resolve labels to slot offsets.
	idx := map[int]int{}
	s := 0
	for i := range insns {
		idx[s] = i
		s += int(insns[i].Width())
	}
	for _, f := range fix {
		name := strings.TrimPrefix(f.label, "call:")
		t, ok := labels[name]
		if !ok {
			if name == "exit" || name == "out" {
				t = slot
			} else {
				return nil, nil, errSkip{"label " + name}
			}
		}
		ins := &insns[idx[f.slot]]
		if strings.HasPrefix(f.label, "call:") {
			ins.Constant = int64(t - f.slot - 1)
		} else {
			ins.Offset = int16(t - f.slot - 1)
		}
	}
	if len(insns) == 0 || !endsPath(insns[len(insns)-1]) {
		// PREVAIL code may fall off its last label; nothing is asked of r0 there.
		add(asm.Mov.Imm(asm.R0, 0))
		add(asm.Return())
	}
	return insns, assume, nil
}

func endsPath(ins asm.Instruction) bool {
	return ins.OpCode.JumpOp() == asm.Exit || ins.OpCode.JumpOp() == asm.Ja
}

func aluClass(rw string) asm.OpCode {
	if rw == "w" {
		return asm.OpCode(asm.ALUClass)
	}
	return asm.OpCode(asm.ALU64Class)
}

// prevailContext is the harness's context: 64 bytes, data at 0, data_end at 4.
var prevailContext = &verifier.ContextLayout{Name: "prevail test ctx", Size: 64, Fields: []verifier.CtxField{
	{Name: "data", Off: 0, Size: 4, Result: verifier.Packet},
	{Name: "data_end", Off: 4, Size: 4, Result: verifier.PacketEnd},
}}

func init() {
	for off := int32(8); off < 64; off += 4 {
		prevailContext.Fields = append(prevailContext.Fields, verifier.CtxField{Name: fmt.Sprintf("field%d", off), Off: off, Size: 4,
			Result: verifier.ScalarKind, Narrow: true, Write: true})
	}
}

var reRange = regexp.MustCompile(`^\[(-?\d+), ?(-?\d+)\]$`)

// entryState translates a PREVAIL pre-state to registers.
var reStackPre = regexp.MustCompile(`^s\[(\d+)\.\.\.(\d+)\]\.(type|svalue|uvalue)$`)

func entryState(pre []string) (map[asm.Register]verifier.Reg, []*loader.Map, []verifier.StackBytes, error) {
	type regInfo struct {
		typ              string
		svals, uvals     [2]int64
		hasS, hasU       bool
		off              [2]int64
		hasOff, isEnd    bool
		regionSize, mapN int64
		nonNeg           bool
	}
	regs := map[int]*regInfo{}
	pktSize := int64(0)
	var maps []*loader.Map
	get := func(n int) *regInfo {
		if regs[n] == nil {
			regs[n] = &regInfo{regionSize: -1, mapN: -1}
		}
		return regs[n]
	}
	parseVal := func(s string) ([2]int64, bool) {
		if m := reRange.FindStringSubmatch(s); m != nil {
			return [2]int64{atoi(m[1]), atoi(m[2])}, true
		}
		if v, err := strconv.ParseInt(s, 0, 64); err == nil {
			return [2]int64{v, v}, true
		}
		if v, err := strconv.ParseUint(s, 0, 64); err == nil {
			return [2]int64{int64(v), int64(v)}, true
		}
		return [2]int64{}, false
	}
	type stackArea struct {
		lo, hi      int64
		svals       [2]int64
		hasS, isNum bool
	}
	var areas []*stackArea
	for _, p := range pre {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			return nil, nil, nil, errSkip{"pre " + p}
		}
		if m := reStackPre.FindStringSubmatch(k); m != nil {
			lo, hi := atoi(m[1]), atoi(m[2])
			var a *stackArea
			for _, x := range areas {
				if x.lo == lo && x.hi == hi {
					a = x
				}
			}
			if a == nil {
				a = &stackArea{lo: lo, hi: hi}
				areas = append(areas, a)
			}
			switch m[3] {
			case "type":
				if val != "number" {
					return nil, nil, nil, errSkip{"pre " + p}
				}
				a.isNum = true
			case "svalue":
				v, ok := parseVal(val)
				if !ok {
					return nil, nil, nil, errSkip{"pre " + p}
				}
				a.svals, a.hasS = v, true
			}
			continue
		}
		switch {
		case k == "meta_offset":
			continue
		case k == "packet_size":
			v, ok := parseVal(val)
			if !ok {
				return nil, nil, nil, errSkip{"pre " + p}
			}
			pktSize = v[0]
			continue
		case !strings.HasPrefix(k, "r"):
			return nil, nil, nil, errSkip{"pre " + p}
		}
		rn, field, _ := strings.Cut(k[1:], ".")
		n, err := strconv.Atoi(rn)
		if err != nil || n > 10 {
			return nil, nil, nil, errSkip{"pre " + p}
		}
		r := get(n)
		switch field {
		case "type":
			r.typ = val
		case "svalue", "uvalue":
			v, ok := parseVal(val)
			if !ok && val == fmt.Sprintf("r%d.svalue", n) && field == "uvalue" {
				// uvalue = svalue: the value reads the same signed and
				// unsigned, so it is non-negative.
				r.nonNeg = true
				continue
			}
			if !ok {
				return nil, nil, nil, errSkip{"pre relational " + p}
			}
			if field == "svalue" {
				r.svals, r.hasS = v, true
			} else {
				r.uvals, r.hasU = v, true
			}
		case "packet_offset", "stack_offset", "ctx_offset", "shared_offset":
			if val == "packet_size" {
				r.isEnd = true
				continue
			}
			v, ok := parseVal(val)
			if !ok {
				return nil, nil, nil, errSkip{"pre " + p}
			}
			r.off, r.hasOff = v, true
		case "shared_region_size":
			v, ok := parseVal(val)
			if !ok {
				return nil, nil, nil, errSkip{"pre " + p}
			}
			r.regionSize = v[0]
		case "map_fd":
			v, _ := parseVal(val)
			r.mapN = v[0]
		default:
			return nil, nil, nil, errSkip{"pre " + p}
		}
	}
	out := map[asm.Register]verifier.Reg{}
	id := uint32(1000)
	top := int64(512) // the frame's top in PREVAIL's stack numbering
	if r := regs[10]; r != nil && r.typ == "stack" && r.hasOff {
		top = r.off[0]
	}
	for n, r := range regs {
		var reg verifier.Reg
		off := verifier.Const(uint64(r.off[0]))
		if r.off[0] != r.off[1] {
			off = verifier.SRange(r.off[0], r.off[1])
		}
		switch r.typ {
		case "number":
			s := verifier.Unknown()
			if r.hasS {
				s = verifier.SRange(r.svals[0], r.svals[1])
			}
			if r.hasU {
				u := verifier.URange(uint64(r.uvals[0]), uint64(r.uvals[1]))
				if r.hasS {
					s = verifier.Intersect(s, u)
				} else {
					s = u
				}
			}
			if r.nonNeg {
				s = verifier.Intersect(s, verifier.SRange(0, math.MaxInt64))
			}
			reg = verifier.Reg{Kind: verifier.ScalarKind, Value: s}
		case "ctx":
			reg = verifier.Reg{Kind: verifier.Ctx, Value: off}
		case "stack":
			reg = verifier.Reg{Kind: verifier.Stack, Off: int32(-top), Value: off}
		case "packet":
			if r.isEnd {
				reg = verifier.Reg{Kind: verifier.PacketEnd, Value: verifier.Const(0)}
				break
			}
			reg = verifier.Reg{Kind: verifier.Packet, Value: off}
			if !off.IsConst() {
				id++
				reg.ID = id
			} else {
				reg.Value, reg.Off = verifier.Const(0), int32(r.off[0])
				reg.Range = int32(pktSize)
			}
		case "shared":
			if r.regionSize < 0 {
				return nil, nil, nil, errSkip{"shared region of unknown size"}
			}
			maps = append(maps, &loader.Map{Name: fmt.Sprintf("shared%d", n), Type: ebpf.Array, KeySize: 4, ValueSize: uint32(r.regionSize), MaxEntries: 1})
			reg = verifier.Reg{Kind: verifier.MapValue, Map: int32(len(maps) - 1), Value: off}
		case "":
			continue
		default:
			return nil, nil, nil, errSkip{"type " + r.typ}
		}
		out[asm.Register(n)] = reg
	}
	if _, ok := out[asm.R10]; !ok {
		out[asm.R10] = verifier.Reg{Kind: verifier.Stack, Value: verifier.Const(0)}
	}
	if _, ok := out[asm.R1]; !ok {
		out[asm.R1] = verifier.Reg{}
	}
	var stack []verifier.StackBytes
	for _, a := range areas {
		if !a.isNum {
			return nil, nil, nil, errSkip{"pre stack area without type"}
		}
		sb := verifier.StackBytes{Off: int32(a.lo - top), Size: int32(a.hi - a.lo + 1)}
		if a.hasS && sb.Size == 8 {
			sb.Value = verifier.Reg{Kind: verifier.ScalarKind, Value: verifier.SRange(a.svals[0], a.svals[1])}
		}
		stack = append(stack, sb)
	}
	return out, maps, stack, nil
}

// TestPrevailSoundness runs every PREVAIL yaml case. A case whose
// expected messages are non-empty must be rejected; the counts of the
// others are reported.
func TestPrevailSoundness(t *testing.T) {
	cases := loadPrevail(t)
	var neg, negRejected, negPolicy, pos, posAccepted, skipped int
	skips := map[string]int{}
	policy := map[string]int{}
	for _, c := range cases {
		name := c.File + ": " + c.Name
		if c.Except != "" {
			skipped++
			skips["expected-exception"]++
			continue
		}
		insns, assume, err := assemble(&c.Code)
		var entry map[asm.Register]verifier.Reg
		var maps []*loader.Map
		var stack []verifier.StackBytes
		if err == nil {
			entry, maps, stack, err = func() (e map[asm.Register]verifier.Reg, m []*loader.Map, sb []verifier.StackBytes, err error) {
				defer func() {
					if r := recover(); r != nil {
						if s, ok := r.(errSkip); ok {
							err = s
							return
						}
						panic(r)
					}
				}()
				return entryState(c.Pre)
			}()
		}
		if err != nil {
			skipped++
			skips[strings.SplitN(err.Error(), " ", 3)[1]]++
			if os.Getenv("SHOWSKIP") != "" {
				t.Log(name, err)
			}
			continue
		}
		prog := &loader.Program{Name: c.Name, Insns: insns, Type: ebpf.UnspecifiedProgram}
		_, verr := verifyBoth(t, prog, maps, &verifier.Options{Context: prevailContext, Entry: entry, EntryStack: stack, Assume: assume})
		if len(c.Messages) > 0 {
			neg++
			if verr != nil {
				negRejected++
				continue
			}
			if why, ok := prevailFalsePositives[c.Name]; ok {
				negPolicy++
				policy["PREVAIL false positive or harness assertion"]++
				t.Logf("%s: accepted: %s", name, why)
				continue
			}
			if unreachableOnly(c) {
				negPolicy++
				policy["dead code"]++
				t.Logf("%s: accepted: dead code is not an error for the kernel; PREVAIL expects %q", name, c.Messages)
				continue
			}
			if allowsDivZero(c) {
				negPolicy++
				policy["division by zero"]++
				t.Logf("%s: accepted under kernel semantics (division by zero is defined): PREVAIL expects %q", name, c.Messages)
				continue
			}
			if _, uerr := verifyBoth(t, prog, maps, &verifier.Options{Context: prevailContext, Entry: entry, EntryStack: stack, Assume: assume, Unprivileged: true}); uerr != nil {
				// A pointer leak root may do (a 32-bit copy of a pointer is
				// some number): rejected without CAP_PERFMON, as the kernel.
				negPolicy++
				policy["root's allow_ptr_leaks"]++
				t.Logf("%s: accepted as root, rejected unprivileged (%v): PREVAIL expects %q", name, uerr, c.Messages)
				continue
			}
			t.Errorf("%s: accepted silently; PREVAIL expects %q", name, c.Messages)
		} else {
			pos++
			if verr == nil {
				posAccepted++
			} else {
				t.Logf("%s: PREVAIL accepts, nfpcc rejects: %v", name, verr)
			}
		}
	}
	t.Logf("cases with expected messages: %d run, %d rejected, %d accepted for stated reasons %v; cases without: %d run, %d accepted; %d skipped %v",
		neg, negRejected, negPolicy, policy, pos, posAccepted, skipped, skips)
}

// prevailFalsePositives are cases with messages whose own text says the
// program is safe and PREVAIL's domain cannot prove it; a path-sensitive
// verifier proves them.
var prevailFalsePositives = map[string]string{
	"multiple types add fail":                        "each path adds a number to a ctx pointer (the case's comment: cannot yet tell that this is safe)",
	"lost implications in correlated branches":       "the load runs only on the path where r1 <= data_end (the case's comment: should be safe)",
	"observe detects contradictory observation":      "an observation assertion of PREVAIL's test harness, not a safety property",
	"observe entailed fails for partial observation": "an observation assertion of PREVAIL's test harness, not a safety property",
}

// unreachableOnly: PREVAIL reports assumptions that make code dead.
func unreachableOnly(c *prevailCase) bool {
	for _, m := range c.Messages {
		if !strings.Contains(m, "Code becomes unreachable") {
			return false
		}
	}
	return true
}

// allowsDivZero: PREVAIL's "!allow_division_by_zero" option makes
// division by zero an error; eBPF (RFC 9669) and the kernel define it.
func allowsDivZero(c *prevailCase) bool {
	for _, o := range c.Options {
		if o == "!allow_division_by_zero" {
			for _, m := range c.Messages {
				if !strings.Contains(m, "ivision by zero") && !strings.Contains(m, "ivide by zero") {
					return false
				}
			}
			return true
		}
	}
	return false
}
