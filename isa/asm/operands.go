package asm

import (
	"strconv"
	"strings"
	"sync"

	"github.com/nfpcc/nfpcc/isa"
)

// Operand text is turned back into field bits by inverting isa's own
// printer: every raw field value is printed once per (mode, bank,
// LM-extension, imm8-MSB) and the smallest raw value that prints as a text
// is the one the assembler emits. The smallest value is the canonical
// encoding (unused bits zero), and because the tables come from the
// disassembler, what the assembler accepts is exactly what it prints.

type key10 struct {
	mode isa.Mode
	bank isa.Bank
	lm   bool
}

type key8 struct {
	mode   isa.Mode
	bank   isa.Bank
	lm, i8 bool
}

var (
	opOnce sync.Once
	rev10  map[key10]map[string]isa.Opnd10
	rev8   map[key8]map[string]isa.Opnd8
)

func buildOperandTables() {
	rev10 = map[key10]map[string]isa.Opnd10{}
	rev8 = map[key8]map[string]isa.Opnd8{}
	for _, m := range []isa.Mode{isa.Ctx4, isa.Ctx8} {
		for _, b := range []isa.Bank{isa.BankA, isa.BankB} {
			for _, lm := range []bool{false, true} {
				t := map[string]isa.Opnd10{}
				for f := 1023; f >= 0; f-- {
					o := isa.Opnd10(f).Operand(b, lm, m)
					// *n$index is written with bit 0 set, as in the
					// restricted encoding where bit 0 tells it from *$index.
					if o.Kind == isa.KNNIndexed && f&1 == 0 {
						continue
					}
					// Likewise *$index carries bit 6, as in its restricted form.
					if o.Kind == isa.KXferIndexed && f&0x40 == 0 {
						continue
					}
					if o.Kind != isa.KInvalid {
						t[o.String()] = isa.Opnd10(f)
					}
				}
				rev10[key10{m, b, lm}] = t
				for _, i8 := range []bool{false, true} {
					t := map[string]isa.Opnd8{}
					for f := 255; f >= 0; f-- {
						o := isa.Opnd8(f).Operand(b, lm, i8, m)
						if o.Kind != isa.KInvalid {
							t[o.String()] = isa.Opnd8(f)
						}
					}
					rev8[key8{m, b, lm, i8}] = t
				}
			}
		}
	}
}

// canonNumber rewrites a decimal or differently-cased number in the form
// the printer uses (0x…), so that `immed[gprA_0, 18]` is accepted too.
func canonOperand(s string) string {
	if v, ok := parseNum(s); ok && (strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") || isDigits(s)) {
		return "0x" + strconv.FormatUint(uint64(v), 16)
	}
	return s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseNum reads a decimal or 0x-prefixed number that fits 32 bits.
func parseNum(s string) (uint32, bool) {
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// lookup10 finds the field for an operand text read from bank b.
func lookup10(m isa.Mode, b isa.Bank, lm bool, text string) (isa.Opnd10, bool) {
	opOnce.Do(buildOperandTables)
	f, ok := rev10[key10{m, b, lm}][canonOperand(text)]
	return f, ok
}

// lookup8 is lookup10 for restricted fields.
func lookup8(m isa.Mode, b isa.Bank, lm, i8 bool, text string) (isa.Opnd8, bool) {
	opOnce.Do(buildOperandTables)
	f, ok := rev8[key8{m, b, lm, i8}][canonOperand(text)]
	return f, ok
}
