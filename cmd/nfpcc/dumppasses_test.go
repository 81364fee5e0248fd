package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite"
)

// TestDumpPasses writes quic-lb's page and checks its structure: a column
// with a CFG drawing per pass that runs at -O2 (after the lifted IR), lines
// marked where a pass changed them, the remarks.
func TestDumpPasses(t *testing.T) {
	obj := filepath.Join(testsuite.Corpus(t, "nfp-jit"), "programs", "xdp-quic-lb.bpf.o")
	out := filepath.Join(t.TempDir(), "passes.html")
	code, _, errOut := nfpcc(obj, "--xdp", "--dump-passes=act_main", "-o", out)
	require.Equal(t, 0, code, errOut)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	page := string(b)
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>"))
	require.True(t, strings.HasSuffix(page, "</html>\n"))
	cols := []string{"lift"}
	cfg := passes.Config{}
	for _, p := range passes.Pipeline {
		if cfg.Enabled(p) {
			cols = append(cols, p.Name)
		}
	}
	require.Equal(t, len(cols), strings.Count(page, `<td class="pass"`))
	require.Equal(t, len(cols), strings.Count(page, "<svg "))
	require.Equal(t, strings.Count(page, "<svg "), strings.Count(page, "</svg>"))
	for _, c := range cols {
		require.True(t, strings.Contains(page, `<td class="pass" id="`+c+`">`), "no column for %s", c)
	}
	require.True(t, strings.Contains(page, `<span class="changed">`), "no changed line marked")
	require.True(t, strings.Contains(page, `<ul class="remarks">`), "no remarks")
	code, _, errOut = nfpcc(obj, "--xdp", "--dump-passes=nosuch")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "no program has a function nosuch")
}
