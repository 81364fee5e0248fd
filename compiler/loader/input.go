package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// MaxObjectSize bounds what Load reads: the largest objects of the shared
// corpora are a few MiB, and a path such as /dev/zero or a FIFO that never
// ends must give an error, not exhaust memory.
const MaxObjectSize = 64 << 20

// ReadCapped reads the file at path, refusing directories and anything
// longer than limit bytes (reading at most limit+1 of them, so that
// endless inputs stop). Pipes and devices are read like files.
func ReadCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %d MiB: not an input this tool reads (an endless input such as /dev/zero?)", path, limit>>20)
	}
	return b, nil
}

// eMachineNFP is the ELF machine number of the NFP (images, firmware).
const eMachineNFP = 250

// sniff recognises inputs that are not eBPF objects before the ELF
// reader sees them, to say what they are and what to do: C source (compile
// it with clang first), an NFP image (run or disassemble it), an ELF file
// cut short.
func sniff(b []byte) error {
	if !bytes.HasPrefix(b, []byte("\x7fELF")) {
		if len(b) == 0 {
			return errors.New("empty file: not an eBPF object")
		}
		if bytes.HasPrefix([]byte("\x7fELF"), b) {
			return fmt.Errorf("truncated ELF: %d bytes, the ELF header alone has 64", len(b))
		}
		if looksLikeC(b) {
			return errors.New("this is C source, not an eBPF object: compile it with clang first (clang -O2 -g --target=bpf -c PROG.c -o PROG.o)")
		}
		return fmt.Errorf("not an ELF file (it starts with %q): an eBPF object is an ELF file made by clang --target=bpf", b[:min(len(b), 8)])
	}
	if len(b) < 64 {
		return fmt.Errorf("truncated ELF: %d bytes, the ELF header alone has 64", len(b))
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if b[5] == 2 {
		order = binary.BigEndian
	}
	if order.Uint16(b[18:]) == eMachineNFP {
		return errors.New("an NFP image (ELF for the NFP), not an eBPF object: run it with `nfpcc run`, disassemble it with `nfpcc objdump`")
	}
	return nil
}

// looksLikeC says whether b is text with the marks of C source.
func looksLikeC(b []byte) bool {
	head := b[:min(len(b), 4096)]
	if !utf8.Valid(head[:len(head)-min(len(head), 3)]) || bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	for _, mark := range []string{"#include", "#define", "SEC(", "int ", "struct ", "return", ";"} {
		if bytes.Contains(head, []byte(mark)) {
			return true
		}
	}
	return false
}

// truncated rewrites the io.EOF that debug/elf and cilium/ebpf return for
// a file cut short: "EOF" alone does not tell the user what is wrong.
func truncated(err error, size int) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated ELF: the file (%d bytes) ends inside a header, section or table its ELF header points to", size)
	}
	return err
}
