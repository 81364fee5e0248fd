package image

import (
	"errors"
	"fmt"
	"strings"
)

// Validate checks everything a loader relies on and returns every problem
// found, one line each, or nil. Write refuses an image that fails it and
// Read runs it on what it decoded.
func (img *Image) Validate() error {
	v := &validator{img: img}
	v.program()
	v.code()
	v.relocs()
	v.maps()
	v.lines()
	return errors.Join(v.errs...)
}

type validator struct {
	img  *Image
	errs []error
}

func (v *validator) errorf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

func (v *validator) program() {
	p := &v.img.Program
	checkName(v, "program name", p.Name, true)
	if p.Type != ProgXDP && p.Type != ProgTC {
		v.errorf("program: type %d is neither XDP (%d) nor tc (%d)", uint32(p.Type), uint32(ProgXDP), uint32(ProgTC))
	}
	if int(p.Entry) >= len(v.img.Code) && len(v.img.Code) > 0 {
		v.errorf("program: entry .%d is outside the code (%d words)", p.Entry, len(v.img.Code))
	}
	if p.StackSize > MaxStack {
		v.errorf("program: stack size %d exceeds %d bytes", p.StackSize, MaxStack)
	}
	if p.MCPU != MCPUCoreNIC && p.MCPU != MCPUEmulator {
		v.errorf("program: unknown target (mcpu) %d", uint32(p.MCPU))
	}
	if p.Caps&^capsKnown != 0 {
		v.errorf("program: unknown capability bits %#x", uint64(p.Caps&^capsKnown))
	}
	if len(v.img.Maps) > 0 && p.Caps&CapMaps == 0 {
		v.errorf("program: %d maps but capability \"maps\" not requested", len(v.img.Maps))
	}
}

// checkName rejects names that would break the string table or a listing.
func checkName(v *validator, what, s string, required bool) {
	if s == "" {
		if required {
			v.errorf("%s is empty", what)
		}
		return
	}
	if strings.IndexByte(s, 0) >= 0 {
		v.errorf("%s %q contains a NUL byte", what, s)
	}
}

func (v *validator) code() {
	code := v.img.Code
	if len(code) == 0 {
		v.errorf("code: no instructions")
	}
	if len(code) > MaxCode {
		v.errorf("code: %d words, more than the %d a branch can reach", len(code), MaxCode)
	}
	bad := 0
	for i, w := range code {
		var msg string
		switch {
		case w&highMask != 0:
			msg = fmt.Sprintf("bits 63:52 set (%#016x)", w&highMask)
		case w&eccMask>>eccShift != ECC(w&insnMask):
			msg = fmt.Sprintf("ECC %#02x, want %#02x", w&eccMask>>eccShift, ECC(w&insnMask))
		default:
			continue
		}
		if bad++; bad > 10 {
			continue // enough to see the pattern; the count follows
		}
		v.errorf("code word .%d (%#016x): %s", i, w, msg)
	}
	if bad > 10 {
		v.errorf("code: %d bad words in all", bad)
	}
}

func (v *validator) relocs() {
	code := v.img.Code
	prev := -1
	for _, r := range v.img.Relocs {
		at := fmt.Sprintf("relocation at .%d (%v)", r.Index, r.Kind)
		if int(r.Index) <= prev {
			v.errorf("%s: not after the previous one at .%d (relocations are sorted, one per word)", at, prev)
		}
		prev = int(r.Index)
		info, ok := relocInfo[r.Kind]
		if !ok {
			v.errorf("%s: unknown kind %d", at, uint8(r.Kind))
			continue
		}
		if int(r.Index) >= len(code) {
			v.errorf("%s: points outside the code (%d words)", at, len(code))
			continue
		}
		w := code[r.Index]
		switch {
		case info.branch && !isBranch(w):
			v.errorf("%s: word %#016x is not a branch", at, w)
			continue
		case !info.branch && !isPlainImmed(w):
			v.errorf("%s: word %#016x is not a plain 16-bit immed", at, w)
			continue
		}
		switch {
		case info.valueIsTgt:
			if int(r.Value) >= len(code) {
				v.errorf("%s: target .%d is outside the code (%d words)", at, r.Value, len(code))
			}
		case r.Kind == RelocBrHelper:
			if HelperName(r.Value) == "" {
				v.errorf("%s: the firmware has no helper %d", at, r.Value)
			} else if v.img.Program.Caps&CapFunc == 0 {
				v.errorf("%s: helper call without capability \"func\"", at)
			}
		case r.Value != 0:
			v.errorf("%s: value %d must be 0 for this kind", at, r.Value)
		}
		if r.Kind == RelocBrRel && int(branchTarget(w)) >= len(code) {
			v.errorf("%s: branch target .%d is outside the code (%d words)", at, branchTarget(w), len(code))
		}
		if r.Kind == RelocImmedRel && int(immedValue(w)) > len(code) {
			v.errorf("%s: immediate %d is not an address in the code (%d words)", at, immedValue(w), len(code))
		}
	}
}

func (v *validator) maps() {
	seen := map[string]int{}
	for i, m := range v.img.Maps {
		at := fmt.Sprintf("map %d (%q)", i, m.Name)
		checkName(v, at+": name", m.Name, true)
		if j, dup := seen[m.Name]; dup && m.Name != "" {
			v.errorf("%s: same name as map %d", at, j)
		}
		seen[m.Name] = i
		if m.Type == 0 {
			v.errorf("%s: map type 0 (BPF_MAP_TYPE_UNSPEC)", at)
		}
		if m.KeySize == 0 || m.ValueSize == 0 || m.MaxEntries == 0 {
			v.errorf("%s: key size %d, value size %d, max entries %d: none may be 0", at, m.KeySize, m.ValueSize, m.MaxEntries)
			continue
		}
		if len(m.Contents) > 0 {
			n := uint64(len(m.Contents))
			if n%uint64(m.ValueSize) != 0 || n/uint64(m.ValueSize) > uint64(m.MaxEntries) {
				v.errorf("%s: %d bytes of initial contents is not a whole number of at most %d values of %d bytes", at, n, m.MaxEntries, m.ValueSize)
			}
		}
	}
}

func (v *validator) lines() {
	prev := -1
	for i, l := range v.img.Lines {
		at := fmt.Sprintf("line entry %d (.%d)", i, l.Addr)
		if int(l.Addr) <= prev {
			v.errorf("%s: address not after the previous entry's .%d", at, prev)
		}
		prev = int(l.Addr)
		if int(l.Addr) >= len(v.img.Code) {
			v.errorf("%s: address outside the code (%d words)", at, len(v.img.Code))
		}
		checkName(v, at+": file", l.File, false)
	}
}
