package asm

import (
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The grammar reads one source line. GNU objdump's NFP syntax is regular:
// every instruction is `mnemonic[arg, arg, …]` followed by `, modifier` or
// `, modifier[arg, …]` items, and every argument is one token (a register,
// a number, a shift such as `<<8` or `>>rot8`, a byte mask, a `.N`
// address). What an argument means depends on the mnemonic and its
// position, which the encoders decide; the grammar only splits the text.
//
// A line may begin with the columns of the two dump formats nfpcc reads:
//
//	objdump:    `   8:	000540f0012cd000 	  .1  immed[gprA_0, 0x1234]`
//	Linux JIT:  `   8:	  .1  immed[gprA_0, 0x1234]`
//
// and with labels (`name:`). Comments start with `;`, `//` or `#` (objdump
// appends `# ERROR` to words it cannot decode).
//
// The lexer and parser are built on first use (lineParser), not at package
// initialisation: every nfpcc command imports this package, and building
// them costs about a millisecond of start-up.
var nfpLexer = sync.OnceValue(func() *lexer.StatefulDefinition {
	return lexer.MustSimple([]lexer.SimpleRule{
		{Name: "Comment", Pattern: `(;|//|#)[^\n]*`},
		{Name: "Invalid", Pattern: `<invalid_instruction>:[ \t]*0x[0-9a-fA-F]+`},
		{Name: "Addr", Pattern: `[0-9a-fA-F]+:\t`},
		{Name: "Word", Pattern: `[0-9a-f]{16}\b`},
		{Name: "PC", Pattern: `\.[0-9]+`},
		{Name: "LM", Pattern: `\*l\$index[0-9](\[[0-9]+\]|\+\+|--)?`},
		{Name: "Punct", Pattern: `[\[\],:]`},
		{Name: "Atom", Pattern: `[^\s\[\],:;#/]+(/[^\s\[\],:;#/]+)*`},
		{Name: "Whitespace", Pattern: `[ \t\r]+`},
	})
})

// srcLine is one parsed line.
type srcLine struct {
	Addr   *string  `parser:"( @Addr"`
	Word   *string  `parser:"  @Word? )?"`
	PC     *string  `parser:"@PC?"`
	Labels []*label `parser:"@@*"`
	Instr  *instr   `parser:"@@?"`
}

type label struct {
	Pos  lexer.Position
	Name string `parser:"@Atom \":\""`
}

// instr is `mnemonic[args], mod, mod[args]`, an undecodable word as
// objdump prints it, or `.word 0x…`: a raw 64-bit word (with its ECC).
type instr struct {
	Pos     lexer.Position
	Invalid string `parser:"(  @Invalid"`
	Raw     string `parser:" | \".word\" @Atom"`
	Mnem    string `parser:" | @Atom"`
	Bracket bool   `parser:"   ( @\"[\""`
	Args    []*arg `parser:"     ( @@ ( \",\" @@ )* )? \"]\" )?"`
	Mods    []*mod `parser:"   ( \",\" @@ )* )"`
}

type arg struct {
	Pos  lexer.Position
	Text string `parser:"@(Atom | PC | LM)"`
}

type mod struct {
	Pos     lexer.Position
	Name    string `parser:"@Atom"`
	Bracket bool   `parser:"( @\"[\""`
	Args    []*arg `parser:"  ( @@ ( \",\" @@ )* )? \"]\" )?"`
}

var lineParser = sync.OnceValue(func() *participle.Parser[srcLine] {
	return participle.MustBuild[srcLine](
		participle.Lexer(nfpLexer()),
		participle.Elide("Whitespace", "Comment"),
		participle.UseLookahead(3),
	)
})
