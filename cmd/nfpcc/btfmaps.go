package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// Map keys and values by their BTF types: the run report prints each
// entry's hex (what --maps and --save-maps read and write) and, where the
// object has BTF for the map, the same bytes as C sees them
// (`1 → {dmac: 02:00:00:00:00:02, smac: …, valid: 1, packets: 2}`), as
// bpftool map dump does.

// mapBTF is a map's key and value types.
type mapBTF struct{ key, value btf.Type }

// mapTypes reads the BTF of the maps of an eBPF object; objects without
// BTF, or that cilium/ebpf cannot read, give none (hex only).
func mapTypes(path string) map[string]mapBTF {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil
	}
	out := map[string]mapBTF{}
	for name, m := range spec.Maps {
		if m.Key != nil || m.Value != nil {
			out[name] = mapBTF{m.Key, m.Value}
		}
	}
	return out
}

// formatBTF prints b as a value of type t (little-endian, as the NFP and
// x86 hosts store maps); "" when t does not describe b.
func formatBTF(t btf.Type, b []byte) string {
	if t == nil {
		return ""
	}
	if sz, err := btf.Sizeof(t); err != nil || sz != len(b) {
		return ""
	}
	var sb strings.Builder
	writeBTF(&sb, t, b, 0)
	return sb.String()
}

func writeBTF(sb *strings.Builder, t btf.Type, b []byte, depth int) {
	t = btf.UnderlyingType(t)
	if depth > 8 {
		fmt.Fprintf(sb, "%x", b)
		return
	}
	switch t := t.(type) {
	case *btf.Int:
		writeInt(sb, t, b)
	case *btf.Enum:
		v := leUint(b)
		for _, m := range t.Values {
			if m.Value == v {
				sb.WriteString(m.Name)
				return
			}
		}
		fmt.Fprintf(sb, "%d", v)
	case *btf.Array:
		n := int(t.Nelems)
		esz, err := btf.Sizeof(t.Type)
		if err != nil || esz*n != len(b) {
			fmt.Fprintf(sb, "%x", b)
			return
		}
		if i, ok := btf.UnderlyingType(t.Type).(*btf.Int); ok && i.Size == 1 {
			// Byte arrays: a MAC address as one, others in hex.
			if n == 6 {
				sb.WriteString(mac(b))
			} else {
				fmt.Fprintf(sb, "%x", b)
			}
			return
		}
		sb.WriteString("[")
		for k := range n {
			if k > 0 {
				sb.WriteString(", ")
			}
			writeBTF(sb, t.Type, b[k*esz:(k+1)*esz], depth+1)
		}
		sb.WriteString("]")
	case *btf.Struct:
		sb.WriteString("{")
		for k, m := range t.Members {
			if k > 0 {
				sb.WriteString(", ")
			}
			name := m.Name
			if name == "" {
				name = "_"
			}
			fmt.Fprintf(sb, "%s: ", name)
			off := int(m.Offset.Bytes())
			sz, err := btf.Sizeof(m.Type)
			if err != nil || m.BitfieldSize != 0 || off+sz > len(b) {
				sb.WriteString("?")
				continue
			}
			writeBTF(sb, m.Type, b[off:off+sz], depth+1)
		}
		sb.WriteString("}")
	default: // unions, pointers, floats: the bytes
		fmt.Fprintf(sb, "%x", b)
	}
}

func writeInt(sb *strings.Builder, t *btf.Int, b []byte) {
	v := leUint(b)
	switch {
	case t.Encoding == btf.Bool:
		fmt.Fprintf(sb, "%t", v != 0)
	case t.Encoding == btf.Signed:
		shift := 64 - 8*uint(len(b))
		fmt.Fprintf(sb, "%d", int64(v<<shift)>>shift)
	case len(b) > 8:
		fmt.Fprintf(sb, "%#x", b)
	default:
		fmt.Fprintf(sb, "%d", v)
	}
}

func leUint(b []byte) uint64 {
	var w [8]byte
	copy(w[:], b)
	return binary.LittleEndian.Uint64(w[:])
}

// typedEntry is "KEY → VALUE" by the map's BTF types, "" without them.
func typedEntry(t mapBTF, keyHex, valueHex string) string {
	k, err1 := hex.DecodeString(keyHex)
	v, err2 := hex.DecodeString(valueHex)
	if err1 != nil || err2 != nil {
		return ""
	}
	ks, vs := formatBTF(t.key, k), formatBTF(t.value, v)
	if ks == "" || vs == "" {
		return ""
	}
	return ks + " → " + vs
}

// typedState rewrites the entries of a --maps file given by their BTF
// types into hex, the form emulator.ParseState reads: a key or value that
// is not a hex string of the map's size (a number, an object, a list, an
// enum name, a MAC address) is encoded through the map's type. The file's
// other contents are kept as they are; data comes back unchanged when no
// entry needs types.
func typedState(data []byte, types map[string]mapBTF) ([]byte, error) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(data, &doc) != nil || doc["maps"] == nil {
		return data, nil // ParseState reports what is wrong
	}
	var maps map[string][]map[string]json.RawMessage
	if json.Unmarshal(doc["maps"], &maps) != nil {
		return data, nil
	}
	changed := false
	for name, entries := range maps {
		for i, e := range entries {
			for _, field := range []string{"key", "value"} {
				raw, ok := e[field]
				if !ok || isHexString(raw) {
					continue
				}
				t, ok := types[name]
				typ := t.key
				if field == "value" {
					typ = t.value
				}
				if !ok || typ == nil {
					return nil, fmt.Errorf("map %s entry %d: %s %s is not hex, and the object has no BTF type for it", name, i, field, raw)
				}
				b, err := encodeBTF(typ, raw)
				if err != nil {
					return nil, fmt.Errorf("map %s entry %d: %s: %v", name, i, field, err)
				}
				e[field], _ = json.Marshal(hex.EncodeToString(b))
				changed = true
			}
		}
	}
	if !changed {
		return data, nil
	}
	doc["maps"], _ = json.Marshal(maps)
	return json.Marshal(doc)
}

// isHexString says whether raw is a JSON string of hex digits (spaces
// and a 0x prefix allowed, as emulator.ParseState reads them).
func isHexString(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return false
	}
	s = strings.TrimPrefix(strings.ReplaceAll(s, " ", ""), "0x")
	_, err := hex.DecodeString(s)
	return err == nil && s != ""
}

// encodeBTF is the bytes of a value of type t written in JSON: numbers for
// integers, true/false, enum names or numbers, objects by member name
// (members left out are zero), lists for arrays, "aa:bb:cc:dd:ee:ff" or
// hex for byte arrays.
func encodeBTF(t btf.Type, raw json.RawMessage) ([]byte, error) {
	sz, err := btf.Sizeof(t)
	if err != nil {
		return nil, err
	}
	out := make([]byte, sz)
	if err := putBTF(btf.UnderlyingType(t), raw, out); err != nil {
		return nil, err
	}
	return out, nil
}

func putBTF(t btf.Type, raw json.RawMessage, out []byte) error {
	t = btf.UnderlyingType(t)
	var s string
	isStr := json.Unmarshal(raw, &s) == nil
	switch t := t.(type) {
	case *btf.Int, *btf.Enum:
		if e, ok := t.(*btf.Enum); ok && isStr {
			for _, m := range e.Values {
				if m.Name == s {
					return putUint(out, m.Value)
				}
			}
			return fmt.Errorf("%q is not a value of enum %s", s, e.Name)
		}
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			return putUint(out, map[bool]uint64{true: 1}[b])
		}
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return fmt.Errorf("%s: want a number", raw)
		}
		if v, err := strconv.ParseInt(n.String(), 0, 64); err == nil {
			return putUint(out, uint64(v))
		}
		v, err := strconv.ParseUint(n.String(), 0, 64)
		if err != nil {
			return fmt.Errorf("%s: want an integer", raw)
		}
		return putUint(out, v)
	case *btf.Array:
		if isStr {
			b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
			if err != nil || len(b) != len(out) {
				return fmt.Errorf("%q: want %d bytes in hex (or aa:bb:… )", s, len(out))
			}
			copy(out, b)
			return nil
		}
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil || len(elems) > int(t.Nelems) {
			return fmt.Errorf("%s: want a list of at most %d elements", raw, t.Nelems)
		}
		esz, err := btf.Sizeof(t.Type)
		if err != nil {
			return err
		}
		for i, e := range elems {
			if err := putBTF(t.Type, e, out[i*esz:(i+1)*esz]); err != nil {
				return fmt.Errorf("[%d]: %v", i, err)
			}
		}
		return nil
	case *btf.Struct:
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return fmt.Errorf("%s: want an object {member: value}", raw)
		}
		for name, v := range fields {
			m := slices.IndexFunc(t.Members, func(m btf.Member) bool { return m.Name == name })
			if m < 0 {
				return fmt.Errorf("struct %s has no member %q", t.Name, name)
			}
			mem := t.Members[m]
			msz, err := btf.Sizeof(mem.Type)
			off := int(mem.Offset.Bytes())
			if err != nil || mem.BitfieldSize != 0 || off+msz > len(out) {
				return fmt.Errorf("member %s: bitfields and odd layouts take hex", name)
			}
			if err := putBTF(mem.Type, v, out[off:off+msz]); err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
		}
		return nil
	}
	if isStr {
		b, err := hex.DecodeString(s)
		if err == nil && len(b) == len(out) {
			copy(out, b)
			return nil
		}
	}
	return fmt.Errorf("%s: a %T takes hex", raw, t)
}

func putUint(out []byte, v uint64) error {
	var w [8]byte
	binary.LittleEndian.PutUint64(w[:], v)
	if len(out) < 8 && v>>(8*len(out)) != 0 && int64(v)>>(8*len(out)-1) != -1 {
		return fmt.Errorf("%d does not fit in %d bytes", int64(v), len(out))
	}
	copy(out, w[:])
	return nil
}
