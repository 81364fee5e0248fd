package ir

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// irLexDef is the lexer of the IR text format, written by hand because
// participle's regexp lexer was most of Parse's time. It produces exactly
// the tokens of these rules, tried in order at each position:
//
//	EOL     \n
//	Space   [ \t\r]+                          (dropped)
//	Comment #[^\n]*                           (dropped)
//	Value   v[0-9]+ not followed by [A-Za-z0-9_]
//	Block   b[0-9]+ not followed by [A-Za-z0-9_]
//	Int     [-+]?(0[xX][0-9a-fA-F]+|[0-9]+)
//	Ident   [A-Za-z_][A-Za-z0-9_.]*
//	Punct   one of { } ( ) [ ] : , = ! @
type irLexDef struct{}

const (
	tokEOL lexer.TokenType = lexer.EOF - 1 - iota
	tokSpace
	tokComment
	tokValue
	tokBlock
	tokInt
	tokIdent
	tokPunct
)

var irSymbols = map[string]lexer.TokenType{
	"EOF": lexer.EOF, "EOL": tokEOL, "Space": tokSpace, "Comment": tokComment, "Value": tokValue,
	"Block": tokBlock, "Int": tokInt, "Ident": tokIdent, "Punct": tokPunct,
}

func (irLexDef) Symbols() map[string]lexer.TokenType { return irSymbols }

func (d irLexDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

func (irLexDef) LexString(filename, src string) (lexer.Lexer, error) {
	return &irLexer{src: src, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}, nil
}

type irLexer struct {
	src string
	pos lexer.Position
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }
func isWordStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isWord(c byte) bool { return isWordStart(c) || isDigit(c) }

// advance moves the position over n bytes of src.
func (l *irLexer) advance(n int) string {
	s := l.src[l.pos.Offset : l.pos.Offset+n]
	for i := 0; i < n; i++ {
		if s[i] == '\n' {
			l.pos.Line++
			l.pos.Column = 1
		} else {
			l.pos.Column++
		}
	}
	l.pos.Offset += n
	return s
}

func (l *irLexer) Next() (lexer.Token, error) {
	for {
		rest := l.src[l.pos.Offset:]
		if rest == "" {
			return lexer.EOFToken(l.pos), nil
		}
		start := l.pos
		c := rest[0]
		n, typ := 0, lexer.TokenType(0)
		switch {
		case c == '\n':
			n, typ = 1, tokEOL
		case c == ' ' || c == '\t' || c == '\r':
			for n < len(rest) && (rest[n] == ' ' || rest[n] == '\t' || rest[n] == '\r') {
				n++
			}
			l.advance(n)
			continue
		case c == '#':
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				n = i
			} else {
				n = len(rest)
			}
			l.advance(n)
			continue
		case (c == 'v' || c == 'b') && len(rest) > 1 && isDigit(rest[1]) && numberedName(rest) > 0:
			n, typ = numberedName(rest), tokValue
			if c == 'b' {
				typ = tokBlock
			}
		case isDigit(c) || ((c == '-' || c == '+') && len(rest) > 1 && isDigit(rest[1])):
			n, typ = intLen(rest), tokInt
		case isWordStart(c):
			n = 1
			for n < len(rest) && (isWord(rest[n]) || rest[n] == '.') {
				n++
			}
			typ = tokIdent
		case strings.IndexByte("{}()[]:,=!@", c) >= 0:
			n, typ = 1, tokPunct
		default:
			end := min(len(rest), 10)
			return lexer.Token{}, &lexer.Error{Msg: fmt.Sprintf("invalid input text %q", rest[:end]), Pos: start}
		}
		return lexer.Token{Type: typ, Value: l.advance(n), Pos: start}, nil
	}
}

// numberedName is the length of v123 / b123 at the start of s if no word
// character follows the digits, else 0.
func numberedName(s string) int {
	n := 1
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n < len(s) && isWord(s[n]) {
		return 0
	}
	return n
}

// intLen is the length of the integer at the start of s (a sign, then hex
// with 0x or decimal digits).
func intLen(s string) int {
	n := 0
	if s[0] == '-' || s[0] == '+' {
		n = 1
	}
	if len(s) > n+2 && s[n] == '0' && (s[n+1] == 'x' || s[n+1] == 'X') && isHex(s[n+2]) {
		n += 2
		for n < len(s) && isHex(s[n]) {
			n++
		}
		return n
	}
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}
