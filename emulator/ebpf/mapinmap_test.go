package ebpf

import (
	"path/filepath"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/testsuite"
)

// TestMapInMap runs testdata/progs/legacy_maps.c: XDP_DROP only when slot 0
// of flow_tables holds an inner map whose entry 0 is XDP_DROP (1); the
// inner map is the one the lookup returned, so a program's write to it is
// seen by the next lookup and by the map state.
func TestMapInMap(t *testing.T) {
	obj, err := loader.Load(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "legacy_maps.o"))
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 64)
	for _, c := range []struct {
		name, state, want string
	}{
		{"empty outer map", `{"maps": {}}`, "XDP_PASS"},
		{"empty inner map", `{"maps": {"flow_tables": [{"key": "00000000"}]}}`, "XDP_PASS"},
		{"inner verdict pass", `{"maps": {"flow_tables": [{"key": "00000000", "inner": [{"key": "00000000", "value": "02000000"}]}]}}`, "XDP_PASS"},
		{"inner verdict drop", `{"maps": {"flow_tables": [{"key": "00000000", "inner": [{"key": "00000000", "value": "01000000"}]}]}}`, "XDP_DROP"},
		{"drop in another slot", `{"maps": {"flow_tables": [{"key": "01000000", "inner": [{"key": "00000000", "value": "01000000"}]}]}}`, "XDP_PASS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := FromObject(obj, 0, Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := emulator.ParseState([]byte(c.state))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Apply(m.Env().Maps); err != nil {
				t.Fatal(err)
			}
			for run := 0; run < 2; run++ {
				res, err := m.Run(0, Input{Packet: frame})
				if err != nil {
					t.Fatal(err)
				}
				if res.Action != c.want {
					t.Errorf("run %d: %s, want %s", run, res.Action, c.want)
				}
			}
		})
	}
}
