package verifier_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"gopkg.in/yaml.v3"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// Each testdata/verify/*.txtar is one program in PREVAIL-style assembly
// ("-- asm --", labels as "<name>:" lines), its program type ("-- type --":
// xdp, tc, socket; add "nfp" for the NFP target), its maps ("-- maps --":
// "type key value entries" per line, ebpf.MapType names; a map of maps
// adds "inner type key value entries") and the expected
// verdict and facts ("-- want --": "accepted" and the facts before every
// reachable instruction, or "rejected: " and the error; go test -update
// rewrites it).
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata/verify/*.txtar", func(t *testing.T, a *golden.Archive) {
		a.Check(t, "want", runGolden(t, a))
	})
}

// goldenInsns assembles a golden's asm section: PREVAIL-style assembly
// whose "<name>:" lines start labelled blocks (functions, jump targets).
func goldenInsns(t testing.TB, a *golden.Archive) asm.Instructions {
	code := &yaml.Node{Kind: yaml.MappingNode}
	var body *yaml.Node
	for _, line := range strings.Split(a.Section("asm"), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "<") && strings.HasSuffix(l, ">:") || body == nil {
			name := "<start>"
			if strings.HasSuffix(l, ">:") {
				name = strings.TrimSuffix(l, ":")
			}
			body = &yaml.Node{Kind: yaml.ScalarNode}
			code.Content = append(code.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: name}, body)
			if strings.HasSuffix(l, ">:") {
				continue
			}
		}
		body.Value += line + "\n"
	}
	insns, _, err := assemble(code)
	if err != nil {
		t.Fatalf("asm: %v", err)
	}
	return insns
}

func runGolden(t *testing.T, a *golden.Archive) string {
	insns := goldenInsns(t, a)
	opts := &verifier.Options{}
	fields := strings.Fields(a.Section("type"))
	for _, w := range fields {
		switch w {
		case "xdp":
			opts.Type = ebpf.XDP
		case "tc":
			opts.Type = ebpf.SchedCLS
		case "socket":
			opts.Type = ebpf.SocketFilter
		case "nfp":
			opts.Target = verifier.NFPTarget
		default:
			t.Fatalf("unknown type word %q", w)
		}
	}
	var maps []*loader.Map
	for _, line := range strings.Split(strings.TrimSpace(a.Section("maps")), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 4 {
			t.Fatalf("maps: want 'type key value entries [readonly]': %q", line)
		}
		m := &loader.Map{Name: fmt.Sprintf("map%d", len(maps)), Type: mapTypes[f[0]]}
		k, _ := strconv.Atoi(f[1])
		v, _ := strconv.Atoi(f[2])
		n, _ := strconv.Atoi(f[3])
		m.KeySize, m.ValueSize, m.MaxEntries = uint32(k), uint32(v), uint32(n)
		if len(f) > 4 && f[4] == "readonly" {
			m.ReadOnly, m.Flags = true, 0x80
		}
		// A map of maps names its inner map's template after "inner":
		// "array_of_maps 4 4 1 inner array 4 8 1".
		if len(f) > 4 && f[4] == "inner" {
			if len(f) != 9 {
				t.Fatalf("maps: want 'type key value entries inner type key value entries': %q", line)
			}
			in := &loader.Map{Name: m.Name + ".inner", Type: mapTypes[f[5]]}
			k, _ := strconv.Atoi(f[6])
			v, _ := strconv.Atoi(f[7])
			n, _ := strconv.Atoi(f[8])
			in.KeySize, in.ValueSize, in.MaxEntries = uint32(k), uint32(v), uint32(n)
			m.InnerMap = in
		}
		maps = append(maps, m)
	}
	prog := &loader.Program{Name: "golden", Insns: insns, Type: opts.Type}
	res, err := verifyBoth(t, prog, maps, opts)
	var b bytes.Buffer
	if err != nil {
		fmt.Fprintf(&b, "rejected: %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "accepted\n")
	for pc, f := range res.Facts {
		if f.Reachable {
			fmt.Fprintf(&b, "%d: %s\n", pc, f)
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

var mapTypes = map[string]ebpf.MapType{
	"hash": ebpf.Hash, "array": ebpf.Array, "prog_array": ebpf.ProgramArray, "perf_event_array": ebpf.PerfEventArray,
	"devmap": ebpf.DevMap, "percpu_array": ebpf.PerCPUArray, "lru_hash": ebpf.LRUHash,
	"array_of_maps": ebpf.ArrayOfMaps, "hash_of_maps": ebpf.HashOfMaps,
}
