package emulator

import "testing"

// FuzzState feeds arbitrary JSON to the map state reader and applies it
// to a map of each kind: errors, never panics.
func FuzzState(f *testing.F) {
	f.Add(`{"maps": {"h": [{"key": "01000000", "value": "0102"}]}}`)
	f.Add(`{"maps": {"a": [{"key": "0x05000000", "value": "ffff"}], "l": [{"key": "2000000a000001", "value": "0000"}]}}`)
	f.Add(`{"maps": {"o": [{"key": "00000000", "inner": [{"key": "01000000", "value": "0102"}]}, {"key": "01000000", "inner": []}]}}`)
	f.Add(`{"maps": {"o": [{"key": "00000000", "value": "01"}], "h": [{"key": "00000000", "inner": []}]}}`)
	f.Fuzz(func(t *testing.T, text string) {
		st, err := ParseState([]byte(text))
		if err != nil {
			return
		}
		var maps []Map
		for _, spec := range []MapSpec{
			{Name: "h", Type: MapLRUHash, KeySize: 4, ValueSize: 2, MaxEntries: 2},
			{Name: "a", Type: MapArray, KeySize: 4, ValueSize: 2, MaxEntries: 4},
			{Name: "l", Type: MapLPMTrie, KeySize: 8, ValueSize: 2, MaxEntries: 4},
			{Name: "d", Type: MapDevMap, KeySize: 4, ValueSize: 2, MaxEntries: 4},
			{Name: "o", Type: MapHashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2,
				Inner: &MapSpec{Type: MapHash, KeySize: 4, ValueSize: 2, MaxEntries: 2}},
		} {
			m, err := NewMap(spec)
			if err != nil {
				t.Fatal(err)
			}
			maps = append(maps, m)
		}
		if st.Apply(maps) == nil {
			if _, err := Snapshot(maps).Marshal(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
