package fuzz

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// Coverage counts the instruction forms (opcode, source, size, and the
// offset or immediate that selects a variant: sdiv, movsx, bswap, atomic
// operations) the programs of a campaign used, against every form an XDP
// or tc program may use (RFC 9669 §4–5 and the kernel's legacy packet
// loads).
type Coverage struct{ seen map[string]int }

// NewCoverage is an empty count.
func NewCoverage() Coverage { return Coverage{seen: map[string]int{}} }

// Reset empties the count.
func (c *Coverage) Reset() { clear(c.seen) }

// AddProgram counts the forms of insns.
func (c *Coverage) AddProgram(insns asm.Instructions) {
	for _, ins := range insns {
		if n := FormName(ins); n != "" {
			c.seen[n]++
		}
	}
}

// Merge adds o's counts.
func (c *Coverage) Merge(o Coverage) {
	for k, v := range o.seen {
		c.seen[k] += v
	}
}

func (c *Coverage) clone() Coverage {
	n := NewCoverage()
	n.Merge(*c)
	return n
}

// Percent is the share of all forms seen at least once.
func (c *Coverage) Percent() float64 {
	hit := 0
	for _, f := range allForms {
		if c.seen[f] > 0 {
			hit++
		}
	}
	return 100 * float64(hit) / float64(len(allForms))
}

// Missing lists the forms never seen.
func (c *Coverage) Missing() []string {
	var out []string
	for _, f := range allForms {
		if c.seen[f] == 0 {
			out = append(out, f)
		}
	}
	return out
}

// String is "P% of N forms", with the missing ones.
func (c *Coverage) String() string {
	s := fmt.Sprintf("%.1f%% of %d instruction forms", c.Percent(), len(allForms))
	if m := c.Missing(); len(m) > 0 {
		if len(m) > 24 {
			m = append(m[:24:24], "…")
		}
		s += "; never generated: " + strings.Join(m, " ")
	}
	return s
}

// allForms is every instruction form an XDP or tc program may contain.
var allForms = func() []string {
	var out []string
	add := func(f string, args ...any) { out = append(out, fmt.Sprintf(f, args...)) }
	for _, cls := range []string{"alu32", "alu64"} {
		for _, op := range []string{"add", "sub", "mul", "div", "sdiv", "or", "and", "lsh", "rsh", "mod", "smod", "xor", "mov", "arsh"} {
			add("%s %s k", cls, op)
			add("%s %s x", cls, op)
		}
		add("%s neg", cls)
		add("%s movsx8 x", cls)
		add("%s movsx16 x", cls)
	}
	add("alu64 movsx32 x")
	for _, w := range []int{16, 32, 64} {
		add("le%d", w)
		add("be%d", w)
		add("bswap%d", w)
	}
	for _, cls := range []string{"jmp", "jmp32"} {
		for _, op := range []string{"jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"} {
			add("%s %s k", cls, op)
			add("%s %s x", cls, op)
		}
	}
	for _, f := range []string{"ja", "gotol", "call helper", "call local", "exit", "lddw imm", "lddw map"} {
		add("%s", f)
	}
	for _, sz := range []string{"b", "h", "w", "dw"} {
		add("ldx%s", sz)
		add("stx%s", sz)
		add("st%s", sz)
	}
	for _, sz := range []string{"b", "h", "w"} {
		add("ldxs%s", sz)
		add("ldabs%s", sz)
		add("ldind%s", sz)
	}
	for _, sz := range []string{"w", "dw"} {
		for _, op := range []string{"add", "or", "and", "xor", "fetch_add", "fetch_or", "fetch_and", "fetch_xor", "xchg", "cmpxchg"} {
			add("atomic%s %s", sz, op)
		}
	}
	sort.Strings(out)
	return out
}()

var sizeName = map[asm.Size]string{asm.Byte: "b", asm.Half: "h", asm.Word: "w", asm.DWord: "dw"}

// FormName names ins's form as allForms does ("" for none of them).
func FormName(ins asm.Instruction) string {
	op := ins.OpCode
	cls := op.Class()
	src := "k"
	if op.Source() == asm.RegSource {
		src = "x"
	}
	switch {
	case cls.IsALU():
		c := "alu64"
		if cls == asm.ALUClass {
			c = "alu32"
		}
		name := strings.ToLower(op.ALUOp().String())
		switch op.ALUOp() {
		case asm.Swap:
			w := ins.Constant
			switch {
			case cls == asm.ALU64Class:
				return fmt.Sprintf("bswap%d", w)
			case op.Endianness() == asm.BE:
				return fmt.Sprintf("be%d", w)
			default:
				return fmt.Sprintf("le%d", w)
			}
		case asm.Neg:
			return c + " neg"
		}
		// cilium/ebpf decodes sdiv, smod and movsxN as ALU operations of
		// their own (the offset that selects them is folded in).
		return c + " " + name + " " + src
	case cls.IsJump():
		switch op.JumpOp() {
		case asm.Ja:
			if cls == asm.Jump32Class {
				return "gotol"
			}
			return "ja"
		case asm.Call:
			if ins.IsFunctionCall() {
				return "call local"
			}
			return "call helper"
		case asm.Exit:
			return "exit"
		}
		c := "jmp"
		if cls == asm.Jump32Class {
			c = "jmp32"
		}
		return c + " " + strings.ToLower(op.JumpOp().String()) + " " + src
	case op.IsDWordLoad():
		if ins.IsLoadFromMap() {
			return "lddw map"
		}
		return "lddw imm"
	}
	sz := sizeName[op.Size()]
	switch cls {
	case asm.LdXClass:
		if op.Mode() == asm.MemSXMode {
			return "ldxs" + sz
		}
		return "ldx" + sz
	case asm.StXClass:
		if op.Mode() == asm.AtomicMode {
			return "atomic" + sz + " " + atomicName(op.AtomicOp())
		}
		return "stx" + sz
	case asm.StClass:
		return "st" + sz
	case asm.LdClass:
		switch op.Mode() {
		case asm.AbsMode:
			return "ldabs" + sz
		case asm.IndMode:
			return "ldind" + sz
		}
	}
	return ""
}

// atomicName names an atomic operation as allForms does.
func atomicName(op asm.AtomicOp) string {
	switch op {
	case asm.Xchg:
		return "xchg"
	case asm.CmpXchg:
		return "cmpxchg"
	case asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor:
		return "fetch_" + strings.ToLower(op.String()[len("Fetch"):])
	}
	return strings.ToLower(op.String())
}
