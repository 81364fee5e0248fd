package ir

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar of the IR text format (docs/ir.md has it in EBNF). It is
// line-oriented: every block header and instruction ends with a newline, so
// an op that takes no operands is never confused with the next line's op.
// Comments run from # to the end of the line; Print never writes them (a
// tool may, e.g. to name the program a module came from).

type pModule struct {
	Funcs []*pFunc `parser:"EOL* ( @@ EOL* )*"`
}

type pFunc struct {
	Pos    lexer.Position
	Name   string    `parser:"\"func\" @(Ident | Block | Value)"`
	Stack  *string   `parser:"( \"stack\" \"=\" @Int )? \"{\" EOL+"`
	Blocks []*pBlock `parser:"@@* \"}\""`
}

type pBlock struct {
	Pos    lexer.Position
	Label  string    `parser:"@Block"`
	Params []*pParam `parser:"( \"(\" ( @@ ( \",\" @@ )* )? \")\" )? \":\" EOL+"`
	Instrs []*pInstr `parser:"@@*"`
}

type pParam struct {
	Pos   lexer.Position
	Name  string   `parser:"@Value \":\""`
	Type  string   `parser:"@Ident"`
	Facts []*pFact `parser:"@@*"`
}

type pInstr struct {
	Pos      lexer.Position
	Result   *string     `parser:"( @Value"`
	Type     string      `parser:"( \":\" @Ident )? \"=\" )?"`
	Op       string      `parser:"@Ident"`
	Operands []*pOperand `parser:"( @@ ( \",\" @@ )* )?"`
	At       *string     `parser:"( \"@\" @Int )?"`
	Facts    []*pFact    `parser:"@@* EOL+"`
}

type pOperand struct {
	Pos     lexer.Position
	Value   *string  `parser:"@Value"`
	Block   *string  `parser:"| @Block"`
	Args    []string `parser:"( \"(\" ( @Value ( \",\" @Value )* )? \")\" )?"`
	Int     *string  `parser:"| @Int"`
	Name    *string  `parser:"| @Ident"`
	MemBase *string  `parser:"( \"[\" @Value"`
	MemOff  *string  `parser:"@Int? \"]\" )?"`
}

type pFact struct {
	Pos   lexer.Position
	Name  string   `parser:"\"!\" @Ident"`
	Range []string `parser:"( \"[\" @Int \",\" @Int \"]\""`
	Args  []string `parser:"| \"(\" @(Int | Ident) ( \",\" @(Int | Ident) )* \")\" )"`
}

// irParser is built on first use, not at package initialisation: every
// nfpcc command imports ir, and building the grammar costs about a
// millisecond of start-up that `nfpcc verify` does not need.
var irParser = sync.OnceValue(func() *participle.Parser[pModule] {
	return participle.MustBuild[pModule](
		participle.Lexer(irLexDef{}),
		participle.Elide("Space", "Comment"),
	)
})

// Parse reads a module in the IR text format. Errors name the line and
// column. Parse resolves names (values, blocks) but does not check types or
// dominance: that is Check's job, so that tests can feed Check broken IR.
func Parse(src string) (*Module, error) { return ParseNamed("", src) }

// ParseNamed is Parse with a file name for error messages.
func ParseNamed(filename, src string) (*Module, error) {
	ast, err := irParser().ParseString(filename, src)
	if err != nil {
		var perr participle.Error
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%s: %s", posString(perr.Position()), perr.Message())
		}
		return nil, err
	}
	m := &Module{}
	for _, pf := range ast.Funcs {
		f, err := buildFunc(pf)
		if err != nil {
			return nil, err
		}
		m.Funcs = append(m.Funcs, f)
	}
	return m, nil
}

func posString(p lexer.Position) string {
	if p.Filename != "" {
		return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Column)
}

type parseError struct {
	pos lexer.Position
	msg string
}

func (e *parseError) Error() string { return posString(e.pos) + ": " + e.msg }

func errAt(pos lexer.Position, format string, args ...any) error {
	return &parseError{pos, fmt.Sprintf(format, args...)}
}

// builder turns one parsed function into an ir.Func.
type builder struct {
	f      *Func
	values map[int]*Value
	blocks map[int]*Block
}

func buildFunc(pf *pFunc) (*Func, error) {
	bd := &builder{f: NewFunc(pf.Name), values: map[int]*Value{}, blocks: map[int]*Block{}}
	f := bd.f
	if len(pf.Blocks) == 0 {
		return nil, errAt(pf.Pos, "func %s has no blocks", pf.Name)
	}
	if pf.Stack != nil {
		n, err := parseInt(*pf.Stack)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return nil, errAt(pf.Pos, "bad stack size %s", *pf.Stack)
		}
		f.StackSize = int(n)
	}
	// Pass 1: blocks, parameters and results, so that uses may come before
	// definitions in the text (loops, blocks laid out out of dominance order).
	instrs := make([][]*Value, len(pf.Blocks))
	for i, pb := range pf.Blocks {
		id, err := number(pb.Label)
		if err != nil {
			return nil, errAt(pb.Pos, "bad block name %s: %v", pb.Label, err)
		}
		if bd.blocks[id] != nil {
			return nil, errAt(pb.Pos, "block %s defined twice", pb.Label)
		}
		b := &Block{ID: id, Func: f}
		bd.blocks[id] = b
		f.Blocks = append(f.Blocks, b)
		for _, pp := range pb.Params {
			t, ok := typeByName(pp.Type)
			if !ok {
				return nil, errAt(pp.Pos, "unknown type %q (want i32 or i64)", pp.Type)
			}
			v, err := bd.define(pp.Pos, pp.Name, OpParam, t)
			if err != nil {
				return nil, err
			}
			v.Block = b
			b.Params = append(b.Params, v)
		}
		for _, pi := range pb.Instrs {
			op, ok := OpByName(pi.Op)
			if !ok {
				return nil, errAt(pi.Pos, "unknown op %q", pi.Op)
			}
			info := op.Info()
			hasResult := info.Result != Void || info.AnyInt
			var v *Value
			switch {
			case pi.Result != nil && !hasResult:
				return nil, errAt(pi.Pos, "%s has no result", pi.Op)
			case pi.Result == nil && hasResult:
				return nil, errAt(pi.Pos, "%s needs a result (vN:type = %s …)", pi.Op, pi.Op)
			case pi.Result != nil:
				t, ok := typeByName(pi.Type)
				switch {
				case pi.Type == "" && info.AnyInt:
					return nil, errAt(pi.Pos, "%s needs its type written (%s:i64 = %s …)", pi.Op, *pi.Result, pi.Op)
				case pi.Type == "":
					t = info.Result // the op table says it
				case !ok:
					return nil, errAt(pi.Pos, "unknown type %q (want i32 or i64)", pi.Type)
				}
				v, err = bd.define(pi.Pos, *pi.Result, op, t)
				if err != nil {
					return nil, err
				}
			default:
				v = &Value{ID: -1, Op: op, Type: Void, Pos: -1}
			}
			v.Block = b
			b.Instrs = append(b.Instrs, v)
			instrs[i] = append(instrs[i], v)
		}
	}
	f.renumber()
	// Instructions without a result have no name in the text; give them
	// IDs after the named values.
	for _, vs := range instrs {
		for _, v := range vs {
			if v.ID < 0 {
				v.ID = f.nextValue
				f.nextValue++
			}
		}
	}
	// Pass 2: operands, targets, positions and facts.
	for i, pb := range pf.Blocks {
		for _, pp := range pb.Params {
			if err := bd.facts(pp.Facts, bd.values[mustNumber(pp.Name)]); err != nil {
				return nil, err
			}
		}
		for j, pi := range pb.Instrs {
			v := instrs[i][j]
			if err := bd.operands(pi, v); err != nil {
				return nil, err
			}
			if pi.At != nil {
				pc, err := parseInt(*pi.At)
				if err != nil || pc < 0 || pc > math.MaxInt32 {
					return nil, errAt(pi.Pos, "bad position @%s", *pi.At)
				}
				v.Pos = int(pc)
			}
			if len(pi.Facts) > 0 && v.Type == Void {
				return nil, errAt(pi.Facts[0].Pos, "facts on an instruction without a result")
			}
			if err := bd.facts(pi.Facts, v); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

func (bd *builder) define(pos lexer.Position, name string, op Op, t Type) (*Value, error) {
	id, err := number(name)
	if err != nil {
		return nil, errAt(pos, "bad value name %s: %v", name, err)
	}
	if bd.values[id] != nil {
		return nil, errAt(pos, "%s defined twice", name)
	}
	v := &Value{ID: id, Op: op, Type: t, Pos: -1}
	bd.values[id] = v
	return v, nil
}

func (bd *builder) use(pos lexer.Position, name string) (*Value, error) {
	id, err := number(name)
	if err != nil || bd.values[id] == nil {
		return nil, errAt(pos, "%s is not defined", name)
	}
	return bd.values[id], nil
}

func (bd *builder) target(o *pOperand) (Target, error) {
	id, err := number(*o.Block)
	if err != nil || bd.blocks[id] == nil {
		return Target{}, errAt(o.Pos, "block %s is not defined", *o.Block)
	}
	t := Target{Block: bd.blocks[id]}
	for _, a := range o.Args {
		v, err := bd.use(o.Pos, a)
		if err != nil {
			return Target{}, err
		}
		t.Args = append(t.Args, v)
	}
	return t, nil
}

// operand kinds, for the signature of each Format.
const (
	kValue = 'v'
	kInt   = 'i'
	kMem   = 'm'
	kName  = 'n'
	kBlock = 'b'
)

func kindOf(o *pOperand) byte {
	switch {
	case o.Value != nil:
		return kValue
	case o.Block != nil:
		return kBlock
	case o.Int != nil:
		return kInt
	case o.MemBase != nil:
		return kMem
	}
	return kName
}

var kindNames = map[byte]string{kValue: "a value", kInt: "an integer", kMem: "a memory operand region[vN+off]", kName: "a name", kBlock: "a block"}

// signature is the operand kinds an op takes; a trailing '*' lets the last
// kind repeat (calls).
func signature(op Op) string {
	info := op.Info()
	switch info.Fmt {
	case FmtArgs:
		return strings.Repeat("v", len(info.Args))
	case FmtImm:
		return "i"
	case FmtImm2:
		return "ii"
	case FmtLoad:
		return "m"
	case FmtStore:
		return "m" + strings.Repeat("v", len(info.Args)-1)
	case FmtCall:
		return "iv*"
	case FmtCallFn:
		return "nv*"
	case FmtJump:
		return "b"
	case FmtBranch:
		return "vvbb"
	}
	return ""
}

func (bd *builder) operands(pi *pInstr, v *Value) error {
	sig := signature(v.Op)
	repeat := strings.HasSuffix(sig, "*")
	sig = strings.TrimSuffix(sig, "*")
	if len(pi.Operands) < len(sig)-btoi(repeat) || (!repeat && len(pi.Operands) > len(sig)) {
		return errAt(pi.Pos, "%s takes %s", pi.Op, describe(sig, repeat))
	}
	for k, o := range pi.Operands {
		want := sig[min(k, len(sig)-1)]
		if got := kindOf(o); got != want {
			return errAt(o.Pos, "operand %d of %s must be %s, not %s", k+1, pi.Op, kindNames[want], kindNames[got])
		}
		var err error
		switch want {
		case kValue:
			var a *Value
			a, err = bd.use(o.Pos, *o.Value)
			v.Args = append(v.Args, a)
		case kBlock:
			var t Target
			t, err = bd.target(o)
			v.Targets = append(v.Targets, t)
		case kName:
			v.Sym = *o.Name
		case kInt:
			var n int64
			n, err = parseInt(*o.Int)
			if err != nil {
				err = errAt(o.Pos, "bad integer %s", *o.Int)
			}
			if k == 0 {
				v.Imm = n
			} else {
				v.Imm2 = n
			}
		case kMem:
			r, ok := regionByName(*o.Name)
			if !ok {
				return errAt(o.Pos, "unknown memory region %q (want one of %s)", *o.Name, strings.Join(regionNames[:], ", "))
			}
			v.Region = r
			var a *Value
			a, err = bd.use(o.Pos, *o.MemBase)
			v.Args = append(v.Args, a)
			if o.MemOff != nil {
				var off int64
				off, err2 := parseInt(*o.MemOff)
				if err2 != nil || off < math.MinInt32 || off > math.MaxInt32 {
					return errAt(o.Pos, "bad memory offset %s", *o.MemOff)
				}
				v.Imm = off
			}
		}
		if err != nil {
			return err
		}
	}
	if len(v.Args) > MaxCallArgs && v.Op.IsCall() {
		return errAt(pi.Pos, "%d call arguments; eBPF passes at most %d", len(v.Args), MaxCallArgs)
	}
	return nil
}

func describe(sig string, repeat bool) string {
	if sig == "" {
		return "no operands"
	}
	var parts []string
	for i := 0; i < len(sig); i++ {
		s := kindNames[sig[i]]
		if repeat && i == len(sig)-1 {
			s = "up to 5 values"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// facts parses the !name[...] / !name(...) annotations of v.
func (bd *builder) facts(pfs []*pFact, v *Value) error {
	if len(pfs) == 0 {
		return nil
	}
	fa := &Facts{}
	seen := map[string]bool{}
	for _, pf := range pfs {
		if seen[pf.Name] && pf.Name != "le" {
			return errAt(pf.Pos, "!%s given twice", pf.Name)
		}
		seen[pf.Name] = true
		p := factParsers[pf.Name]
		if p == nil {
			return errAt(pf.Pos, "unknown fact !%s (want one of range, srange, range32, srange32, tnum, ptr, map, le)", pf.Name)
		}
		if err := p(fa, pf); err != nil {
			return errAt(pf.Pos, "!%s: %v", pf.Name, err)
		}
	}
	bd.f.Facts[v.ID] = fa
	return nil
}

var factParsers = map[string]func(*Facts, *pFact) error{
	"range": func(fa *Facts, p *pFact) error {
		r, err := urange(p, 64)
		fa.U64 = r
		return err
	},
	"range32": func(fa *Facts, p *pFact) error {
		r, err := urange(p, 32)
		fa.U32 = r
		return err
	},
	"srange": func(fa *Facts, p *pFact) error {
		r, err := srange(p, 64)
		fa.S64 = r
		return err
	},
	"srange32": func(fa *Facts, p *pFact) error {
		r, err := srange(p, 32)
		fa.S32 = r
		return err
	},
	"tnum": func(fa *Facts, p *pFact) error {
		if len(p.Args) != 2 {
			return errors.New("want (value,mask)")
		}
		val, err1 := parseUint(p.Args[0])
		mask, err2 := parseUint(p.Args[1])
		if err1 != nil || err2 != nil {
			return errors.New("want two unsigned integers (value,mask)")
		}
		fa.Tnum = &Tnum{Value: val, Mask: mask}
		return nil
	},
	"ptr": func(fa *Facts, p *pFact) error {
		if len(p.Args) != 2 && len(p.Args) != 3 {
			return errors.New("want (kind,+off) or (kind,+minoff,+maxoff)")
		}
		k, ok := PtrKindByName(p.Args[0])
		if !ok {
			return fmt.Errorf("unknown pointer kind %q", p.Args[0])
		}
		lo, err := parseInt(p.Args[1])
		if err != nil {
			return fmt.Errorf("bad offset %s", p.Args[1])
		}
		hi := lo
		if len(p.Args) == 3 {
			if hi, err = parseInt(p.Args[2]); err != nil {
				return fmt.Errorf("bad offset %s", p.Args[2])
			}
		}
		fa.Ptr = &PtrFact{Kind: k, MinOff: lo, MaxOff: hi}
		return nil
	},
	"map": func(fa *Facts, p *pFact) error {
		if len(p.Args) != 1 {
			return errors.New("want (index)")
		}
		n, err := parseInt(p.Args[0])
		if err != nil {
			return fmt.Errorf("bad map index %s", p.Args[0])
		}
		fa.Map = &n
		return nil
	},
	"le": func(fa *Facts, p *pFact) error {
		if len(p.Args) != 2 {
			return errors.New("want (+off,limit)")
		}
		off, err := parseInt(p.Args[0])
		if err != nil {
			return fmt.Errorf("bad offset %s", p.Args[0])
		}
		ok := false
		for _, l := range BoundLimits {
			ok = ok || l == p.Args[1]
		}
		if !ok {
			return fmt.Errorf("unknown limit %q (want one of %s)", p.Args[1], strings.Join(BoundLimits, ", "))
		}
		fa.Le = append(fa.Le, Bound{Off: off, Limit: p.Args[1]})
		return nil
	},
}

func urange(p *pFact, bits int) (*URange, error) {
	if len(p.Range) != 2 {
		return nil, errors.New("want [min,max]")
	}
	lo, err1 := parseUint(p.Range[0])
	hi, err2 := parseUint(p.Range[1])
	if err1 != nil || err2 != nil || (bits == 32 && (lo > math.MaxUint32 || hi > math.MaxUint32)) {
		return nil, fmt.Errorf("bounds must be unsigned %d-bit integers", bits)
	}
	return &URange{Min: lo, Max: hi}, nil
}

func srange(p *pFact, bits int) (*SRange, error) {
	if len(p.Range) != 2 {
		return nil, errors.New("want [min,max]")
	}
	lo, err1 := parseInt(p.Range[0])
	hi, err2 := parseInt(p.Range[1])
	if err1 != nil || err2 != nil || (bits == 32 && (lo < math.MinInt32 || hi > math.MaxInt32 || lo > math.MaxInt32 || hi < math.MinInt32)) {
		return nil, fmt.Errorf("bounds must be signed %d-bit integers", bits)
	}
	return &SRange{Min: lo, Max: hi}, nil
}

// maxID bounds the numbers of values and blocks in IR text: analyses keep
// per-ID tables (use lists, the dominator tree), so v2000000000 would ask
// for gigabytes. The lifter numbers densely; a million-instruction program
// stays far below.
const maxID = 1<<22 - 1

// number reads the digits after a one-letter prefix (v12, b3).
func number(name string) (int, error) {
	if len(name) < 2 {
		return 0, errors.New("short name")
	}
	n, err := strconv.ParseInt(name[1:], 10, 32)
	if err == nil && n > maxID {
		return 0, fmt.Errorf("number %d above %d", n, maxID)
	}
	return int(n), err
}

func mustNumber(name string) int {
	n, err := number(name)
	if err != nil {
		panic("BUG: lexer accepted value name " + name)
	}
	return n
}

// parseInt reads a decimal or 0x-hex integer with an optional sign. Unlike
// strconv's base 0 it does not treat a leading 0 as octal.
func parseInt(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	u := strings.TrimLeft(s, "+-")
	if len(s)-len(u) > 1 {
		return 0, errors.New("two signs")
	}
	var n uint64
	var err error
	if strings.HasPrefix(u, "0x") || strings.HasPrefix(u, "0X") {
		n, err = strconv.ParseUint(u[2:], 16, 64)
	} else {
		n, err = strconv.ParseUint(u, 10, 64)
	}
	if err != nil {
		return 0, err
	}
	if neg {
		if n > 1<<63 {
			return 0, errors.New("out of range")
		}
		return -int64(n), nil
	}
	if n > math.MaxInt64 {
		return 0, errors.New("out of range")
	}
	return int64(n), nil
}

func parseUint(s string) (uint64, error) {
	u := strings.TrimPrefix(s, "+")
	if strings.HasPrefix(u, "-") || len(s)-len(u) > 1 {
		return 0, errors.New("negative")
	}
	if strings.HasPrefix(u, "0x") || strings.HasPrefix(u, "0X") {
		return strconv.ParseUint(u[2:], 16, 64)
	}
	return strconv.ParseUint(u, 10, 64)
}
