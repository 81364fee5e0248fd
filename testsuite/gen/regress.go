package gen

import (
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/tools/txtar"
)

// Regression makes the txtar archive of a failing case, as the house
// style keeps test cases (STYLE.md: tests are data): the comment says what
// went wrong, section "program" holds the program's text form (type,
// maps, hints, instructions), section "packet" the frame in hex.
func Regression(p *Program, pkt []byte, note string) *txtar.Archive {
	comment := strings.TrimRight(note, "\n")
	if comment != "" {
		comment += "\n"
	}
	return &txtar.Archive{
		Comment: []byte(comment),
		Files: []txtar.File{
			{Name: "program", Data: []byte(p.String())},
			{Name: "packet", Data: []byte(hex.EncodeToString(pkt) + "\n")},
		},
	}
}

// ParseRegression reads an archive Regression made back into the program
// and the packet.
func ParseRegression(a *txtar.Archive) (*Program, []byte, error) {
	var prog, pkt []byte
	for _, f := range a.Files {
		switch f.Name {
		case "program":
			prog = f.Data
		case "packet":
			pkt = f.Data
		}
	}
	if prog == nil || pkt == nil {
		return nil, nil, fmt.Errorf("a regression case needs sections program and packet")
	}
	p, err := Parse(string(prog))
	if err != nil {
		return nil, nil, fmt.Errorf("program: %v", err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(pkt)))
	if err != nil {
		return nil, nil, fmt.Errorf("packet: %v", err)
	}
	return p, b, nil
}
