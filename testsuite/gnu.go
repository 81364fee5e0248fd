package testsuite

import (
	"os"
	"path/filepath"
	"testing"
)

// GNUObjdump returns GNU objdump built for nfp-elf by scripts/gnu-objdump.sh
// ($NFPCC_GNU_OBJDUMP, else the script's cache in ~/.cache/nfpcc), the
// reference the disassembler and the image format are checked against. It
// skips the test with a message where that objdump is missing.
func GNUObjdump(t testing.TB) string {
	t.Helper()
	p := os.Getenv("NFPCC_GNU_OBJDUMP")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "nfpcc", "gnu-objdump", "bin", "objdump")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("GNU objdump for nfp-elf not found at %s (build it with scripts/gnu-objdump.sh or set NFPCC_GNU_OBJDUMP)", p)
	}
	return p
}
