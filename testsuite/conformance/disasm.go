package conformance

import (
	"encoding/binary"
	"fmt"
	"strings"
)

var aluNames = map[uint8]string{}
var jmpNames = map[uint8]string{}
var sizeNames = map[uint8]string{sizeB: "b", sizeH: "h", sizeW: "w", sizeDW: "dw"}
var atomicNames = map[uint32]string{}

func init() {
	for n, c := range aluCodes {
		if n != "sdiv" && n != "smod" {
			aluNames[c] = n
		}
	}
	for n, c := range jmpCodes {
		jmpNames[c] = n
	}
	for n, c := range atomicCodes {
		atomicNames[c] = n
	}
}

// Disassemble prints encoded instructions in the uBPF assembler syntax
// that Assemble reads, one instruction a line; jumps and local calls get
// relative targets (+N/-N). Assemble(Disassemble(code)) == code.
func Disassemble(code []byte) (string, error) {
	if len(code)%8 != 0 {
		return "", fmt.Errorf("%d bytes is not a whole number of instructions", len(code))
	}
	var b strings.Builder
	for i := 0; i < len(code); i += 8 {
		w := word{op: code[i], dst: code[i+1] & 0xf, src: code[i+1] >> 4,
			off: int16(binary.LittleEndian.Uint16(code[i+2:])), imm: int32(binary.LittleEndian.Uint32(code[i+4:]))}
		line, wide, err := disasmOne(w, code[i+8:])
		if err != nil {
			return "", fmt.Errorf("slot %d: %v", i/8, err)
		}
		b.WriteString(line)
		b.WriteByte('\n')
		if wide {
			i += 8
		}
	}
	return b.String(), nil
}

func rel(n int64) string {
	if n < 0 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("+%d", n)
}

func mem(r uint8, off int16) string { return fmt.Sprintf("[%%r%d%s]", r, rel(int64(off))) }

func disasmOne(w word, next []byte) (string, bool, error) {
	cls := w.op & 7
	bad := fmt.Errorf("cannot print opcode %#02x", w.op)
	switch cls {
	case clsALU, clsALU64:
		suffix := ""
		if cls == clsALU {
			suffix = "32"
		}
		code := w.op & 0xf0
		if code == 0xd0 { // END
			switch {
			case cls == clsALU64 && w.op&srcX == 0:
				return fmt.Sprintf("bswap%d %%r%d", w.imm, w.dst), false, nil
			case cls == clsALU && w.op&srcX != 0:
				return fmt.Sprintf("be%d %%r%d", w.imm, w.dst), false, nil
			case cls == clsALU:
				return fmt.Sprintf("le%d %%r%d", w.imm, w.dst), false, nil
			}
			return "", false, bad
		}
		name, ok := aluNames[code]
		if !ok {
			return "", false, bad
		}
		switch {
		case name == "neg":
			return fmt.Sprintf("neg%s %%r%d", suffix, w.dst), false, nil
		case (name == "div" || name == "mod") && w.off == 1:
			name = "s" + name
		case name == "mov" && w.off != 0:
			width := "64"
			if cls == clsALU {
				width = "32"
			}
			return fmt.Sprintf("movsx%d%s %%r%d, %%r%d", w.off, width, w.dst, w.src), false, nil
		}
		if w.op&srcX != 0 {
			return fmt.Sprintf("%s%s %%r%d, %%r%d", name, suffix, w.dst, w.src), false, nil
		}
		return fmt.Sprintf("%s%s %%r%d, %d", name, suffix, w.dst, w.imm), false, nil
	case clsJMP, clsJMP32:
		code := w.op & 0xf0
		switch {
		case code == 0x00 && cls == clsJMP:
			return "ja " + rel(int64(w.off)), false, nil
		case code == 0x00:
			return "ja32 " + rel(int64(w.imm)), false, nil
		case code == 0x80 && cls == clsJMP:
			switch {
			case w.op&srcX != 0:
				return fmt.Sprintf("call %%r%d", w.dst), false, nil
			case w.src == 1:
				return "call local " + rel(int64(w.imm)), false, nil
			case w.src == 2:
				return fmt.Sprintf("call runtime %d", w.imm), false, nil
			}
			return fmt.Sprintf("call %d", w.imm), false, nil
		case code == 0x90 && cls == clsJMP:
			return "exit", false, nil
		}
		name, ok := jmpNames[code]
		if !ok {
			return "", false, bad
		}
		if cls == clsJMP32 {
			name += "32"
		}
		if w.op&srcX != 0 {
			return fmt.Sprintf("%s %%r%d, %%r%d, %s", name, w.dst, w.src, rel(int64(w.off))), false, nil
		}
		return fmt.Sprintf("%s %%r%d, %d, %s", name, w.dst, w.imm, rel(int64(w.off))), false, nil
	case clsLD:
		size, mode := w.op&0x18, w.op&0xe0
		switch {
		case mode == modeIMM && size == sizeDW:
			if len(next) < 8 {
				return "", false, fmt.Errorf("lddw without its second slot")
			}
			hi := binary.LittleEndian.Uint32(next[4:])
			if w.src == 1 && hi == 0 {
				return fmt.Sprintf("lddw %%r%d, map %d", w.dst, w.imm), true, nil
			}
			return fmt.Sprintf("lddw %%r%d, %#x", w.dst, uint64(hi)<<32|uint64(uint32(w.imm))), true, nil
		case mode == modeABS && size != sizeDW:
			return fmt.Sprintf("ldabs%s %d", sizeNames[size], w.imm), false, nil
		case mode == modeIND && size != sizeDW:
			return fmt.Sprintf("ldind%s %%r%d, %d", sizeNames[size], w.src, w.imm), false, nil
		}
	case clsLDX:
		size, mode := w.op&0x18, w.op&0xe0
		switch mode {
		case modeMEM:
			return fmt.Sprintf("ldx%s %%r%d, %s", sizeNames[size], w.dst, mem(w.src, w.off)), false, nil
		case modeMEMSX:
			if size != sizeDW {
				return fmt.Sprintf("ldxs%s %%r%d, %s", sizeNames[size], w.dst, mem(w.src, w.off)), false, nil
			}
		}
	case clsST:
		if w.op&0xe0 == modeMEM {
			return fmt.Sprintf("st%s %s, %d", sizeNames[w.op&0x18], mem(w.dst, w.off), w.imm), false, nil
		}
	case clsSTX:
		size := w.op & 0x18
		switch w.op & 0xe0 {
		case modeMEM:
			return fmt.Sprintf("stx%s %s, %%r%d", sizeNames[size], mem(w.dst, w.off), w.src), false, nil
		case modeATOMIC:
			name, ok := atomicNames[uint32(w.imm)&^1]
			if uint32(w.imm) == 0xe1 || uint32(w.imm) == 0xf1 {
				name, ok = atomicNames[uint32(w.imm)]
			}
			if !ok || (size != sizeW && size != sizeDW) {
				return "", false, bad
			}
			fetch := ""
			if w.imm&1 != 0 && name != "xchg" && name != "cmpxchg" {
				fetch = "fetch "
			}
			if size == sizeW {
				name += "32"
			}
			return fmt.Sprintf("lock %s%s %s, %%r%d", fetch, name, mem(w.dst, w.off), w.src), false, nil
		}
	}
	return "", false, bad
}
