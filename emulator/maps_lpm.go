package emulator

import (
	"bytes"
	"encoding/binary"
	"sort"
)

// MapLPMTrie is BPF_MAP_TYPE_LPM_TRIE.
const MapLPMTrie MapType = 11

// lpmMap is an LPM_TRIE: keys are struct bpf_lpm_trie_key (a host-order
// u32 prefix length, then the address bytes). Lookup finds the entry with
// the longest prefix matching the key's address; update and delete work on
// exact (prefix length, masked address) pairs. The kernel requires
// BPF_F_NO_PREALLOC and a key of 4 + 1..256 bytes.
type lpmMap struct {
	spec    MapSpec
	entries map[string][]byte // canonical key (prefix length + masked data) → value
}

func newLPMMap(spec MapSpec) *lpmMap { return &lpmMap{spec: spec, entries: map[string][]byte{}} }

func (m *lpmMap) Spec() *MapSpec { return &m.spec }

func (m *lpmMap) dataLen() int { return int(m.spec.KeySize) - 4 }

// canonical masks the address to the prefix length; ok is false when the
// key is malformed or the prefix is longer than the address.
func (m *lpmMap) canonical(key []byte, plen uint32) (string, bool) {
	if len(key) != int(m.spec.KeySize) || plen > uint32(m.dataLen()*8) {
		return "", false
	}
	k := make([]byte, len(key))
	binary.LittleEndian.PutUint32(k, plen)
	for i := 0; i < m.dataLen(); i++ {
		bitsHere := int(plen) - i*8
		switch {
		case bitsHere >= 8:
			k[4+i] = key[4+i]
		case bitsHere > 0:
			k[4+i] = key[4+i] & byte(0xff<<(8-bitsHere))
		}
	}
	return string(k), true
}

func (m *lpmMap) Lookup(key []byte) []byte {
	if len(key) != int(m.spec.KeySize) {
		return nil
	}
	plen := binary.LittleEndian.Uint32(key)
	if max := uint32(m.dataLen() * 8); plen > max {
		plen = max
	}
	for l := int(plen); l >= 0; l-- {
		if k, ok := m.canonical(key, uint32(l)); ok {
			if v, found := m.entries[k]; found {
				return v
			}
		}
	}
	return nil
}

func (m *lpmMap) Update(key, value []byte, flags uint64) error {
	if err := checkFlags(flags); err != nil {
		return err
	}
	if len(key) != int(m.spec.KeySize) || uint32(len(value)) != m.spec.ValueSize {
		return EINVAL
	}
	k, ok := m.canonical(key, binary.LittleEndian.Uint32(key))
	if !ok {
		return EINVAL
	}
	if v, exists := m.entries[k]; exists {
		if flags&3 == UpdateNoExist {
			return EEXIST
		}
		copy(v, value)
		return nil
	}
	if flags&3 == UpdateExist {
		return ENOENT
	}
	if uint32(len(m.entries)) >= m.spec.MaxEntries {
		return ENOSPC // trie_update_elem: -ENOSPC when full
	}
	m.entries[k] = append([]byte(nil), value...)
	return nil
}

func (m *lpmMap) Delete(key []byte) error {
	if len(key) != int(m.spec.KeySize) {
		return EINVAL
	}
	k, ok := m.canonical(key, binary.LittleEndian.Uint32(key))
	if !ok {
		return EINVAL
	}
	if _, exists := m.entries[k]; !exists {
		return ENOENT
	}
	delete(m.entries, k)
	return nil
}

func (m *lpmMap) Entries() []Entry {
	out := make([]Entry, 0, len(m.entries))
	for k, v := range m.entries {
		out = append(out, Entry{Key: []byte(k), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Key, out[j].Key) < 0 })
	return out
}
