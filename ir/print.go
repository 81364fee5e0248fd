package ir

import (
	"fmt"
	"strings"
)

// Print writes a module in the IR text format (docs/ir.md). Parse reads it
// back: Print(Parse(s)) == s for every s that Print can produce.
func Print(m *Module) string {
	var b strings.Builder
	for i, f := range m.Funcs {
		if i > 0 {
			b.WriteByte('\n')
		}
		f.write(&b)
	}
	return b.String()
}

// String is the function in the IR text format.
func (f *Func) String() string {
	var b strings.Builder
	f.write(&b)
	return b.String()
}

func (f *Func) write(b *strings.Builder) {
	if f.StackSize != 0 {
		fmt.Fprintf(b, "func %s stack=%d {\n", f.Name, f.StackSize)
	} else {
		fmt.Fprintf(b, "func %s {\n", f.Name)
	}
	for _, bl := range f.Blocks {
		fmt.Fprintf(b, "b%d", bl.ID)
		if len(bl.Params) > 0 {
			b.WriteByte('(')
			for i, p := range bl.Params {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(b, "v%d:%s", p.ID, p.Type)
				b.WriteString(f.Facts[p.ID].String())
			}
			b.WriteByte(')')
		}
		b.WriteString(":\n")
		for _, v := range bl.Instrs {
			b.WriteString("  ")
			b.WriteString(v.LongString())
			b.WriteByte('\n')
		}
	}
	b.WriteString("}\n")
}

// String is the value's name, v<ID>.
func (v *Value) String() string { return fmt.Sprintf("v%d", v.ID) }

// LongString is the value's instruction line as Print writes it (without
// indentation): result, op, operands, position, facts.
func (v *Value) LongString() string {
	var b strings.Builder
	info := v.Op.Info()
	if v.Op == OpParam {
		fmt.Fprintf(&b, "block parameter v%d:%s", v.ID, v.Type)
		if v.Block != nil && v.Block.Func != nil {
			b.WriteString(v.Block.Func.Facts[v.ID].String())
		}
		return b.String()
	}
	if v.Type != Void {
		fmt.Fprintf(&b, "v%d:%s = ", v.ID, v.Type)
	}
	b.WriteString(info.Name)
	var ops []string
	val := func(a *Value) string {
		if a == nil {
			return "<nil>"
		}
		return a.String()
	}
	switch info.Fmt {
	case FmtArgs:
		for _, a := range v.Args {
			ops = append(ops, val(a))
		}
	case FmtImm:
		ops = append(ops, fmt.Sprint(v.Imm))
	case FmtImm2:
		ops = append(ops, fmt.Sprint(v.Imm), fmt.Sprintf("%+d", v.Imm2))
	case FmtLoad, FmtStore:
		addr := "<nil>"
		if len(v.Args) > 0 {
			addr = val(v.Args[0])
		}
		ops = append(ops, fmt.Sprintf("%s[%s%+d]", v.Region, addr, v.Imm))
		if len(v.Args) > 1 {
			for _, a := range v.Args[1:] {
				ops = append(ops, val(a))
			}
		}
	case FmtCall, FmtCallFn:
		if info.Fmt == FmtCall {
			ops = append(ops, fmt.Sprint(v.Imm))
		} else {
			ops = append(ops, v.Sym)
		}
		for _, a := range v.Args {
			ops = append(ops, val(a))
		}
	case FmtBranch:
		for _, a := range v.Args {
			ops = append(ops, val(a))
		}
	}
	for _, t := range v.Targets {
		ops = append(ops, t.String())
	}
	if len(ops) > 0 {
		b.WriteByte(' ')
		b.WriteString(strings.Join(ops, ", "))
	}
	if v.Pos >= 0 {
		fmt.Fprintf(&b, " @%d", v.Pos)
	}
	if v.Block != nil && v.Block.Func != nil && v.Type != Void {
		b.WriteString(v.Block.Func.Facts[v.ID].String())
	}
	return b.String()
}

// String is the target as written in a branch: b3 or b3(v1, v2).
func (t Target) String() string {
	if t.Block == nil {
		return "<nil>"
	}
	if len(t.Args) == 0 {
		return fmt.Sprintf("b%d", t.Block.ID)
	}
	args := make([]string, len(t.Args))
	for i, a := range t.Args {
		if a == nil {
			args[i] = "<nil>"
		} else {
			args[i] = a.String()
		}
	}
	return fmt.Sprintf("b%d(%s)", t.Block.ID, strings.Join(args, ", "))
}
