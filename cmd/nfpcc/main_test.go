package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// nfpcc drives Main like a user at a shell and returns exit status, stdout
// and stderr.
func nfpcc(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageListsEveryCommand(t *testing.T) {
	code, out, _ := nfpcc("help")
	require.Equal(t, 0, code)
	for name := range commands {
		require.Contains(t, out, "  "+name+" ", "help must list %s", name)
	}
	code, _, errOut := nfpcc()
	require.Equal(t, 2, code)
	require.True(t, strings.HasPrefix(errOut, "usage:"))
}
