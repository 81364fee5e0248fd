package ebpf

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/testsuite"
)

// TestCorpusXDPAndTC loads every XDP and tc program of the ebpf-samples
// corpus and runs it on a few frames. Every program must either run or be
// refused with a load error (an unsupported helper or map type, named);
// a run may end in a clean run-time error, never a panic.
func TestCorpusXDPAndTC(t *testing.T) {
	root := testsuite.Corpus(t, "ebpf-samples")
	var objs []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".o") && !strings.Contains(p, "/invalid/") {
			objs = append(objs, p)
		}
		return nil
	})
	sort.Strings(objs)
	ran, refused, runErrs := 0, map[string]int{}, 0
	for _, path := range objs {
		obj, err := loader.Load(path)
		if err != nil {
			continue // the loader's own corpus test covers these
		}
		for i, p := range obj.Programs {
			if HookOf(p.Type) == emulator.HookNone {
				continue
			}
			rel, _ := filepath.Rel(root, path)
			m, err := FromObject(obj, i, Options{MaxInstructions: 100_000})
			if err != nil {
				msg := err.Error()
				switch {
				case strings.Contains(msg, "unknown helper"):
					refused["unknown helper "+msg[strings.Index(msg, "unknown helper")+15:]]++
				case strings.Contains(msg, "not supported by the emulator"):
					refused["map type"]++
				case strings.Contains(msg, "is read before it is written"):
					refused["uninitialized register (the kernel refuses these too)"]++
				default:
					t.Errorf("%s %s: %v", rel, p.Name, err)
				}
				continue
			}
			for _, f := range benchFrames {
				if _, err := m.Run(i, Input{Packet: f}); err != nil {
					runErrs++
					t.Logf("%s %s: %v", rel, p.Name, err)
				}
			}
			ran++
		}
	}
	t.Logf("ran %d XDP/tc programs (%d runs ended in an error); refused: %v", ran, runErrs, refused)
	if ran == 0 {
		t.Error("no program ran")
	}
}
