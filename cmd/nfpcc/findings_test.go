package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/testsuite"
)

// TestFindings replays every report of the findings corpus
// (../shared/corpora/findings/README.md: programs that exposed bugs) with
// the commands its reporter used, read in place, and checks the expected
// outcome: miscompiles give the interpreter's packet on the NFP emulator,
// verifier crashes give a verdict and an image, oversized maps give an
// error naming the map and its size. A file of the corpus without a case
// here fails the test, so new findings get one.
func TestFindings(t *testing.T) {
	dir := testsuite.Corpus(t, "findings")
	work := t.TempDir()
	any30 := strings.Repeat("a5", 30)
	// samePacket compiles obj, runs it on the interpreter and the image on
	// the NFP emulator, and wants both to leave want.
	samePacket := func(packet, want string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			img := filepath.Join(work, filepath.Base(path)+".nfp")
			if code, _, stderr := nfpcc(path, "-o", img); code != 0 {
				t.Fatalf("compile: exit %d: %s", code, stderr)
			}
			for _, f := range []string{path, img} {
				code, stdout, stderr := nfpcc("run", f, "--packet", packet)
				if code != 0 {
					t.Fatalf("run %s: exit %d: %s", filepath.Base(f), code, stderr)
				}
				if got := packetNow(stdout); got != want {
					t.Errorf("run %s: packet %s, want %s\n%s", filepath.Base(f), got, want, stdout)
				}
			}
		}
	}
	verifies := func(t *testing.T, path string) {
		code, stdout, stderr := nfpcc("verify", path)
		if code != 0 || !strings.Contains(stdout, ": accepted (") {
			t.Fatalf("verify: exit %d: %s%s", code, stdout, stderr)
		}
		img := filepath.Join(work, filepath.Base(path)+".nfp")
		if code, _, stderr := nfpcc(path, "-o", img); code != 0 {
			t.Fatalf("compile: exit %d: %s", code, stderr)
		}
		if _, err := os.Stat(img); err != nil {
			t.Fatal(err)
		}
	}
	mapError := func(want ...string) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			code, stdout, stderr := nfpcc("run", path, "--packet", any30)
			if code == 0 || stdout != "" {
				t.Fatalf("run: exit %d, want an error\n%s", code, stdout)
			}
			for _, w := range want {
				if !strings.Contains(stderr, w) {
					t.Errorf("run: error %q does not say %q", stderr, w)
				}
			}
		}
	}
	cases := map[string]func(t *testing.T, path string){
		"miscompile_lsh64_lddw.o":              samePacket("00000000000000000000000000000000", "efcdab89674523810000000000000000"),
		"miscompile_arsh64_reg.o":              samePacket("0100000000000000ffffffff00000000", "0000000000000000ffffffff00000000"),
		"verifier_divzero_panic.o":             verifies,
		"verifier_empty_range_bug.o":           verifies,
		"run_map_makeslice_len_out_of_range.o": mapError("map rxcnt: ", "18446744065119617025 bytes"),
		"image_map_size_panic.nfp":             mapError("map count: ", "562949953421312 bytes"),
		"run_map_slot_uint32_overflow.o":       mapError("map rxcnt: ", "4295032832 bytes"),
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := f.Name()
		if name == "README.md" || name == "MANIFEST.sha256" {
			continue
		}
		check, ok := cases[name]
		if !ok {
			t.Errorf("%s: no case in TestFindings", name)
			continue
		}
		t.Run(strings.TrimSuffix(strings.TrimSuffix(name, ".o"), ".nfp"), func(t *testing.T) {
			check(t, filepath.Join(dir, name))
		})
	}
}

var rePacketNow = regexp.MustCompile(`packet now \d+ bytes: ([0-9a-f]+)`)

// packetNow is the packet `nfpcc run` printed for its one packet.
func packetNow(stdout string) string {
	m := rePacketNow.FindAllStringSubmatch(stdout, -1)
	if len(m) != 1 {
		return ""
	}
	return m[0][1]
}
