package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// Inputs and outputs of every command: inputs are read with a cap (an
// endless /dev/zero is an error, not an out-of-memory kill); outputs are
// written whole or not at all (a temporary file beside the target, renamed
// over it), "-" is standard output, and an output that names one of the
// command's inputs is refused before anything is read.

// maxTextInput bounds the text and JSON inputs (assembly, map states,
// raw words): far above any real one.
const maxTextInput = 64 << 20

// maxImageInput bounds NFP images and firmware files: an image holds at
// most 16 Ki words of code plus its tables, a firmware file a few MiB.
const maxImageInput = 64 << 20

// readInput reads a (non-object) input file with the cap.
func readInput(path string) ([]byte, error) {
	return loader.ReadCapped(path, maxTextInput)
}

// checkOutput refuses an output path that is one of the inputs (the
// compiler would overwrite the object it reads).
func checkOutput(out string, inputs ...string) error {
	if out == "" || out == "-" {
		return nil
	}
	ost, oerr := os.Stat(out)
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		same := filepath.Clean(in) == filepath.Clean(out)
		if ist, err := os.Stat(in); err == nil && oerr == nil {
			same = same || os.SameFile(ist, ost)
		}
		if same {
			return fmt.Errorf("output %s is also an input: choose another -o", out)
		}
	}
	return nil
}

// writeOutput writes data to path atomically, or to stdout for "-".
func writeOutput(path string, data []byte, stdout io.Writer) error {
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic creates path through a temporary file in its directory:
// either write succeeds and the file is renamed over path, or path is left
// as it was (no truncated image).
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() {
		// A device or FIFO (/dev/null, a pipe): no rename over it.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// defaultOutput is the output name a command derives from its input, as
// clang derives prog.o from prog.c: the extension replaced by ext.
func defaultOutput(in, ext string) string {
	return strings.TrimSuffix(in, filepath.Ext(in)) + ext
}
