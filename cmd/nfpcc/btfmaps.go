package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
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
