// Package passes is nfpcc's middle end: IR→IR rewrites between the lifter
// (compiler/lift) and the backend, driven by the verifier's facts, which
// reach it only as ir.Facts. It follows the shape of Go's
// cmd/compile/internal/ssa/compile.go: the pipeline is one table of passes
// (name, required, the lowest level it runs at, the properties it needs and
// those it invalidates), order constraints between passes are rows with a
// reason, checked when the table is built, ir.Check runs after every pass
// under -d=check (tests always set it), and every rewrite an optimisation
// makes is a Remark ("v17: bounds check removed: pc 12 proved v4+14 <=
// pkt_end") that -d=PASS/debug prints and the goldens assert.
//
// Levels: O0 runs only the required passes (what the backend needs to
// compile at all: inlining of BPF-to-BPF calls); it is the Linux JIT's
// one-to-one baseline the reports compare with. O1 adds the cheap local
// cleanups; O2 (the default) everything.
package passes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nfpcc/nfpcc/ir"
)

// Level is an optimisation level. The zero value is the default, O2, so
// that a zero Config optimises.
type Level int8

const (
	LevelDefault Level = iota // O2
	O0
	O1
	O2
)

// Effective maps LevelDefault to O2.
func (l Level) Effective() Level {
	if l == LevelDefault {
		return O2
	}
	return l
}

func (l Level) String() string {
	switch l.Effective() {
	case O0:
		return "-O0"
	case O1:
		return "-O1"
	}
	return "-O2"
}

// ParseLevel reads "0", "1", "2", "O2" or "-O2".
func ParseLevel(s string) (Level, error) {
	switch strings.TrimPrefix(strings.TrimPrefix(s, "-"), "O") {
	case "0":
		return O0, nil
	case "1":
		return O1, nil
	case "2", "":
		return O2, nil
	}
	return 0, fmt.Errorf("unknown optimisation level %q (want -O0, -O1 or -O2)", s)
}

// Prop is a property of the IR that a pass may need (an earlier pass
// establishes it) or invalidate.
type Prop string

const (
	// PropInlined: the module is one function, no callfn (inline).
	PropInlined Prop = "inlined"
	// PropNoDead: no unused pure values, params or unreachable blocks
	// (deadcode); every rewrite that drops a use invalidates it.
	PropNoDead Prop = "nodead"
	// PropDom: the dominator tree computed before the pass is still right
	// (any pass that changes edges invalidates it).
	PropDom Prop = "dom"
)

// Pass is one row of the pipeline.
type Pass struct {
	Name string
	// Doc is a one-line summary (nfpcc --help-passes, the HTML dump).
	Doc string
	// Required passes run at every level and cannot be switched off.
	Required bool
	// Min is the lowest level the pass runs at (O0 for required ones).
	Min         Level
	Needs       []Prop
	Invalidates []Prop
	// Exactly one of fn (per function) and mod (whole module) is set.
	fn  func(*Unit)
	mod func(*Unit, *ir.Module)
}

// constraint says pass a must come before pass b, and why.
type constraint struct{ a, b, why string }

// Pipeline is the table of passes in the order they run (each file in this
// package is one row's pass).
var Pipeline = mustBuild([]*Pass{
	{Name: "inline", Doc: "BPF-to-BPF calls replaced by the callee's body in its own frame", Required: true, Min: O0, mod: inline},
	{Name: "sccp", Doc: "sparse conditional constant propagation on the verifier's facts; branches the facts decide", Min: O1, Needs: []Prop{PropInlined}, Invalidates: []Prop{PropNoDead, PropDom}, fn: sccp},
	{Name: "copyprop", Doc: "copies (identities, trivial block parameters) replaced by their source", Min: O1, Invalidates: []Prop{PropNoDead}, fn: copyprop},
	{Name: "bce", Doc: "packet bounds checks along a chain with one failure merged into the first, strengthened", Min: O2, Invalidates: []Prop{PropNoDead}, fn: bce},
	{Name: "strength", Doc: "multiply, divide and modulo by constants as shifts, masks and multiply-high", Min: O2, Invalidates: []Prop{PropNoDead}, fn: strength},
	{Name: "narrow", Doc: "demanded bits: 64-bit work whose upper half is never read done in 32 bits", Min: O2, Invalidates: []Prop{PropNoDead}, fn: narrow},
	{Name: "cse", Doc: "common subexpressions and redundant loads with no store between (dominator scopes)", Min: O2, Needs: []Prop{PropInlined}, Invalidates: []Prop{PropNoDead}, fn: cse},
	{Name: "licm", Doc: "loop-invariant pure values hoisted out of bounded loops into the preheader", Min: O2, Invalidates: []Prop{PropDom}, fn: licm},
	{Name: "stackfwd", Doc: "stack stores forwarded to the loads that read them back; stores overwritten before any read dropped", Min: O2, Needs: []Prop{PropInlined}, Invalidates: []Prop{PropNoDead}, fn: stackfwd},
	{Name: "deadcode", Doc: "unused pure values, block parameters and unreachable blocks removed", Min: O1, fn: deadcode},
	{Name: "cfg", Doc: "CFG simplification: same-target branches, empty blocks forwarded, single-edge blocks merged", Min: O1, Invalidates: []Prop{PropDom}, fn: cfg},
	{Name: "ifconv", Doc: "branches that only choose 0 or 1 for a join's parameter as unsigned compares producing the value", Min: O2, Invalidates: []Prop{PropDom, PropNoDead}, fn: ifconv},
	{Name: "retdup", Doc: "edges into a block that only returns its parameter return the argument themselves", Min: O2, Invalidates: []Prop{PropDom, PropNoDead}, fn: retdup},
	{Name: "deadcode2", Doc: "deadcode again after the CFG changes", Min: O1, fn: deadcode},
}, []constraint{
	{"inline", "sccp", "facts of a callee's parameters hold only once its body sees the call's arguments; every pass after assumes one function"},
	{"sccp", "copyprop", "sccp turns block parameters into copies of one constant"},
	{"sccp", "bce", "checks the facts already decide are gone before chains are merged"},
	{"copyprop", "bce", "failure edges are compared by their arguments' identity: copies must be gone"},
	{"bce", "cse", "the strengthened check's address may repeat one computed later"},
	{"copyprop", "cse", "cse compares operands by identity: copies must be gone first"},
	{"strength", "cse", "the shifts and multiplies strength reduction writes may repeat"},
	{"narrow", "cse", "narrowed operations (trunc of the same operand) repeat"},
	{"cse", "stackfwd", "stackfwd compares store and load addresses by value identity"},
	{"cse", "licm", "invariants computed twice in a loop are one value after cse: hoisted once"},
	{"stackfwd", "deadcode", "forwarded loads are left unused"},
	{"sccp", "deadcode", "sccp leaves folded values and unreachable blocks"},
	{"deadcode", "cfg", "empty blocks appear only once dead values are gone"},
	{"cfg", "deadcode2", "merging blocks turns parameters into unused copies"},
	{"cfg", "ifconv", "cfg bypasses empty blocks except those that choose a constant for a conditional edge: what ifconv converts"},
	{"ifconv", "deadcode2", "the choosing blocks ifconv leaves are unreachable"},
	{"ifconv", "retdup", "ifconv's joins may be return blocks: converted branches first, or their edges get return blocks of their own"},
	{"retdup", "deadcode2", "the shared return block may be left unreachable"},
})

func mustBuild(ps []*Pass, cs []constraint) []*Pass {
	if err := build(ps, cs); err != nil {
		panic("BUG: passes: " + err.Error())
	}
	return ps
}

// build checks the table: unique names, required passes at O0, and every
// order constraint satisfied.
func build(ps []*Pass, cs []constraint) error {
	idx := map[string]int{}
	for i, p := range ps {
		if _, dup := idx[p.Name]; dup {
			return fmt.Errorf("pass %s listed twice", p.Name)
		}
		idx[p.Name] = i
		if (p.fn == nil) == (p.mod == nil) {
			return fmt.Errorf("pass %s: needs exactly one of a function or module body", p.Name)
		}
		if p.Required && p.Min != O0 {
			return fmt.Errorf("pass %s is required but does not run at -O0", p.Name)
		}
		if !p.Required && p.Min == O0 {
			return fmt.Errorf("pass %s runs at -O0 but is not required (-O0 runs only what correctness needs)", p.Name)
		}
	}
	for _, c := range cs {
		a, okA := idx[c.a]
		b, okB := idx[c.b]
		if !okA || !okB {
			return fmt.Errorf("order constraint %s before %s names an unknown pass", c.a, c.b)
		}
		if a >= b {
			return fmt.Errorf("pass %s must come before %s: %s", c.a, c.b, c.why)
		}
	}
	// A property a pass needs must be established by a required pass
	// earlier in the table (PropInlined) and not invalidated in between.
	for i, p := range ps {
		for _, need := range p.Needs {
			ok := false
			for j := i - 1; j >= 0 && !ok; j-- {
				if establishes(ps[j], need) {
					ok = true
					break
				}
				for _, inv := range ps[j].Invalidates {
					if inv == need {
						return fmt.Errorf("pass %s needs %s, which %s invalidates before it", p.Name, need, ps[j].Name)
					}
				}
			}
			if !ok {
				return fmt.Errorf("pass %s needs %s, which no earlier pass establishes", p.Name, need)
			}
		}
	}
	return nil
}

// establishes says which pass makes which property true.
func establishes(p *Pass, prop Prop) bool {
	switch prop {
	case PropInlined:
		return p.Name == "inline"
	case PropNoDead:
		return p.mod == nil && strings.HasPrefix(p.Name, "deadcode")
	}
	return false
}

// Lookup finds a pass by name.
func Lookup(name string) *Pass {
	for _, p := range Pipeline {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Config selects and instruments the passes.
type Config struct {
	Level Level
	// Flags per pass name: "off" skips it (not allowed for required
	// passes), "debug" sends its remarks to Remarks, "dump" calls Dump
	// after it.
	Flags map[string]string
	// Check runs ir.CheckModule after every pass (-d=check).
	Check bool
	// Remarks receives the remarks of passes flagged debug (all remarks
	// are also returned by Run).
	Remarks func(Remark)
	// Dump receives the module after each pass flagged dump, or after
	// every pass when DumpAll is set (the HTML view, --after).
	Dump    func(pass string, m *ir.Module)
	DumpAll bool
	// StopAfter ends the pipeline after the named pass ("" runs it all).
	StopAfter string
}

// ParseDebug adds -d flags ("check", "PASS/debug", "PASS/off",
// "PASS/dump", comma-separated) to c.
func (c *Config) ParseDebug(spec string) error {
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "check" {
			c.Check = true
			continue
		}
		name, flag, ok := strings.Cut(item, "/")
		if !ok {
			return fmt.Errorf("-d=%s: want check or PASS/debug|off|dump", item)
		}
		p := Lookup(name)
		if p == nil {
			return fmt.Errorf("-d=%s: no pass %q (passes: %s)", item, name, strings.Join(Names(), ", "))
		}
		switch flag {
		case "debug", "dump":
		case "off":
			if p.Required {
				return fmt.Errorf("-d=%s: pass %s is required: it cannot be switched off", item, name)
			}
		default:
			return fmt.Errorf("-d=%s: unknown flag %q (want debug, off or dump)", item, flag)
		}
		if c.Flags == nil {
			c.Flags = map[string]string{}
		}
		c.Flags[name] = flag
	}
	return nil
}

// Names lists the passes in pipeline order.
func Names() []string {
	var out []string
	for _, p := range Pipeline {
		out = append(out, p.Name)
	}
	return out
}

// Enabled reports whether p runs under c.
func (c *Config) Enabled(p *Pass) bool {
	if p.Required {
		return true
	}
	if c.Flags[p.Name] == "off" {
		return false
	}
	return c.Level.Effective() >= p.Min
}

// Run runs the pipeline on m in place and returns every remark made. An
// error is a pass leaving invalid IR (with Check) or an input the passes
// cannot handle (inlining an unknown callee); panics are the caller's to
// turn into "BUG in passes".
func Run(m *ir.Module, c Config) ([]Remark, error) {
	var all []Remark
	for _, p := range Pipeline {
		if !c.Enabled(p) {
			continue
		}
		rs, err := RunPass(p, m, c)
		all = append(all, rs...)
		if err != nil {
			return all, err
		}
		if c.StopAfter == p.Name {
			break
		}
	}
	return all, nil
}

// RunPass runs one pass on every function of m (or on m, for module passes).
func RunPass(p *Pass, m *ir.Module, c Config) ([]Remark, error) {
	u := &Unit{pass: p.Name}
	if p.mod != nil {
		p.mod(u, m)
	} else {
		for _, f := range m.Funcs {
			u.f = f
			p.fn(u)
		}
	}
	if u.err != nil {
		return u.remarks, fmt.Errorf("pass %s: %w", p.Name, u.err)
	}
	if c.Check {
		if err := ir.CheckModule(m); err != nil {
			return u.remarks, fmt.Errorf("BUG: pass %s left invalid IR: %w", p.Name, err)
		}
	}
	if c.Remarks != nil && c.Flags[p.Name] == "debug" {
		for _, r := range u.remarks {
			c.Remarks(r)
		}
	}
	if c.Dump != nil && (c.DumpAll || c.Flags[p.Name] == "dump") {
		c.Dump(p.Name, m)
	}
	return u.remarks, nil
}

// Unit is what a pass works on: one function (nil for module passes) and
// the remarks sink.
type Unit struct {
	pass    string
	f       *ir.Func
	remarks []Remark
	err     error
}

// Remark is one decision a pass made, tied to a value and its eBPF slot.
type Remark struct {
	Pass  string
	Func  string
	Value int // value ID, -1 for none
	Pos   int // eBPF slot, -1 for none
	Msg   string
}

// String is "v17: bounds check removed: pc 12 proved v4+14 <= pkt_end"
// (without the pass, which the caller prints when it mixes passes).
func (r Remark) String() string {
	if r.Value < 0 {
		return r.Msg
	}
	return fmt.Sprintf("v%d: %s", r.Value, r.Msg)
}

// remark records a decision about v (nil for none).
func (u *Unit) remark(v *ir.Value, format string, args ...any) {
	r := Remark{Pass: u.pass, Value: -1, Pos: -1, Msg: fmt.Sprintf(format, args...)}
	if u.f != nil {
		r.Func = u.f.Name
	}
	if v != nil {
		r.Value, r.Pos = v.ID, v.Pos
	}
	u.remarks = append(u.remarks, r)
}

// CountRemarks counts remarks by pass, for reports.
func CountRemarks(rs []Remark) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.Pass]++
	}
	return m
}

// SortedPasses returns the keys of a per-pass table in pipeline order.
func SortedPasses(m map[string]int) []string {
	order := map[string]int{}
	for i, n := range Names() {
		order[n] = i
	}
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return order[ks[i]] < order[ks[j]] })
	return ks
}
