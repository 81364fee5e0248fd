package gen

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// Feature is one thing a program can exercise: an instruction form
// (found by scanning the instructions) or a semantic shape only the
// generator knows (a packet access's lane, a bounds-check form, a spilled
// pointer), recorded while generating.
type Feature uint16

// Semantic features. Ranges (lanes, sizes, check forms) are consecutive.
const (
	FXDP Feature = iota
	FTC
	FConst0
	FConst1
	FConstM1
	FConstMaxS32 // 2^31-1
	FConst2p31   // -2^31 as imm32: 2^31 in 32 bits, 2^64-2^31 in 64
	FConstU32Max // 2^32-1 via LD_IMM64
	FConst2p63
	FLddwHigh // LD_IMM64 with a non-trivial upper half
	FShift0
	FShift31
	FShift32
	FShift63
	FShiftMasked // shift by a register masked to the width
	FDivReg      // div/mod by a register (that may be 0)
	FCheckJGT    // bounds checks: p+n > end → fail
	FCheckJLTRev // end < p+n → fail
	FCheckJGE    // p+n >= end → fail
	FCheckJLERev // end <= p+n → fail
	FCheckJLEOk  // p+n <= end → ok
	FCheckJGERevOk
	FCheckJLTOk
	FCheckJGTRevOk
	FPktLoad1 // packet loads by size (1, 2, 4, 8)
	FPktLoad2
	FPktLoad4
	FPktLoad8
	FPktStore1
	FPktStore2
	FPktStore4
	FPktStore8
	FPktLoadLane0 // packet loads by offset mod 8
	_
	_
	_
	_
	_
	_
	_
	FPktStoreLane0
	_
	_
	_
	_
	_
	_
	_
	FPktLoadSX
	FPktStoreImm
	FPktVarOffset // data + (x & mask), rechecked
	FPktVarAccess // an access through such a pointer
	FParse
	FLdAbs1
	FLdAbs2
	FLdAbs4
	FLdInd1
	FLdInd2
	FLdInd4
	FCtxLen
	FReloadAfterAdjust
	FEarlyExit
	FBranch
	FIfElse
	FPhi
	FSelect
	FMultiExit
	FActionComputed
	FLoop
	FCall
	FCall5Args
	FStackStore1
	FStackStore2
	FStackStore4
	FStackStore8
	FStackLoad1
	FStackLoad2
	FStackLoad4
	FStackLoad8
	FStackLoadSX
	FStackStoreImm
	FStackPtrReg
	FSpillPtr
	FFillPtr
	FMapHash
	FMapArray
	FMapLookup
	FMapUpdate
	FMapDelete
	FMapValLoad1
	FMapValLoad2
	FMapValLoad4
	FMapValLoad8
	FMapValStore1
	FMapValStore2
	FMapValStore4
	FMapValStore8
	FMapValLane0
	_
	_
	_
	_
	_
	_
	_
	FMapValPtrAdd
	FAtomic
	FAtomicStack
	FPrandom
	FCsumPkt
	FCsumStack
	FAdjustHead
	FAdjustTail
	FAdjustTailGrow
	FPerfOutput
	FPerfStack
	FPerfMapValue
	FPerfCtxLen
	FResultMap
	numSem
)

// semNames names the semantic features; lanes and sizes get suffixes.
var semNames = func() []string {
	n := make([]string, numSem)
	set := func(f Feature, s string) { n[f] = s }
	for _, x := range []struct {
		f Feature
		s string
	}{
		{FXDP, "prog.xdp"}, {FTC, "prog.tc"}, {FConst0, "const.0"}, {FConst1, "const.1"}, {FConstM1, "const.-1"},
		{FConstMaxS32, "const.2^31-1"}, {FConst2p31, "const.2^31"}, {FConstU32Max, "const.2^32-1"}, {FConst2p63, "const.2^63"},
		{FLddwHigh, "const.lddw-high"}, {FShift0, "shift.0"}, {FShift31, "shift.31"}, {FShift32, "shift.32"}, {FShift63, "shift.63"},
		{FShiftMasked, "shift.reg-masked"}, {FDivReg, "divmod.reg"},
		{FCheckJGT, "check.p>end"}, {FCheckJLTRev, "check.end<p"}, {FCheckJGE, "check.p>=end"}, {FCheckJLERev, "check.end<=p"},
		{FCheckJLEOk, "check.p<=end"}, {FCheckJGERevOk, "check.end>=p"}, {FCheckJLTOk, "check.p<end"}, {FCheckJGTRevOk, "check.end>p"},
		{FPktLoadSX, "pkt.ldsx"}, {FPktStoreImm, "pkt.st-imm"}, {FPktVarOffset, "pkt.var-offset"}, {FPktVarAccess, "pkt.var-access"},
		{FParse, "pkt.parse"}, {FCtxLen, "ctx.len"}, {FReloadAfterAdjust, "pkt.reload-after-adjust"},
		{FEarlyExit, "cf.early-exit"}, {FBranch, "cf.if-then"}, {FIfElse, "cf.if-else"}, {FPhi, "cf.phi"}, {FSelect, "cf.select"}, {FMultiExit, "cf.multi-exit"},
		{FActionComputed, "exit.computed-action"}, {FLoop, "cf.loop"}, {FCall, "call.bpf2bpf"}, {FCall5Args, "call.5-args"},
		{FStackLoadSX, "stack.ldsx"}, {FStackStoreImm, "stack.st-imm"}, {FStackPtrReg, "stack.ptr-reg"},
		{FSpillPtr, "stack.spill-ptr"}, {FFillPtr, "stack.fill-ptr"}, {FMapHash, "map.hash"}, {FMapArray, "map.array"},
		{FMapLookup, "map.lookup"}, {FMapUpdate, "map.update"}, {FMapDelete, "map.delete"}, {FMapValPtrAdd, "mapval.ptr-add"},
		{FAtomic, "atomic"}, {FAtomicStack, "atomic.stack"}, {FPrandom, "helper.prandom"}, {FCsumPkt, "csum.pkt"},
		{FCsumStack, "csum.stack"}, {FAdjustHead, "xdp.adjust-head"}, {FAdjustTail, "xdp.adjust-tail"},
		{FAdjustTailGrow, "xdp.adjust-tail-grow"}, {FPerfOutput, "perf.output"}, {FPerfStack, "perf.stack"},
		{FPerfMapValue, "perf.mapval"}, {FPerfCtxLen, "perf.ctxlen"}, {FResultMap, "exit.result-map"},
	} {
		set(x.f, x.s)
	}
	for i, sz := range []string{"1", "2", "4", "8"} {
		set(FPktLoad1+Feature(i), "pkt.ldx."+sz)
		set(FPktStore1+Feature(i), "pkt.stx."+sz)
		set(FStackStore1+Feature(i), "stack.st."+sz)
		set(FStackLoad1+Feature(i), "stack.ld."+sz)
		set(FMapValLoad1+Feature(i), "mapval.ld."+sz)
		set(FMapValStore1+Feature(i), "mapval.st."+sz)
		if i < 3 {
			set(FLdAbs1+Feature(i), "ldabs."+sz)
			set(FLdInd1+Feature(i), "ldind."+sz)
		}
	}
	for l := 0; l < 8; l++ {
		set(FPktLoadLane0+Feature(l), fmt.Sprintf("pkt.ld.lane%d", l))
		set(FPktStoreLane0+Feature(l), fmt.Sprintf("pkt.st.lane%d", l))
		set(FMapValLane0+Feature(l), fmt.Sprintf("mapval.lane%d", l))
	}
	return n
}()

// opNames are the instruction-form features, numbered after the semantic ones.
var opNames = func() []string {
	var n []string
	for _, w := range []string{"alu64", "alu32"} {
		for _, op := range []string{"add", "sub", "mul", "div", "mod", "or", "and", "xor", "mov", "lsh", "rsh", "arsh", "sdiv", "smod"} {
			n = append(n, w+"."+op+".imm", w+"."+op+".reg")
		}
		n = append(n, w+".neg", w+".movsx8", w+".movsx16")
	}
	n = append(n, "alu64.movsx32", "end.be16", "end.be32", "end.be64", "end.le16", "end.le32", "end.le64", "bswap16", "bswap32", "bswap64")
	for _, w := range []string{"jmp", "jmp32"} {
		for _, op := range jumpOps {
			name := strings.ToLower(op.String())
			n = append(n, w+"."+name+".imm", w+"."+name+".reg")
		}
	}
	n = append(n, "ja", "gotol", "exit", "call.local", "lddw", "lddw.map")
	for _, h := range helperNames {
		n = append(n, "call."+h)
	}
	for _, sz := range []string{"1", "2", "4", "8"} {
		n = append(n, "ldx."+sz, "stx."+sz, "st."+sz)
		if sz != "8" {
			n = append(n, "ldsx."+sz, "ldabs-op."+sz, "ldind-op."+sz)
		}
	}
	for _, sz := range []string{"4", "8"} {
		for _, op := range atomicOps {
			n = append(n, "atomic."+strings.ToLower(op.String())+"."+sz)
		}
	}
	return n
}()

var helperNames = map[asm.BuiltinFunc]string{
	asm.FnMapLookupElem: "map_lookup_elem", asm.FnMapUpdateElem: "map_update_elem", asm.FnMapDeleteElem: "map_delete_elem",
	asm.FnGetPrandomU32: "get_prandom_u32", asm.FnCsumDiff: "csum_diff", asm.FnXdpAdjustHead: "xdp_adjust_head",
	asm.FnXdpAdjustTail: "xdp_adjust_tail", asm.FnPerfEventOutput: "perf_event_output",
}

var opIndex = func() map[string]Feature {
	m := make(map[string]Feature, len(opNames))
	for i, s := range opNames {
		m[s] = numSem + Feature(i)
	}
	return m
}()

// numFeatures counts every feature.
var numFeatures = int(numSem) + len(opNames)

// Features is a set of features.
type Features [8]uint64

func (f *Features) add(x Feature) { f[x/64] |= 1 << (x % 64) }

// Has reports whether x is in the set.
func (f *Features) Has(x Feature) bool { return f[x/64]&(1<<(x%64)) != 0 }

// Union adds the features of o.
func (f *Features) Union(o *Features) {
	for i := range f {
		f[i] |= o[i]
	}
}

// Names lists the features in the set.
func (f *Features) Names() []string {
	var out []string
	for i := 0; i < numFeatures; i++ {
		if f.Has(Feature(i)) {
			out = append(out, Feature(i).String())
		}
	}
	return out
}

func (x Feature) String() string {
	switch {
	case int(x) < len(semNames):
		return semNames[x]
	case int(x) < numFeatures:
		return opNames[int(x)-int(numSem)]
	}
	return fmt.Sprintf("feature(%d)", int(x))
}

// AllFeatures lists every feature the generator can produce.
func AllFeatures() []Feature {
	var out []Feature
	for i := 0; i < numFeatures; i++ {
		if Feature(i).String() != "" {
			out = append(out, Feature(i))
		}
	}
	return out
}

// Coverage is the set of features p uses: its instruction forms and the
// semantic features the generator recorded (a parsed program has only
// the former).
func Coverage(p *Program) Features {
	f := p.sem
	for i := range p.Insns {
		if name := insnFeature(&p.Insns[i]); name != "" {
			if x, ok := opIndex[name]; ok {
				f.add(x)
			}
		}
	}
	return f
}

var sizeSuffix = map[asm.Size]string{asm.Byte: "1", asm.Half: "2", asm.Word: "4", asm.DWord: "8"}

// insnFeature names an instruction's form.
func insnFeature(ins *asm.Instruction) string {
	op := ins.OpCode
	switch cls := op.Class(); {
	case cls.IsALU():
		w := "alu64"
		if cls == asm.ALUClass {
			w = "alu32"
		}
		src := ".imm"
		if op.Source() == asm.RegSource {
			src = ".reg"
		}
		switch a := op.ALUOp(); a {
		case asm.Neg:
			return w + ".neg"
		case asm.Swap:
			if cls == asm.ALU64Class {
				return fmt.Sprintf("bswap%d", ins.Constant)
			}
			if op.Endianness() == asm.BE {
				return fmt.Sprintf("end.be%d", ins.Constant)
			}
			return fmt.Sprintf("end.le%d", ins.Constant)
		case asm.MovSX8, asm.MovSX16, asm.MovSX32:
			return w + "." + strings.ToLower(a.String())
		default:
			return w + "." + strings.ToLower(a.String()) + src
		}
	case cls.IsJump():
		switch j := op.JumpOp(); j {
		case asm.Ja:
			if cls == asm.Jump32Class {
				return "gotol"
			}
			return "ja"
		case asm.Exit:
			return "exit"
		case asm.Call:
			if ins.Src == asm.PseudoCall {
				return "call.local"
			}
			return "call." + helperNames[asm.BuiltinFunc(ins.Constant)]
		default:
			w := "jmp"
			if cls == asm.Jump32Class {
				w = "jmp32"
			}
			src := ".imm"
			if op.Source() == asm.RegSource {
				src = ".reg"
			}
			return w + "." + strings.ToLower(j.String()) + src
		}
	case cls == asm.LdClass:
		switch op.Mode() {
		case asm.ImmMode:
			if ins.Src == asm.PseudoMapFD {
				return "lddw.map"
			}
			return "lddw"
		case asm.AbsMode:
			return "ldabs-op." + sizeSuffix[op.Size()]
		case asm.IndMode:
			return "ldind-op." + sizeSuffix[op.Size()]
		}
	case cls == asm.LdXClass:
		if op.Mode() == asm.MemSXMode {
			return "ldsx." + sizeSuffix[op.Size()]
		}
		return "ldx." + sizeSuffix[op.Size()]
	case cls == asm.StClass:
		return "st." + sizeSuffix[op.Size()]
	case cls == asm.StXClass:
		if op.Mode() == asm.AtomicMode {
			s := "4"
			if op.Size() == asm.DWord {
				s = "8"
			}
			return "atomic." + strings.ToLower(op.AtomicOp().String()) + "." + s
		}
		return "stx." + sizeSuffix[op.Size()]
	}
	return ""
}
