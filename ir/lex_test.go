package ir

import (
	"path/filepath"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"golang.org/x/tools/txtar"
)

// refLexer is the token definition as participle regexps: the hand-written
// lexer must produce the same tokens.
var refLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "EOL", Pattern: `\n`},
	{Name: "Space", Pattern: `[ \t\r]+`},
	{Name: "Comment", Pattern: `#[^\n]*`},
	{Name: "Value", Pattern: `v[0-9]+\b`},
	{Name: "Block", Pattern: `b[0-9]+\b`},
	{Name: "Int", Pattern: `[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_.]*`},
	{Name: "Punct", Pattern: `[{}()\[\]:,=!@]`},
})

type tok struct {
	typ, val  string
	line, col int
	err       bool
}

func tokens(t *testing.T, def lexer.Definition, src string) []tok {
	names := lexer.SymbolsByRune(def)
	lx, err := def.(lexer.StringDefinition).LexString("", src)
	if err != nil {
		t.Fatal(err)
	}
	var out []tok
	for {
		tk, err := lx.Next()
		if err != nil {
			return append(out, tok{err: true})
		}
		if tk.EOF() {
			return out
		}
		if n := names[tk.Type]; n != "Space" && n != "Comment" {
			out = append(out, tok{names[tk.Type], tk.Value, tk.Pos.Line, tk.Pos.Column, false})
		}
	}
}

func FuzzLexer(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, file := range files {
		ar, _ := txtar.ParseFile(file)
		for _, s := range ar.Files {
			f.Add(string(s.Data))
		}
	}
	f.Add("v1x b2_ 0x 0xg +-1 -x v1.2 b12:\r\n# c\n@!")
	f.Fuzz(func(t *testing.T, src string) {
		want := tokens(t, refLexer, src)
		got := tokens(t, irLexDef{}, src)
		if len(got) != len(want) {
			t.Fatalf("%d tokens, reference lexer %d:\n%v\n%v", len(got), len(want), got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("token %d: %+v, reference lexer %+v", i, got[i], want[i])
			}
		}
	})
}
