package emulator

import (
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func u32(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }
func u64(v uint64) []byte { b := make([]byte, 8); binary.LittleEndian.PutUint64(b, v); return b }

func mustMap(t *testing.T, spec MapSpec) Map {
	t.Helper()
	m, err := NewMap(spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The errors below are those of kernel/bpf/hashtab.c and arraymap.c.
func TestHashUpdateFlags(t *testing.T) {
	m := mustMap(t, MapSpec{Name: "h", Type: MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	steps := []struct {
		key   uint32
		flags uint64
		want  error
	}{
		{1, UpdateExist, ENOENT},   // replace-only of a missing key
		{1, UpdateNoExist, nil},    // create
		{1, UpdateNoExist, EEXIST}, // create-only of a present key
		{1, UpdateExist, nil},      // replace
		{1, UpdateAny, nil},
		{2, UpdateAny, nil},
		{3, UpdateAny, E2BIG}, // full
		{2, UpdateAny, nil},   // replacing in a full map is fine
		{1, 3, EINVAL},        // NOEXIST|EXIST
		{1, 8, EINVAL},        // unknown flag
	}
	for i, s := range steps {
		err := m.Update(u32(s.key), u64(uint64(i)), s.flags)
		if !errors.Is(err, s.want) && !(err == nil && s.want == nil) {
			t.Errorf("step %d: update key %d flags %d: %v, want %v", i, s.key, s.flags, err, s.want)
		}
	}
	if v := m.Lookup(u32(2)); v == nil || binary.LittleEndian.Uint64(v) != 7 {
		t.Errorf("key 2 = %x", v)
	}
	if err := m.Delete(u32(9)); err != ENOENT {
		t.Errorf("delete missing: %v", err)
	}
	if err := m.Delete(u32(1)); err != nil || m.Lookup(u32(1)) != nil {
		t.Errorf("delete: %v", err)
	}
	// Lookup returns the storage: writes through it stick.
	v := m.Lookup(u32(2))
	v[0] = 0xee
	if m.Lookup(u32(2))[0] != 0xee {
		t.Error("value is not the map's storage")
	}
}

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	m := mustMap(t, MapSpec{Name: "lru", Type: MapLRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 3})
	for k := uint32(1); k <= 3; k++ {
		if err := m.Update(u32(k), u64(uint64(k)), UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	m.Lookup(u32(1)) // 2 is now the least recently used
	if err := m.Update(u32(4), u64(4), UpdateAny); err != nil {
		t.Fatalf("LRU update when full: %v", err)
	}
	if m.Lookup(u32(2)) != nil {
		t.Error("key 2 should have been evicted")
	}
	for _, k := range []uint32{1, 3, 4} {
		if m.Lookup(u32(k)) == nil {
			t.Errorf("key %d missing", k)
		}
	}
	if n := len(m.Entries()); n != 3 {
		t.Errorf("%d entries, want 3", n)
	}
}

func TestArraySemantics(t *testing.T) {
	m := mustMap(t, MapSpec{Name: "a", Type: MapArray, KeySize: 4, ValueSize: 4, MaxEntries: 2})
	if v := m.Lookup(u32(1)); v == nil || binary.LittleEndian.Uint32(v) != 0 {
		t.Errorf("array entries exist and are zero: %x", v)
	}
	if m.Lookup(u32(2)) != nil {
		t.Error("lookup past max_entries must fail")
	}
	if err := m.Update(u32(0), u32(5), UpdateNoExist); err != EEXIST {
		t.Errorf("NOEXIST on array: %v", err)
	}
	if err := m.Update(u32(2), u32(5), UpdateAny); err != E2BIG {
		t.Errorf("index past end: %v", err)
	}
	if err := m.Update(u32(1), u32(5), UpdateExist); err != nil {
		t.Errorf("EXIST on array: %v", err)
	}
	if err := m.Delete(u32(1)); err != EINVAL {
		t.Errorf("delete from array: %v", err)
	}
	if e := m.Entries(); len(e) != 1 || binary.LittleEndian.Uint32(e[0].Key) != 1 {
		t.Errorf("entries (non-zero only): %+v", e)
	}
	// A DEVMAP entry exists only once set, and can be deleted.
	d := mustMap(t, MapSpec{Name: "d", Type: MapDevMap, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	if d.Lookup(u32(1)) != nil {
		t.Error("devmap entry before update")
	}
	if err := d.Update(u32(1), u32(3), UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(u32(1)); err != nil || d.Lookup(u32(1)) != nil {
		t.Errorf("devmap delete: %v", err)
	}
}

func TestLPMTrie(t *testing.T) {
	m := mustMap(t, MapSpec{Name: "routes", Type: MapLPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 8})
	key := func(plen uint32, a, b, c, d byte) []byte { return append(u32(plen), a, b, c, d) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(m.Update(key(8, 10, 0, 0, 0), u32(1), UpdateAny))
	must(m.Update(key(24, 10, 1, 2, 99), u32(2), UpdateAny)) // host bits are ignored
	must(m.Update(key(0, 0, 0, 0, 0), u32(3), UpdateAny))
	cases := []struct {
		addr [4]byte
		want uint32
	}{{[4]byte{10, 1, 2, 3}, 2}, {[4]byte{10, 9, 9, 9}, 1}, {[4]byte{192, 168, 0, 1}, 3}}
	for _, c := range cases {
		v := m.Lookup(key(32, c.addr[0], c.addr[1], c.addr[2], c.addr[3]))
		if v == nil || binary.LittleEndian.Uint32(v) != c.want {
			t.Errorf("lookup %v = %x, want %d", c.addr, v, c.want)
		}
	}
	if err := m.Update(key(33, 0, 0, 0, 0), u32(1), UpdateAny); err != EINVAL {
		t.Errorf("prefix longer than the key: %v", err)
	}
	must(m.Delete(key(24, 10, 1, 2, 0)))
	if v := m.Lookup(key(32, 10, 1, 2, 3)); binary.LittleEndian.Uint32(v) != 1 {
		t.Errorf("after delete: %x", v)
	}
}

func TestNewMapErrors(t *testing.T) {
	for _, spec := range []MapSpec{
		{Name: "a", Type: MapArray, KeySize: 8, ValueSize: 4, MaxEntries: 1},
		{Name: "z", Type: MapHash, KeySize: 4, ValueSize: 4, MaxEntries: 0},
		{Name: "q", Type: MapType(23), KeySize: 0, ValueSize: 4, MaxEntries: 1},
	} {
		if _, err := NewMap(spec); err == nil {
			t.Errorf("%+v: no error", spec)
		}
	}
}

// TestMapSizeLimit: maps declaring more than MaxMapBytes are refused with
// an error naming the map and its size, computed without overflow (the
// findings run_map_makeslice_len_out_of_range.o, image_map_size_panic.nfp
// and run_map_slot_uint32_overflow.o panicked instead).
func TestMapSizeLimit(t *testing.T) {
	for _, c := range []struct {
		spec MapSpec
		want string
	}{
		{MapSpec{Name: "rxcnt", Type: MapPerCPUArray, KeySize: 4, ValueSize: 0xffffffff, MaxEntries: 0xffffffff}, "needs 18446744065119617025 bytes"},
		{MapSpec{Name: "count", Type: MapArray, KeySize: 4, ValueSize: 1 << 24, MaxEntries: 1 << 25}, "needs 562949953421312 bytes"},
		{MapSpec{Name: "rxcnt", Type: MapPerCPUArray, KeySize: 4, ValueSize: 1 << 16, MaxEntries: 1<<16 + 1}, "needs 4295032832 bytes"},
		{MapSpec{Name: "big", Type: MapHash, KeySize: 0xffffffff, ValueSize: 0xffffffff, MaxEntries: 0xffffffff}, "more than 2^64 bytes"},
		{MapSpec{Name: "keys", Type: MapHash, KeySize: 1 << 20, ValueSize: 8, MaxEntries: 1 << 12}, "needs 4295000064 bytes"},
		{MapSpec{Name: "devs", Type: MapDevMap, KeySize: 4, ValueSize: 8, MaxEntries: 1 << 30}, "needs 8589934592 bytes"},
	} {
		_, err := NewMap(c.spec)
		if err == nil || !strings.Contains(err.Error(), "map "+c.spec.Name+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming the map and %q", c.spec, err, c.want)
		}
	}
}

// TestLargeArrayLazy: an array of exactly MaxMapBytes works, allocating
// only the values used; indices whose byte offset passes 4 GiB are
// addressed in 64 bits.
func TestLargeArrayLazy(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m := mustMap(t, MapSpec{Name: "a", Type: MapPerCPUArray, KeySize: 4, ValueSize: 1 << 16, MaxEntries: 1 << 16})
	last := m.Lookup(u32(1<<16 - 1))
	if len(last) != 1<<16 || !isZero(last) {
		t.Fatalf("last value: %d bytes", len(last))
	}
	last[1<<16-1] = 7 // through the lookup's pointer: the map's storage
	if err := m.Update(u32(3), make([]byte, 1<<16), UpdateExist); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(u32(1<<16), make([]byte, 1<<16), UpdateAny); err != E2BIG {
		t.Errorf("update past the end: %v, want E2BIG", err)
	}
	if m.Lookup(u32(1<<16)) != nil || m.Delete(u32(3)) != EINVAL {
		t.Error("lookup past the end, or delete from an array")
	}
	es := m.Entries()
	if len(es) != 1 || binary.LittleEndian.Uint32(es[0].Key) != 1<<16-1 || es[0].Value[1<<16-1] != 7 {
		t.Errorf("entries %d, want only the value written", len(es))
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("a 4 GiB array with two values used allocated %d bytes", n)
	}

	// A sparse array (devmap) of 2^29 entries: a value exists once set.
	d := mustMap(t, MapSpec{Name: "d", Type: MapDevMap, KeySize: 4, ValueSize: 8, MaxEntries: 1 << 29})
	if d.Lookup(u32(5)) != nil || d.Delete(u32(5)) != ENOENT || d.Update(u32(5), u64(9), UpdateExist) != ENOENT {
		t.Error("unset devmap entry")
	}
	if err := d.Update(u32(1<<29-1), u64(9), UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(u32(1<<29-1), u64(9), UpdateNoExist); err != EEXIST {
		t.Errorf("second NOEXIST update: %v", err)
	}
	if es := d.Entries(); len(es) != 1 || binary.LittleEndian.Uint64(es[0].Value) != 9 {
		t.Errorf("devmap entries %v", es)
	}
	if err := d.Delete(u32(1<<29 - 1)); err != nil || d.Lookup(u32(1<<29-1)) != nil || len(d.Entries()) != 0 {
		t.Errorf("delete: %v", err)
	}
}
