package emulator

import (
	"math/bits"
	"strings"
	"testing"
)

// FuzzState feeds arbitrary JSON to the map state reader and applies it
// to a map of each kind: errors, never panics.
func FuzzState(f *testing.F) {
	f.Add(`{"maps": {"h": [{"key": "01000000", "value": "0102"}]}}`, uint32(MapArray), uint32(4), uint32(2), uint32(4))
	f.Add(`{"maps": {"a": [{"key": "0x05000000", "value": "ffff"}], "l": [{"key": "2000000a000001", "value": "0000"}]}}`, uint32(MapArray), uint32(4), uint32(2), uint32(4))
	f.Add(`{"maps": {"o": [{"key": "00000000", "inner": [{"key": "01000000", "value": "0102"}]}, {"key": "01000000", "inner": []}]}}`, uint32(MapArray), uint32(4), uint32(2), uint32(4))
	f.Add(`{"maps": {"o": [{"key": "00000000", "value": "01"}], "h": [{"key": "00000000", "inner": []}]}}`, uint32(MapArray), uint32(4), uint32(2), uint32(4))
	// A fuzzed map beside the fixed ones ("z"): huge and overflowing sizes
	// (the findings: 0xffffffff values × 0xffffffff entries; 16 MiB × 2^25;
	// one past 4 GiB) must give an error naming the map, never a panic or
	// an allocation of the declared size.
	for _, c := range [][4]uint32{
		{uint32(MapArray), 4, 2, 4},
		{uint32(MapPerCPUArray), 4, 0xffffffff, 0xffffffff},
		{uint32(MapArray), 4, 1 << 24, 1 << 25},
		{uint32(MapPerCPUArray), 4, 1 << 16, 1<<16 + 1},
		{uint32(MapArray), 4, 1 << 16, 1 << 16},
		{uint32(MapHash), 0xffffffff, 0xffffffff, 0xffffffff},
		{uint32(MapHash), 1 << 20, 8, 1 << 12},
		{uint32(MapLRUHash), 4, 8, 1 << 29},
		{uint32(MapDevMap), 4, 8, 1 << 30},
		{uint32(MapLPMTrie), 260, 1 << 20, 1 << 12},
	} {
		f.Add(`{"maps": {"z": [{"key": "01000000", "value": "0102"}]}}`, c[0], c[1], c[2], c[3])
	}
	f.Fuzz(func(t *testing.T, text string, typ, keySize, valueSize, entries uint32) {
		z := MapSpec{Name: "z", Type: MapType(typ % 32), KeySize: keySize, ValueSize: valueSize, MaxEntries: entries}
		zm, err := NewMap(z)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "map z: ") {
				t.Fatalf("%+v: the error does not name the map: %v", z, err)
			}
		} else if z.Type != MapRingBuf { // a ring buffer's size is max_entries bytes, allocated per record
			if hi, lo := bits.Mul64(uint64(entries), uint64(valueSize)); hi != 0 || lo > MaxMapBytes {
				t.Fatalf("%+v: a map of %d × %d value bytes was created (limit %d)", z, entries, valueSize, uint64(MaxMapBytes))
			}
		}
		st, err := ParseState([]byte(text))
		if err != nil {
			return
		}
		var maps []Map
		if zm != nil {
			maps = append(maps, zm)
		}
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
