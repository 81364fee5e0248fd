// Package conformance runs the bpf_conformance and uBPF test corpora
// (`.data` files) against an eBPF engine: the host interpreter today, the
// NFP emulator later, through the Engine interface.
//
// A test file is a sequence of sections introduced by `-- name` lines:
// `asm` (uBPF assembler text), `raw` (encoded instructions), `mem` (hex
// bytes given to the program), `result` (expected r0), `error` (expected
// failure). The program runs with r1 pointing to mem (0 if none), r2 its
// length and r10 the top of a 512-byte stack, and calls the uBPF test
// helpers (Helpers). The semantics are RFC 9669's.
package conformance

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// TestFile is one parsed `.data` file.
type TestFile struct {
	Path string
	// Asm is the assembler text and AsmLine the file line it starts on.
	Asm     string
	AsmLine int
	HasAsm  bool
	// Raw is the `-- raw` section as bytes, if present.
	Raw    []byte
	HasRaw bool
	Mem    []byte
	// Result is the expected r0, if the file has a `-- result` section.
	Result    uint64
	HasResult bool
	// Error is the expected error text (may be empty), if the file has an
	// `-- error` or `-- error pattern` section.
	Error    string
	HasError bool
	// Sections lists every section name, in order.
	Sections []string
}

// maxDataFile bounds a test file: the largest of the corpora is a few KiB,
// and an endless input (/dev/zero) must be an error, not an OOM.
const maxDataFile = 16 << 20

// ParseFile reads and parses a test file.
func ParseFile(path string) (*TestFile, error) {
	data, err := loader.ReadCapped(path, maxDataFile)
	if err != nil {
		return nil, err
	}
	return Parse(path, string(data))
}

// Parse parses the text of a test file; path names it in errors and
// locates `@ file` attachments.
func Parse(path, text string) (*TestFile, error) {
	tf := &TestFile{Path: path}
	type section struct {
		name, attach string
		line         int
		body         []string
	}
	var secs []*section
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	ln := 0
	for sc.Scan() {
		ln++
		line := sc.Text()
		if strings.HasPrefix(line, "-- ") || line == "--" {
			name := strings.TrimSpace(strings.TrimPrefix(line, "--"))
			s := &section{name: name, line: ln + 1}
			if i := strings.Index(name, "@"); i >= 0 {
				s.name, s.attach = strings.TrimSpace(name[:i]), strings.TrimSpace(name[i+1:])
			}
			secs = append(secs, s)
			tf.Sections = append(tf.Sections, s.name)
			continue
		}
		if len(secs) > 0 {
			secs[len(secs)-1].body = append(secs[len(secs)-1].body, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for _, s := range secs {
		body := strings.Join(s.body, "\n")
		if s.attach != "" {
			b, err := readAttachment(filepath.Join(filepath.Dir(path), s.attach))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: section %s: %v", path, s.line-1, s.name, err)
			}
			body = string(b)
		}
		where := fmt.Sprintf("%s:%d", path, s.line)
		switch s.name {
		case "asm":
			tf.Asm, tf.AsmLine, tf.HasAsm = body, s.line, true
			if s.attach != "" {
				tf.AsmLine = 1
			}
		case "raw":
			raw, err := parseRaw(body)
			if err != nil {
				return nil, fmt.Errorf("%s: raw: %v", where, err)
			}
			tf.Raw, tf.HasRaw = raw, true
		case "mem":
			mem, err := parseHexBytes(body)
			if err != nil {
				return nil, fmt.Errorf("%s: mem: %v", where, err)
			}
			tf.Mem = mem
		case "result":
			v := strings.TrimSpace(stripComments(body))
			n, err := parseUint(v)
			if err != nil {
				return nil, fmt.Errorf("%s: result %q: %v", where, v, err)
			}
			tf.Result, tf.HasResult = n, true
		case "error", "error pattern":
			tf.Error, tf.HasError = strings.TrimSpace(body), true
		}
	}
	return tf, nil
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func parseUint(s string) (uint64, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return strconv.ParseUint(s[2:], 16, 64)
	}
	if strings.HasPrefix(s, "-") {
		v, err := strconv.ParseInt(s, 10, 64)
		return uint64(v), err
	}
	return strconv.ParseUint(s, 10, 64)
}

// parseHexBytes reads bytes written as hex separated by white space: pairs
// ("aa bb") or, as tcpdump -xx prints them, groups after an offset label
// ("0x0010:  0040 a8de").
func parseHexBytes(s string) ([]byte, error) {
	var out []byte
	for i, f := range strings.Fields(stripComments(s)) {
		if strings.HasSuffix(f, ":") {
			continue
		}
		b, err := hex.DecodeString(f)
		if err != nil {
			return nil, fmt.Errorf("item %d %q: not hex bytes", i+1, f)
		}
		out = append(out, b...)
	}
	return out, nil
}

// parseRaw reads encoded instructions: either one 64-bit word per line
// (0x…, the instruction as a little-endian integer) or hex bytes.
func parseRaw(s string) ([]byte, error) {
	var out []byte
	for i, line := range strings.Split(stripComments(s), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "0x") {
			v, err := strconv.ParseUint(line[2:], 16, 64)
			if err != nil {
				return nil, fmt.Errorf("line %d %q: %v", i+1, line, err)
			}
			out = binary.LittleEndian.AppendUint64(out, v)
			continue
		}
		b, err := parseHexBytes(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", i+1, err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// readAttachment reads the file a `-- name @ file` section points to: a
// regular file of at most 16 MiB.
func readAttachment(p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > 16<<20 {
		return nil, fmt.Errorf("%s: not a regular file of at most 16 MiB", p)
	}
	return os.ReadFile(p)
}

// DataFiles lists the .data files under dir (recursively), sorted.
func DataFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".data") {
			files = append(files, p)
		}
		return err
	})
	sort.Strings(files)
	return files, err
}
