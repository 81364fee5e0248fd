package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfpcc/nfpcc/testsuite"
)

func TestVerifyCommand(t *testing.T) {
	dir := testsuite.Corpus(t, "ebpf-samples")
	xdp1 := filepath.Join(dir, "linux/xdp1_kern.o")

	code, out, _ := nfpcc("verify", xdp1)
	require.Equal(t, 0, code)
	require.Contains(t, out, "xdp_prog1: accepted (61 insns")

	// The NFP profile: xdp1 uses a per-CPU array, which CoreNIC cannot hold.
	code, out, _ = nfpcc("verify", "--target=nfp", xdp1)
	require.Equal(t, 1, code)
	require.Contains(t, out, "[nfp] map rxcnt: type PerCPUArray not supported")

	// A rejection reads like the kernel's log, with the source line.
	code, out, _ = nfpcc("verify", filepath.Join(dir, "build/packet_overflow.o"))
	require.Equal(t, 1, code)
	require.Contains(t, out, "rejected: 4: (r1 = *(u32 *)(r2 +0)) invalid access to packet, off=0 size=4")
	require.Contains(t, out, "; int value = *(int*)data;")

	// --log prints the state before every instruction.
	code, out, _ = nfpcc("verify", "--log", "--prog", "xdp_prog1", xdp1)
	require.Equal(t, 0, code)
	require.Contains(t, out, "0: R1=ctx R10=fp0")
	require.Contains(t, out, "0: (61) r2 = *(u32 *)(r1 +4)")
	require.Greater(t, strings.Count(out, "\n"), 200)

	// --json gives the verdicts to tools.
	code, out, _ = nfpcc("verify", "--json", filepath.Join(dir, "build/packet_overflow.o"))
	require.Equal(t, 1, code)
	var verdicts []verdict
	require.NoError(t, json.Unmarshal([]byte(out), &verdicts))
	require.Len(t, verdicts, 1)
	require.False(t, verdicts[0].Accepted)
	require.Equal(t, 4, verdicts[0].Error.PC)
	require.Equal(t, "int value = *(int*)data;", verdicts[0].Error.Source)

	// Several objects in one run: every object's verdicts, in the order
	// given (the programs verify side by side); --json names the object.
	overflow := filepath.Join(dir, "build/packet_overflow.o")
	code, out, _ = nfpcc("verify", xdp1, overflow)
	require.Equal(t, 1, code) // one of them is rejected
	i, j := strings.Index(out, xdp1+": xdp_prog1: accepted"), strings.Index(out, overflow+": ")
	require.True(t, i >= 0 && j > i, out)
	code, out, _ = nfpcc("verify", "--json", overflow, xdp1)
	require.Equal(t, 1, code)
	verdicts = nil
	require.NoError(t, json.Unmarshal([]byte(out), &verdicts))
	require.Len(t, verdicts, 2)
	require.Equal(t, overflow, verdicts[0].Object)
	require.False(t, verdicts[0].Accepted)
	require.Equal(t, xdp1, verdicts[1].Object)
	require.True(t, verdicts[1].Accepted)

	// Sections without a type in their name take --type.
	code, out, _ = nfpcc("verify", "--type=tc", "--prog", "_redirect_xmit", filepath.Join(dir, "linux/tcbpf1_kern.o"))
	require.Equal(t, 0, code, out)

	// Usage and input errors exit 2.
	code, _, errOut := nfpcc("verify")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "usage: nfpcc verify")
	code, _, errOut = nfpcc("verify", "--target=arm", xdp1)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "unknown target")
	code, _, errOut = nfpcc("verify", "--prog", "nope", xdp1)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `no program "nope" (the object has: xdp_prog1)`)
	code, _, _ = nfpcc("verify", filepath.Join(dir, "does-not-exist.o"))
	require.Equal(t, 2, code)
}

// The global functions of `.text` are subprograms of the programs that call
// them: verifying them as programs on their own would reject sound objects.
func TestVerifySkipsTextSubprograms(t *testing.T) {
	code, out, errOut := nfpcc("verify", progPath("xdp_calls.o"))
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "xdp_calls: accepted")
	require.NotContains(t, out, "parse_l3")
	code, out, _ = nfpcc("verify", "--prog", "parse_l3", progPath("xdp_calls.o"))
	require.Equal(t, 1, code, "a subprogram verified alone as an entry gets no typed context")
	require.Contains(t, out, "parse_l3: rejected")
}
