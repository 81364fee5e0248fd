package fuzz

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/passes"
	"github.com/nfpcc/nfpcc/testsuite/gen"
)

// TestFindingArchiveReplaysItsLevel: a finding's archive names the level
// and register limit it was found at, and ReplayOptions reads them back,
// so that a finding at -O1 with 4 registers is not replayed at -O2 with
// all of them (where it may not show).
func TestFindingArchiveReplaysItsLevel(t *testing.T) {
	c := Generated(7, gen.DefaultConfig(), 2)
	f := &Finding{Seed: 7, Level: "-O1", Compile: compiler.Options{Passes: passes.Config{Level: passes.O1}, Regs: 4}, Case: c}
	data, err := FindingArchive(f, "a finding\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCase("finding", data); err != nil {
		t.Fatal(err)
	}
	sec := map[string]string{}
	for _, fl := range txtar.Parse(data).Files {
		sec[fl.Name] = string(fl.Data)
	}
	opts, err := ReplayOptions(sec["level"], sec["regs"])
	if err != nil {
		t.Fatal(err)
	}
	if len(opts) != 1 || opts[0].Passes.Level != passes.O1 || opts[0].Regs != 4 {
		t.Errorf("replayed under %+v, want -O1 with 4 registers (sections level %q regs %q)", opts, sec["level"], sec["regs"])
	}
}

func TestReplayOptions(t *testing.T) {
	for _, tc := range []struct {
		level, regs string
		want        string // level/regs of each option
		err         string
	}{
		{"", "", "-O2/0", ""},
		{"-O0 -O2\n", "4\n", "-O0/4 -O2/4", ""},
		{"O1", "0, 2", "-O1/0 -O1/2", ""},
		{"-O3", "", "", "unknown optimisation level"},
		{"", "four", "", "not a register count"},
		{"", "-1", "", "not a register count"},
	} {
		opts, err := ReplayOptions(tc.level, tc.regs)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ReplayOptions(%q, %q): error %v, want one containing %q", tc.level, tc.regs, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ReplayOptions(%q, %q): %v", tc.level, tc.regs, err)
			continue
		}
		var got []string
		for _, o := range opts {
			got = append(got, o.Passes.Level.String()+"/"+strconv.Itoa(o.Regs))
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("ReplayOptions(%q, %q) = %s, want %s", tc.level, tc.regs, g, tc.want)
		}
	}
}
