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
//
// A map of maps (array_of_maps, hash_of_maps) has no values: each entry
// says that its slot holds an inner map, made from the outer map's inner
// template, and lists that inner map's entries under "inner" (a missing
// "inner" is an empty inner map; snapshots write "inner": []). Each slot
// holds a map of its own; the format cannot say that two slots share one.
//
//	{"maps": {"flow_tables": [{"key": "00000000", "inner": [{"key": "00000000", "value": "01000000"}]}]}}
type State struct {
	Maps map[string][]StateEntry `json:"maps"`
}

// StateEntry is one map entry in hex.
type StateEntry struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
	// Inner lists the entries of the inner map an outer map's slot holds
	// (a pointer, so that StateEntry stays comparable with ==).
	Inner *[]StateEntry `json:"inner,omitempty"`
}

// ParseState reads a JSON map state; errors name the map and entry.
func ParseState(data []byte) (*State, error) {
	var s State
	if err := decodeJSON(data, &s); err != nil {
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
		s.Maps[m.Spec().Name] = stateEntries(m)
	}
	return s
}

func stateEntries(m Map) []StateEntry {
	entries := []StateEntry{}
	for _, e := range m.Entries() {
		se := StateEntry{Key: hex.EncodeToString(e.Key)}
		if e.Inner != nil {
			in := stateEntries(e.Inner)
			se.Inner = &in
		} else {
			se.Value = hex.EncodeToString(e.Value)
		}
		entries = append(entries, se)
	}
	return entries
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
		if err := applyEntries(name, m, s.Maps[name]); err != nil {
			return err
		}
	}
	return nil
}

// applyEntries stores entries into m, whose name in errors is name.
func applyEntries(name string, m Map, entries []StateEntry) error {
	spec := m.Spec()
	om, outer := m.(OuterMap)
	for i, e := range entries {
		k, err := decodeHex(e.Key)
		if err != nil {
			return fmt.Errorf("map state: %s entry %d: key: %v", name, i, err)
		}
		if uint32(len(k)) != spec.KeySize {
			return fmt.Errorf("map state: %s entry %d: key has %d bytes, map keys have %d", name, i, len(k), spec.KeySize)
		}
		if outer {
			if e.Value != "" {
				return fmt.Errorf("map state: %s entry %d: %s slots hold maps, not values: list the inner map's entries under \"inner\"", name, i, spec.Type)
			}
			in, err := NewInner(m, k)
			if err != nil {
				return fmt.Errorf("map state: %s entry %d: %v", name, i, err)
			}
			if e.Inner != nil {
				if err := applyEntries(fmt.Sprintf("%s[%s]", name, e.Key), in, *e.Inner); err != nil {
					return err
				}
			}
			if err := om.SetInner(k, in); err != nil {
				return fmt.Errorf("map state: %s entry %d: update: %v", name, i, err)
			}
			continue
		}
		if e.Inner != nil {
			return fmt.Errorf("map state: %s entry %d: \"inner\" given, but %s is a %s, not a map of maps", name, i, name, spec.Type)
		}
		v, err := decodeHex(e.Value)
		if err != nil {
			return fmt.Errorf("map state: %s entry %d: value: %v", name, i, err)
		}
		if uint32(len(v)) != spec.ValueSize {
			return fmt.Errorf("map state: %s entry %d: value has %d bytes, map values have %d", name, i, len(v), spec.ValueSize)
		}
		if err := m.Update(k, v, UpdateAny); err != nil {
			return fmt.Errorf("map state: %s entry %d: update: %v", name, i, err)
		}
	}
	return nil
}

// decodeHex accepts hex digits with optional spaces and an optional 0x.
func decodeHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.ReplaceAll(s, " ", ""), "0x")
	return hex.DecodeString(s)
}
