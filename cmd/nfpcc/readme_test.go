package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEExample runs the README's first set-up command exactly as
// written (from the project root) and checks what a user would see: the
// two routed frames are sent back out, the rest go to the stack.
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
	code, out, errOut := nfpcc(strings.Fields(strings.TrimPrefix(line, prefix))...)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "8 packets: XDP_PASS 6 XDP_TX 2")
	require.Contains(t, out, "packet 1: XDP_TX")
}
