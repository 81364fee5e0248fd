package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEExample runs the README's first set-up command as written, from
// the project root, each `&&` step in turn (only the image it writes goes
// to a temporary directory instead of the source tree), and checks what a
// user would see: the router compiles, and on the NFP emulator the two
// routed frames are sent back out and the rest go to the stack, with the
// cycle model's figures.
func TestREADMEExample(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	const prefix = "go run ./cmd/nfpcc "
	var line string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, prefix) {
			line = l
			break
		}
	}
	require.NotEmpty(t, line, "README has no `go run ./cmd/nfpcc` set-up command")
	t.Chdir(root)
	image := filepath.Join(t.TempDir(), "router.nfp")
	var out string
	for _, step := range strings.Split(line, " && ") {
		step = strings.TrimSpace(step)
		require.True(t, strings.HasPrefix(step, prefix), "step %q", step)
		args := strings.Fields(strings.TrimPrefix(step, prefix))
		for i, a := range args {
			if a == "router.nfp" {
				args[i] = image
			}
		}
		code, stdout, errOut := nfpcc(args...)
		require.Equal(t, 0, code, "%s\n%s", step, errOut)
		out = stdout
	}
	require.Contains(t, out, "8 packets: XDP_PASS 6 (324 bytes) XDP_TX 2 (120 bytes)")
	require.Contains(t, out, "packet 1: XDP_TX")
	require.Contains(t, out, "cycles/packet: mean")
	require.Contains(t, out, "throughput on 50 cores at 800 MHz")
}
