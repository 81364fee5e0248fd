package emulator

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// State is the contents of a set of maps in a form people and tests can
// read and write: map name → entries, keys and values as hex strings (the
// bytes in memory order). Arrays list only entries that are not all zero.
//
//	{"maps": {"counters": [{"key": "00000000", "value": "0100000000000000"}]}}
type State struct {
	Maps map[string][]StateEntry `json:"maps"`
}

// StateEntry is one map entry in hex.
type StateEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParseState reads a JSON map state; errors name the map and entry.
func ParseState(data []byte) (*State, error) {
	var s State
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("map state: %w", err)
	}
	if s.Maps == nil {
		s.Maps = map[string][]StateEntry{}
	}
	return &s, nil
}

// Marshal writes the state as indented JSON, deterministically (map names
// sorted by encoding/json, entries sorted by key by Snapshot).
func (s *State) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Snapshot captures the contents of maps (every map, even empty ones, so
// that a state file lists what exists).
func Snapshot(maps []Map) *State {
	s := &State{Maps: map[string][]StateEntry{}}
	for _, m := range maps {
		entries := []StateEntry{}
		for _, e := range m.Entries() {
			entries = append(entries, StateEntry{Key: hex.EncodeToString(e.Key), Value: hex.EncodeToString(e.Value)})
		}
		s.Maps[m.Spec().Name] = entries
	}
	return s
}

// Apply stores the state's entries into the maps with BPF_ANY. Every map the
// state names must exist and every key and value must have the map's sizes.
func (s *State) Apply(maps []Map) error {
	byName := map[string]Map{}
	for _, m := range maps {
		byName[m.Spec().Name] = m
	}
	names := make([]string, 0, len(s.Maps))
	for n := range s.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		m, ok := byName[name]
		if !ok {
			known := make([]string, 0, len(byName))
			for n := range byName {
				known = append(known, n)
			}
			sort.Strings(known)
			return fmt.Errorf("map state: no map named %q (the program has: %s)", name, strings.Join(known, ", "))
		}
		spec := m.Spec()
		for i, e := range s.Maps[name] {
			k, err := decodeHex(e.Key)
			if err != nil {
				return fmt.Errorf("map state: %s entry %d: key: %v", name, i, err)
			}
			v, err := decodeHex(e.Value)
			if err != nil {
				return fmt.Errorf("map state: %s entry %d: value: %v", name, i, err)
			}
			if uint32(len(k)) != spec.KeySize {
				return fmt.Errorf("map state: %s entry %d: key has %d bytes, map keys have %d", name, i, len(k), spec.KeySize)
			}
			if uint32(len(v)) != spec.ValueSize {
				return fmt.Errorf("map state: %s entry %d: value has %d bytes, map values have %d", name, i, len(v), spec.ValueSize)
			}
			if err := m.Update(k, v, UpdateAny); err != nil {
				return fmt.Errorf("map state: %s entry %d: update: %v", name, i, err)
			}
		}
	}
	return nil
}

// decodeHex accepts hex digits with optional spaces and an optional 0x.
func decodeHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.ReplaceAll(s, " ", ""), "0x")
	return hex.DecodeString(s)
}
