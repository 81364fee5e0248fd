package emulator

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
)

// Map-in-map types (include/uapi/linux/bpf.h).
const (
	MapArrayOfMaps MapType = 12
	MapHashOfMaps  MapType = 13
)

func init() {
	mapTypeNames[MapArrayOfMaps] = "array_of_maps"
	mapTypeNames[MapHashOfMaps] = "hash_of_maps"
}

// OuterMap is an ARRAY_OF_MAPS or HASH_OF_MAPS. Its values are maps, not
// bytes: user space stores an inner map in a slot (the kernel takes an fd,
// and checks the inner map against the template, MapSpec.Inner), and a
// program's bpf_map_lookup_elem returns the inner map itself, usable as the
// map argument of the next helper call. Lookup (of the Map interface)
// returns nil, since an inner map has no bytes; Update is refused (EINVAL),
// as the kernel refuses it from programs; Delete empties a slot.
type OuterMap interface {
	Map
	// LookupInner returns the inner map stored under key, or nil.
	LookupInner(key []byte) Map
	// SetInner stores inner under key (BPF_ANY). inner must match the
	// template: same type, key and value sizes, max entries and flags
	// (bpf_map_meta_equal).
	SetInner(key []byte, inner Map) error
}

// outerMap stores inner maps by key bytes; arrays check the index.
type outerMap struct {
	spec  MapSpec
	inner map[string]Map
}

func newOuterMap(spec MapSpec) (*outerMap, error) {
	if spec.Inner == nil {
		return nil, fmt.Errorf("map %s: %s without an inner map template", spec.Name, spec.Type)
	}
	if spec.Inner.Type == MapArrayOfMaps || spec.Inner.Type == MapHashOfMaps {
		return nil, fmt.Errorf("map %s: inner map of type %s (maps of maps of maps are refused by the kernel)", spec.Name, spec.Inner.Type)
	}
	if spec.ValueSize != 4 {
		return nil, fmt.Errorf("map %s: %s values are 4-byte map fds, value size is %d", spec.Name, spec.Type, spec.ValueSize)
	}
	if spec.Type == MapArrayOfMaps && spec.KeySize != 4 {
		return nil, fmt.Errorf("map %s: %s needs 4-byte keys, has %d", spec.Name, spec.Type, spec.KeySize)
	}
	if spec.KeySize == 0 {
		return nil, fmt.Errorf("map %s: %s with key size 0", spec.Name, spec.Type)
	}
	// The template must itself be a map the emulator can create.
	tmpl := *spec.Inner
	if tmpl.Name == "" {
		tmpl.Name = spec.Name + ".inner"
	}
	if _, err := NewMap(tmpl); err != nil {
		return nil, fmt.Errorf("map %s: inner map template: %w", spec.Name, err)
	}
	return &outerMap{spec: spec, inner: map[string]Map{}}, nil
}

// NewInner creates an empty map of outer's inner template, named after
// the outer map and the key ("flow_tables[00000000]").
func NewInner(outer Map, key []byte) (Map, error) {
	spec := outer.Spec()
	if spec.Inner == nil {
		return nil, fmt.Errorf("map %s is not a map of maps", spec.Name)
	}
	s := *spec.Inner
	s.Name = fmt.Sprintf("%s[%x]", spec.Name, key)
	return NewMap(s)
}

func (m *outerMap) Spec() *MapSpec { return &m.spec }

func (m *outerMap) validKey(key []byte) error {
	if uint32(len(key)) != m.spec.KeySize {
		return EINVAL
	}
	if m.spec.Type == MapArrayOfMaps && binary.LittleEndian.Uint32(key) >= m.spec.MaxEntries {
		return E2BIG
	}
	return nil
}

func (m *outerMap) Lookup([]byte) []byte { return nil }

func (m *outerMap) LookupInner(key []byte) Map {
	if m.validKey(key) != nil {
		return nil
	}
	return m.inner[string(key)]
}

func (m *outerMap) SetInner(key []byte, inner Map) error {
	if err := m.validKey(key); err != nil {
		return err
	}
	if inner == nil {
		return EINVAL
	}
	got, want := inner.Spec(), m.spec.Inner
	if got.Type != want.Type || got.KeySize != want.KeySize || got.ValueSize != want.ValueSize ||
		got.MaxEntries != want.MaxEntries || got.Flags != want.Flags {
		return EINVAL // bpf_map_meta_equal
	}
	if _, ok := m.inner[string(key)]; !ok && m.spec.Type == MapHashOfMaps && uint32(len(m.inner)) >= m.spec.MaxEntries {
		return E2BIG
	}
	m.inner[string(key)] = inner
	return nil
}

func (m *outerMap) Update([]byte, []byte, uint64) error { return EINVAL }

func (m *outerMap) Delete(key []byte) error {
	if err := m.validKey(key); err != nil {
		if m.spec.Type == MapArrayOfMaps && err == E2BIG {
			return ENOENT
		}
		return err
	}
	if _, ok := m.inner[string(key)]; !ok {
		return ENOENT
	}
	delete(m.inner, string(key))
	return nil
}

// Entries lists the occupied slots, with Inner set and Value nil.
func (m *outerMap) Entries() []Entry {
	out := make([]Entry, 0, len(m.inner))
	for k, in := range m.inner {
		out = append(out, Entry{Key: []byte(k), Inner: in})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}

// innerMaps gives inner maps an index after Env.Maps, so that executors
// can hand programs a map pointer for them: index len(Env.Maps)+k is
// inner map k. Indices stay valid as long as the Env lives.
type innerMaps struct {
	list  []Map
	index map[Map]int
}

// MapAt is map number i: Env.Maps[i], or an inner map a lookup in an
// outer map returned (see MapPointerer). nil when there is none.
func (e *Env) MapAt(i int) Map {
	if i >= 0 && i < len(e.Maps) {
		return e.Maps[i]
	}
	if j := i - len(e.Maps); j >= 0 && j < len(e.inner.list) {
		return e.inner.list[j]
	}
	return nil
}

// NumMaps is how many maps MapAt knows.
func (e *Env) NumMaps() int { return len(e.Maps) + len(e.inner.list) }

// innerIndex returns the MapAt index of an inner map, registering it.
func (e *Env) innerIndex(m Map) int {
	if i, ok := e.inner.index[m]; ok {
		return len(e.Maps) + i
	}
	if e.inner.index == nil {
		e.inner.index = map[Map]int{}
	}
	e.inner.index[m] = len(e.inner.list)
	e.inner.list = append(e.inner.list, m)
	return len(e.Maps) + len(e.inner.list) - 1
}

// MapPointerer is implemented by executors that can hand a program a
// pointer to any map of Env.MapAt (the eBPF interpreter): needed for
// bpf_map_lookup_elem on a map of maps. Executors without it fail such a
// lookup with an error.
type MapPointerer interface {
	MapPointer(index int) uint64
}

// lookupInner is bpf_map_lookup_elem on an outer map.
func lookupInner(e *Env, mem Memory, om OuterMap, key []byte) (uint64, error) {
	in := om.LookupInner(key)
	if in == nil {
		return 0, nil
	}
	mp, ok := mem.(MapPointerer)
	if !ok {
		return 0, fmt.Errorf("lookup in map of maps %s: this executor cannot hand out inner map pointers", om.Spec().Name)
	}
	return mp.MapPointer(e.innerIndex(in)), nil
}
