package loader

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf"
)

// flagRDOnlyProg is BPF_F_RDONLY_PROG: the program may only read the map
// (cilium/ebpf sets it on .rodata sections).
const flagRDOnlyProg = 1 << 7

// Legacy `maps` definitions come in three sizes. cilium/ebpf reads the
// first 20 bytes (type, key, value, max_entries, flags) and hands back the
// rest as MapSpec.Extra; how a map-in-map names its inner map template in
// that rest depends on the layout:
//
//	20 bytes: struct bpf_map_def (libbpf)        — no inner map
//	28 bytes: + inner_map_idx, numa_node           (samples/bpf/bpf_load.c):
//	          the inner map's position among the object's definitions
//	36 bytes: + id, pinning, inner_id, inner_idx   (iproute2 struct bpf_elf_map):
//	          the inner map is the one whose id is inner_id (inner_idx is
//	          the outer slot iproute2 fills with it, not a map)
const (
	extra28 = 8  // len(Extra) of a 28-byte definition
	extra36 = 16 // len(Extra) of a 36-byte definition
)

type mapError struct {
	section string
	name    string // the map whose definition is at fault
	err     error
}

func (e *mapError) Error() string { return e.err.Error() }

// convertMaps turns cilium/ebpf's map specs into Object.Maps, sorted by
// name, and returns the name → index table the linker resolves
// references with.
func convertMaps(spec *ebpf.CollectionSpec, info *elfInfo) ([]*Map, map[string]int, error) {
	names := make([]string, 0, len(spec.Maps))
	for n := range spec.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	maps := make([]*Map, len(names))
	index := make(map[string]int, len(names))
	for i, n := range names {
		m, err := convertMap(n, spec.Maps[n], info.mapSec[n])
		if err != nil {
			return nil, nil, err
		}
		maps[i] = m
		index[n] = i
	}
	// Legacy map-in-map: find each outer map's template among the legacy
	// definitions of the object.
	for i, n := range names {
		ms, m := spec.Maps[n], maps[i]
		if !isMapInMap(m.Type) || m.InnerMap != nil || !isLegacyMapName(m.Section) {
			continue
		}
		inner, err := legacyInner(n, ms, spec.Maps, info.legacyMaps, info)
		if err != nil {
			return nil, nil, &mapError{m.Section, n, err}
		}
		if inner == "" {
			continue // none named: whoever creates the map must supply one
		}
		j, ok := index[inner]
		if !ok {
			return nil, nil, &mapError{m.Section, n, fmt.Errorf("map %s: inner map %s not found", n, inner)}
		}
		tmpl := *maps[j]
		m.InnerMap = &tmpl
	}
	return maps, index, nil
}

// PerfEventArrayCPUs is the max_entries given to a perf event array that
// leaves it out. libbpf sets the host's CPU count there when it creates
// the map; nfpcc picks one fixed number so that loading is deterministic:
// 50, the cores the NFP-4000 runs eBPF on (the Getting Started Guide,
// ref/offload-facts.md), the "CPUs" an offloaded program runs on.
const PerfEventArrayCPUs = 50

// sizePerfEventArray fills what libbpf fills in a perf event array's
// definition: 4-byte keys and values (CPU index, perf event fd) and, when
// max_entries is 0, one slot per CPU.
func sizePerfEventArray(m *Map) {
	if m.KeySize == 0 {
		m.KeySize = 4
	}
	if m.ValueSize == 0 {
		m.ValueSize = 4
	}
	if m.MaxEntries == 0 {
		m.MaxEntries = PerfEventArrayCPUs
	}
}

func isMapInMap(t ebpf.MapType) bool { return t == ebpf.ArrayOfMaps || t == ebpf.HashOfMaps }

func legacyInner(name string, ms *ebpf.MapSpec, specs map[string]*ebpf.MapSpec, order []string, info *elfInfo) (string, error) {
	extra := extraOf(ms)
	switch len(extra) {
	case extra28:
		idx := info.order.Uint32(extra)
		if int(idx) >= len(order) {
			return "", fmt.Errorf("map %s: inner map index %d, but the object has %d legacy definitions", name, idx, len(order))
		}
		if order[idx] == name {
			return "", fmt.Errorf("map %s: is its own inner map", name)
		}
		return order[idx], nil
	case extra36:
		id := info.order.Uint32(extra[8:])
		if id == 0 {
			return "", nil
		}
		for _, other := range order {
			if e := extraOf(specs[other]); len(e) == extra36 && info.order.Uint32(e) == id && other != name {
				return other, nil
			}
		}
		return "", fmt.Errorf("map %s: inner_id %d names no map of the object", name, id)
	}
	return "", nil
}

// extraOf reads the definition bytes after the generic 20.
func extraOf(ms *ebpf.MapSpec) []byte {
	if ms == nil || ms.Extra == nil {
		return nil
	}
	extra := make([]byte, ms.Extra.Size())
	if n, _ := ms.Extra.ReadAt(extra, 0); n != len(extra) {
		return nil
	}
	return extra
}

func convertMap(name string, ms *ebpf.MapSpec, section string) (*Map, error) {
	m := &Map{
		Name:       name,
		Type:       ms.Type,
		KeySize:    ms.KeySize,
		ValueSize:  ms.ValueSize,
		MaxEntries: ms.MaxEntries,
		Flags:      ms.Flags,
		ReadOnly:   ms.Flags&flagRDOnlyProg != 0,
		Section:    section,
	}
	if m.Type == ebpf.PerfEventArray {
		sizePerfEventArray(m)
	}
	if strings.HasPrefix(name, ".") {
		// Global data: cilium/ebpf names the map after its section and
		// keeps the section bytes as the value of key 0.
		m.Section = name
		m.Contents = make([]byte, ms.ValueSize)
		if len(ms.Contents) == 1 {
			if b, ok := ms.Contents[0].Value.([]byte); ok {
				copy(m.Contents, b)
			}
		}
	}
	if ms.InnerMap != nil {
		if ms.InnerMap == ms {
			return nil, &mapError{section, name, fmt.Errorf("map %s: is its own inner map", name)}
		}
		inner, err := convertMap(name+".inner", ms.InnerMap, section)
		if err != nil {
			return nil, err
		}
		m.InnerMap = inner
	}
	return m, nil
}
