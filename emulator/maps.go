package emulator

import (
	"bytes"
	"container/list"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"sort"
)

// MapType is the kernel's enum bpf_map_type; the numbers are the UAPI ones
// so that a loader's map type converts directly.
type MapType uint32

// The map types the emulator implements (include/uapi/linux/bpf.h).
const (
	MapHash           MapType = 1
	MapArray          MapType = 2
	MapProgArray      MapType = 3
	MapPerfEventArray MapType = 4
	MapPerCPUHash     MapType = 5
	MapPerCPUArray    MapType = 6
	MapLRUHash        MapType = 9
	MapLRUPerCPUHash  MapType = 10
	MapDevMap         MapType = 14
	MapCPUMap         MapType = 16
	MapXSKMap         MapType = 17
	MapDevMapHash     MapType = 25
)

// Names of map types the emulator does not model, for its errors.
var unsupportedMapNames = map[MapType]string{
	7: "stack_trace", 8: "cgroup_array", 15: "sockmap",
	18: "sockhash", 19: "cgroup_storage", 20: "reuseport_sockarray", 21: "percpu_cgroup_storage",
	22: "queue", 23: "stack", 24: "sk_storage", 26: "struct_ops", 28: "inode_storage",
	29: "task_storage", 30: "bloom_filter", 31: "user_ringbuf", 32: "cgrp_storage", 33: "arena",
}

var mapTypeNames = map[MapType]string{
	MapHash: "hash", MapArray: "array", MapProgArray: "prog_array", MapPerfEventArray: "perf_event_array",
	MapPerCPUHash: "percpu_hash", MapPerCPUArray: "percpu_array", MapLRUHash: "lru_hash",
	MapLRUPerCPUHash: "lru_percpu_hash", MapLPMTrie: "lpm_trie", MapDevMap: "devmap", MapCPUMap: "cpumap", MapXSKMap: "xskmap",
	MapDevMapHash: "devmap_hash", MapRingBuf: "ringbuf",
}

func (t MapType) String() string {
	if n, ok := mapTypeNames[t]; ok {
		return n
	}
	if n, ok := unsupportedMapNames[t]; ok {
		return n
	}
	return fmt.Sprintf("map_type(%d)", uint32(t))
}

// Update flags of bpf_map_update_elem.
const (
	UpdateAny     = 0 // BPF_ANY: create or replace
	UpdateNoExist = 1 // BPF_NOEXIST: create only
	UpdateExist   = 2 // BPF_EXIST: replace only
	updateLock    = 4 // BPF_F_LOCK: -EINVAL, as for kernel maps whose values hold no bpf_spin_lock
)

// MapSpec describes a map as the program's object declares it.
type MapSpec struct {
	Name       string
	Type       MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	// Inner is the template of the inner maps of an ARRAY_OF_MAPS or
	// HASH_OF_MAPS (the loader's Map.InnerMap); nil for other maps.
	Inner *MapSpec
}

// Map is one BPF map. Values returned by Lookup alias the map's storage:
// a program that writes through the pointer a lookup gave it changes the
// map, as in the kernel. Per-CPU maps have exactly one CPU.
type Map interface {
	Spec() *MapSpec
	// Lookup returns the value stored under key, or nil.
	Lookup(key []byte) []byte
	// Update stores value under key; flags are BPF_ANY/NOEXIST/EXIST.
	// Errors are Errno values, as the kernel returns them.
	Update(key, value []byte, flags uint64) error
	// Delete removes key; ENOENT if absent, EINVAL for arrays.
	Delete(key []byte) error
	// Entries lists every present entry, sorted by key bytes.
	Entries() []Entry
}

// Entry is one key/value pair of a map.
type Entry struct {
	Key, Value []byte
	// Inner is the map an outer map's slot holds (Value is then nil).
	Inner Map
}

// MaxMapBytes bounds the memory one emulated map may declare: max_entries
// × value_size for arrays, max_entries × (key_size + value_size) for maps
// that store keys (computed in 64 bits: both factors may be 2^32 − 1).
// 4 GiB is the NFP's EMEM window per map (emulator/nfp: no offloaded map
// can be larger) and the reach of the interpreter's 32-bit region offsets.
// Only what a program touches is allocated: hash maps hold their entries,
// arrays larger than flatArrayBytes allocate each value on first use.
const MaxMapBytes = 1 << 32

// flatArrayBytes is the largest array kept in one allocation (every value
// zeroed up front, snapshots scan every index); larger arrays are sparse.
const flatArrayBytes = 1 << 24

// mapBytes is the memory spec declares, saturated at 2^64 − 1.
func mapBytes(spec MapSpec) uint64 {
	per := uint64(spec.ValueSize)
	switch spec.Type {
	case MapArray, MapPerCPUArray, MapProgArray, MapDevMap, MapCPUMap, MapXSKMap, MapPerfEventArray, MapArrayOfMaps:
	default:
		per += uint64(spec.KeySize)
	}
	hi, lo := bits.Mul64(uint64(spec.MaxEntries), per)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// NewMap creates an empty map of the spec's type.
func NewMap(spec MapSpec) (Map, error) {
	if spec.MaxEntries == 0 && spec.Type != MapPerfEventArray {
		return nil, fmt.Errorf("map %s: max_entries is 0", spec.Name)
	}
	if spec.Type == MapRingBuf {
		return &ringBuf{spec: spec}, nil
	}
	if spec.ValueSize == 0 {
		return nil, fmt.Errorf("map %s: value size is 0", spec.Name)
	}
	if n := mapBytes(spec); n > MaxMapBytes {
		size := fmt.Sprintf("%d bytes", n)
		if n == math.MaxUint64 {
			size = "more than 2^64 bytes"
		}
		return nil, fmt.Errorf("map %s: %s of %d entries (key %d bytes, value %d bytes) needs %s, more than the emulator's limit of %d bytes (4 GiB) per map",
			spec.Name, spec.Type, spec.MaxEntries, spec.KeySize, spec.ValueSize, size, uint64(MaxMapBytes))
	}
	switch spec.Type {
	case MapArrayOfMaps, MapHashOfMaps:
		m, err := newOuterMap(spec)
		if err != nil {
			return nil, err // not a nil *outerMap inside a non-nil Map
		}
		return m, nil
	case MapHash, MapPerCPUHash, MapDevMapHash:
		if spec.KeySize == 0 {
			return nil, fmt.Errorf("map %s: %s with key size 0", spec.Name, spec.Type)
		}
		return newHashMap(spec, false), nil
	case MapLRUHash, MapLRUPerCPUHash:
		if spec.KeySize == 0 {
			return nil, fmt.Errorf("map %s: %s with key size 0", spec.Name, spec.Type)
		}
		return newHashMap(spec, true), nil
	case MapLPMTrie:
		if spec.KeySize < 5 || spec.KeySize > 4+256 {
			return nil, fmt.Errorf("map %s: lpm_trie key size %d, must be 5..260", spec.Name, spec.KeySize)
		}
		return newLPMMap(spec), nil
	case MapArray, MapPerCPUArray:
		if spec.KeySize != 4 {
			return nil, fmt.Errorf("map %s: %s needs 4-byte keys, has %d", spec.Name, spec.Type, spec.KeySize)
		}
		return newArrayMap(spec, true), nil
	case MapProgArray, MapDevMap, MapCPUMap, MapXSKMap, MapPerfEventArray:
		// Arrays of references: entries exist only once set, and can be deleted.
		if spec.KeySize != 4 {
			return nil, fmt.Errorf("map %s: %s needs 4-byte keys, has %d", spec.Name, spec.Type, spec.KeySize)
		}
		return newArrayMap(spec, false), nil
	}
	return nil, fmt.Errorf("map %s: map type %s is not supported by the emulator", spec.Name, spec.Type)
}

// checkFlags rejects unknown update flags, NOEXIST|EXIST, and BPF_F_LOCK
// (emulated values never hold a bpf_spin_lock), as the kernel's update
// functions do.
func checkFlags(flags uint64) error {
	if flags&^uint64(UpdateNoExist|UpdateExist) != 0 || flags&3 == 3 {
		return EINVAL
	}
	return nil
}

// hashMap is HASH, PERCPU_HASH (one CPU), DEVMAP_HASH and, with lru set,
// LRU_HASH: when full, an update of a new key evicts the least recently
// used entry instead of failing with E2BIG. Recency is exact (every lookup
// and update counts), a deterministic stand-in for the kernel's
// approximate per-CPU LRU lists.
type hashMap struct {
	spec    MapSpec
	lru     bool
	entries map[string]*list.Element // value: *hashEntry
	order   *list.List               // front = most recently used
}

type hashEntry struct {
	key   string
	value []byte
}

func newHashMap(spec MapSpec, lru bool) *hashMap {
	return &hashMap{spec: spec, lru: lru, entries: map[string]*list.Element{}, order: list.New()}
}

func (m *hashMap) Spec() *MapSpec { return &m.spec }

func (m *hashMap) Lookup(key []byte) []byte {
	if uint32(len(key)) != m.spec.KeySize {
		return nil
	}
	e, ok := m.entries[string(key)]
	if !ok {
		return nil
	}
	m.order.MoveToFront(e)
	return e.Value.(*hashEntry).value
}

func (m *hashMap) Update(key, value []byte, flags uint64) error {
	if err := checkFlags(flags); err != nil {
		return err
	}
	if uint32(len(key)) != m.spec.KeySize || uint32(len(value)) != m.spec.ValueSize {
		return EINVAL
	}
	if e, ok := m.entries[string(key)]; ok {
		if flags&3 == UpdateNoExist {
			return EEXIST
		}
		// In place, so pointers from earlier lookups see the new value
		// (the kernel replaces the element; programs may not rely on either).
		copy(e.Value.(*hashEntry).value, value)
		m.order.MoveToFront(e)
		return nil
	}
	if flags&3 == UpdateExist {
		return ENOENT
	}
	if uint32(len(m.entries)) >= m.spec.MaxEntries {
		if !m.lru {
			return E2BIG
		}
		oldest := m.order.Back()
		delete(m.entries, oldest.Value.(*hashEntry).key)
		m.order.Remove(oldest)
	}
	he := &hashEntry{key: string(key), value: append([]byte(nil), value...)}
	m.entries[he.key] = m.order.PushFront(he)
	return nil
}

func (m *hashMap) Delete(key []byte) error {
	e, ok := m.entries[string(key)]
	if !ok {
		return ENOENT
	}
	delete(m.entries, string(key))
	m.order.Remove(e)
	return nil
}

func (m *hashMap) Entries() []Entry {
	out := make([]Entry, 0, len(m.entries))
	for k, e := range m.entries {
		out = append(out, Entry{Key: []byte(k), Value: e.Value.(*hashEntry).value})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}

// arrayMap is ARRAY and PERCPU_ARRAY (dense: every index exists, zeroed,
// and cannot be deleted) and the reference arrays PROG_ARRAY, DEVMAP,
// CPUMAP, XSKMAP, PERF_EVENT_ARRAY (sparse: an index exists once set).
//
// An array of at most flatArrayBytes is one allocation; a larger one keeps
// only the values used (lazy): a dense array's value comes into being,
// zeroed, when first looked up or updated, a sparse array's when set.
type arrayMap struct {
	spec    MapSpec
	dense   bool
	values  []byte // flat: MaxEntries × ValueSize
	present []bool // flat sparse maps only
	lazy    map[uint32][]byte
}

func newArrayMap(spec MapSpec, dense bool) *arrayMap {
	m := &arrayMap{spec: spec, dense: dense}
	if mapBytes(spec) > flatArrayBytes {
		m.lazy = map[uint32][]byte{}
		return m
	}
	m.values = make([]byte, uint64(spec.MaxEntries)*uint64(spec.ValueSize))
	if !dense {
		m.present = make([]bool, spec.MaxEntries)
	}
	return m
}

func (m *arrayMap) Spec() *MapSpec { return &m.spec }

func (m *arrayMap) index(key []byte) (uint32, bool) {
	if len(key) != 4 {
		return 0, false
	}
	i := binary.LittleEndian.Uint32(key)
	return i, i < m.spec.MaxEntries
}

// exists reports whether index i holds a value.
func (m *arrayMap) exists(i uint32) bool {
	if m.dense {
		return true
	}
	if m.lazy != nil {
		return m.lazy[i] != nil
	}
	return m.present[i]
}

// slot is the storage of index i, brought into being if the array is lazy.
func (m *arrayMap) slot(i uint32) []byte {
	vs := uint64(m.spec.ValueSize)
	if m.lazy != nil {
		v := m.lazy[i]
		if v == nil {
			v = make([]byte, vs)
			m.lazy[i] = v
		}
		return v
	}
	o := uint64(i) * vs
	return m.values[o : o+vs : o+vs]
}

func (m *arrayMap) Lookup(key []byte) []byte {
	i, ok := m.index(key)
	if !ok || !m.exists(i) {
		return nil
	}
	return m.slot(i)
}

func (m *arrayMap) Update(key, value []byte, flags uint64) error {
	if err := checkFlags(flags); err != nil {
		return err
	}
	i, ok := m.index(key)
	if !ok {
		return E2BIG // array_map_update_elem: index >= max_entries
	}
	if uint32(len(value)) != m.spec.ValueSize {
		return EINVAL
	}
	exists := m.exists(i)
	if flags&3 == UpdateNoExist && exists {
		return EEXIST
	}
	if flags&3 == UpdateExist && !exists {
		return ENOENT
	}
	copy(m.slot(i), value)
	if m.present != nil {
		m.present[i] = true
	}
	return nil
}

func (m *arrayMap) Delete(key []byte) error {
	if m.dense {
		return EINVAL
	}
	i, ok := m.index(key)
	if !ok || !m.exists(i) {
		return ENOENT
	}
	if m.lazy != nil {
		delete(m.lazy, i)
		return nil
	}
	m.present[i] = false
	clear(m.slot(i))
	return nil
}

func (m *arrayMap) Entries() []Entry {
	var out []Entry
	add := func(i uint32, v []byte) {
		if m.dense && isZero(v) {
			return // dense arrays list only entries that differ from zero
		}
		k := make([]byte, 4)
		binary.LittleEndian.PutUint32(k, i)
		out = append(out, Entry{Key: k, Value: v})
	}
	if m.lazy != nil {
		for _, i := range slices.Sorted(maps.Keys(m.lazy)) {
			add(i, m.lazy[i])
		}
		return out
	}
	for i := uint32(0); i < m.spec.MaxEntries; i++ {
		if m.exists(i) {
			add(i, m.slot(i))
		}
	}
	return out
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
