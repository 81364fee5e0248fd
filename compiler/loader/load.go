package loader

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
)

// Error is a failure to load an object. The message names the object, the
// section when one is to blame, the stage and the cause:
//
//	loader: xdp1_kern.o: section "xdp1": link: call to undefined function "f"
type Error struct {
	Object  string // file name, without directories
	Section string // ELF section, "" when the whole file is at fault
	Stage   string // "read", "elf", "parse", "maps", "link"
	Err     error
}

func (e *Error) Error() string {
	if e.Section != "" {
		return fmt.Sprintf("loader: %s: section %q: %s: %v", e.Object, e.Section, e.Stage, e.Err)
	}
	return fmt.Sprintf("loader: %s: %s: %v", e.Object, e.Stage, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads the eBPF ELF object at path. See LoadBytes.
func Load(path string) (*Object, error) {
	b, err := ReadCapped(path, MaxObjectSize)
	if err != nil {
		return nil, &Error{Object: filepath.Base(path), Stage: "read", Err: err}
	}
	obj, err := LoadBytes(filepath.Base(path), b)
	if err != nil {
		return nil, err
	}
	obj.Path = path
	return obj, nil
}

// LoadBytes reads an eBPF ELF object held in memory; name identifies it in
// errors and becomes Object.Path.
//
// The pipeline: inspect and repair the raw ELF (elfpatch.go), parse it with
// cilium/ebpf (ELF, BTF, maps, data sections, relocations, linking of
// subprograms, with symbolic references), then resolve every symbolic
// reference to the kernel form documented on Program.Insns (link.go).
func LoadBytes(name string, b []byte) (*Object, error) {
	fail := func(stage, section string, err error) (*Object, error) {
		return nil, &Error{Object: name, Section: section, Stage: stage, Err: truncated(err, len(b))}
	}
	if err := sniff(b); err != nil {
		return fail("elf", "", err)
	}
	info, err := inspect(b)
	if err != nil {
		return fail("elf", "", err)
	}
	spec, err := parseSpec(info.image)
	if err != nil && strings.Contains(err.Error(), "in 'values' field") {
		// A map-in-map whose inner type is a typedef (btfpatch.go).
		if img, perr := untypedefPointers(info.image); perr == nil {
			if s, err2 := parseSpec(img); err2 == nil {
				spec, err, info.image = s, nil, img
			}
		}
	}
	if err != nil {
		err = stableError(err, info.image)
		return fail("parse", sectionOf(err), err)
	}
	specs := make([]*ebpf.ProgramSpec, 0, len(spec.Programs))
	for _, p := range spec.Programs {
		specs = append(specs, p)
	}
	if len(info.textFuncs) > 0 && info.textName >= 0 {
		img := info.textAsPrograms()
		textSpec, err := parseSpec(img)
		if err != nil {
			return fail("parse", ".text", stableError(err, img))
		}
		for _, p := range textSpec.Programs {
			if p.SectionName == renamedText {
				p.SectionName = ".text"
				p.Type = ebpf.UnspecifiedProgram
				specs = append(specs, p)
			}
		}
	}

	maps, index, err := convertMaps(spec, info)
	if err != nil {
		var me *mapError
		if errors.As(err, &me) {
			if off, ok := info.mapOff[me.name]; ok && info.mapSec[me.name] == me.section {
				return fail("maps", me.section, fmt.Errorf("offset %#x: %w", off, me.err))
			}
			return fail("maps", me.section, me.err)
		}
		return fail("maps", "", err)
	}
	// ELF section order, then symbol order: deterministic, and the first
	// error reported is always the same one.
	sort.Slice(specs, func(i, j int) bool {
		a, b := specs[i], specs[j]
		sa, sb := info.secIndex[a.SectionName], info.secIndex[b.SectionName]
		if sa != sb {
			return sa < sb
		}
		va, vb := info.symValue[a.Name], info.symValue[b.Name]
		if va != vb {
			return va < vb
		}
		return a.Name < b.Name
	})
	obj := &Object{Path: name, Maps: maps}
	for _, ps := range specs {
		prog, err := link(ps, index)
		var le *linkError
		if errors.As(err, &le) {
			// Name the section and byte offset of the instruction: in a
			// subprogram, that is the subprogram's section (.text).
			sec := ps.SectionName
			if s, ok := info.symSec[le.Func]; ok {
				sec = s
			}
			off := info.symValue[le.Func] + uint64(le.Off)
			return fail("link", sec, fmt.Errorf("program %s: offset %#x (%s+%#x): %w", ps.Name, off, le.Func, le.Off, le.Err))
		}
		if err != nil {
			return fail("link", ps.SectionName, fmt.Errorf("program %s: %w", ps.Name, err))
		}
		obj.Programs = append(obj.Programs, prog)
	}
	return obj, nil
}

// parseSpec runs cilium/ebpf's ELF reader. It recovers from panics of the
// reader (and of debug/elf underneath it) because the loader's contract is
// an error, never a crash, on any input.
func parseSpec(image []byte) (spec *ebpf.CollectionSpec, err error) {
	defer func() {
		if r := recover(); r != nil {
			spec, err = nil, fmt.Errorf("malformed object (ELF reader panicked: %v)", r)
		}
	}()
	return ebpf.LoadCollectionSpecFromReader(bytes.NewReader(image))
}

// stableRetries bounds the re-parses of stableError.
const stableRetries = 32

// stableError makes a parse error deterministic. cilium/ebpf walks some
// tables (BTF map definitions, for one) in Go map order, so an object with
// two bad maps names either, at random. When the message names a map, the
// object is parsed again and the smallest message seen is kept: with two
// bad maps, the chance of not seeing both in 32 parses is 2^-32. Parse
// errors are rare and parsing takes microseconds.
func stableError(err error, image []byte) error {
	if !strings.Contains(err.Error(), "map ") {
		return err
	}
	best := err
	for i := 0; i < stableRetries; i++ {
		if _, e := parseSpec(image); e != nil && e.Error() < best.Error() {
			best = e
		}
	}
	return best
}

// sectionRe finds the section cilium/ebpf names in its error messages.
var sectionRe = regexp.MustCompile(`section "?([^\s":]+)"?:`)

// sectionOf extracts the section an error of cilium/ebpf is about, so that
// it appears in Error.Section; "" when the message names none.
func sectionOf(err error) string {
	msg := err.Error()
	m := sectionRe.FindStringSubmatch(msg)
	switch {
	case m != nil:
		return m[1]
	case strings.Contains(msg, "load symbols"):
		return ".symtab" // the symbol table, or the string table it links
	case strings.Contains(msg, "BTF.ext") || strings.Contains(msg, "btf ext"):
		return ".BTF.ext"
	case strings.Contains(msg, "BTF") || strings.Contains(msg, "btf"):
		return ".BTF"
	}
	return ""
}
