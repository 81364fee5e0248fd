package diff

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/fuzz"
)

// packets makes Ethernet/IPv4/IPv6 frames with random fields (few distinct
// addresses and ports, so maps hit), some truncated, and random bytes.
func packets(rng *rand.Rand, n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		if rng.IntN(6) == 0 {
			b := make([]byte, 1+rng.IntN(100))
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			out = append(out, b)
			continue
		}
		var b bytes.Buffer
		b.Write([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
		if rng.IntN(5) == 0 {
			b.Write([]byte{0x81, 0x00, 0, byte(rng.IntN(16))})
		}
		switch rng.IntN(6) {
		case 0:
			b.Write([]byte{0x86, 0xdd, 0x60, 0, 0, 0, 0, 20, []byte{6, 17, 58}[rng.IntN(3)], 64})
			for j := 0; j < 32; j++ {
				b.WriteByte(byte(rng.IntN(256)))
			}
		case 1:
			b.Write([]byte{0x08, 0x06})
		default:
			proto := []byte{1, 6, 17, 47}[rng.IntN(4)]
			b.Write([]byte{0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0, 0, byte(1 + rng.IntN(64)), proto, 0, 0})
			for j := 0; j < 4; j++ {
				b.WriteByte(byte(rng.IntN(4)))
			}
			if rng.IntN(3) == 0 {
				b.Write([]byte{10, 0, 0, 254})
			} else {
				for j := 0; j < 4; j++ {
					b.WriteByte(byte(rng.IntN(4)))
				}
			}
		}
		for j := 0; j < 4; j++ {
			b.WriteByte(byte(rng.IntN(4)))
		}
		for j := rng.IntN(40); j > 0; j-- {
			b.WriteByte(byte(rng.IntN(256)))
		}
		frame := b.Bytes()
		if rng.IntN(10) == 0 {
			frame = frame[:rng.IntN(len(frame))]
		}
		out = append(out, frame)
	}
	return out
}

type source struct {
	file       string
	defaultXDP bool
	typ        ebpf.ProgramType // --type: Cilium's sections name no hook
}

func sources(t *testing.T) []source {
	var out []source
	own, _ := filepath.Glob(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", "*.o"))
	for _, f := range own {
		out = append(out, source{file: f})
	}
	if d := testsuite.CorporaDir(); d != "" {
		jit, _ := filepath.Glob(filepath.Join(d, "nfp-jit", "programs", "*.bpf.o"))
		for _, f := range jit {
			out = append(out, source{file: f, defaultXDP: true})
		}
		cil, _ := filepath.Glob(filepath.Join(d, "cilium", "*.o"))
		for _, f := range cil {
			typ := ebpf.SchedCLS
			if strings.HasPrefix(filepath.Base(f), "bpf_xdp") {
				typ = ebpf.XDP
			}
			out = append(out, source{file: f, typ: typ})
		}
		fnd, _ := filepath.Glob(filepath.Join(d, "findings", "*.o"))
		for _, f := range fnd {
			out = append(out, source{file: f})
		}
		for _, sub := range []string{"linux", "new_linux", "prototype-kernel", "cilium-examples", "suricata", "build"} {
			filepath.WalkDir(filepath.Join(d, "ebpf-samples", sub), func(p string, e os.DirEntry, err error) error {
				if err == nil && !e.IsDir() && strings.HasSuffix(p, ".o") {
					out = append(out, source{file: p})
				}
				return nil
			})
		}
	} else {
		t.Log("corpora absent: only testdata/progs")
	}
	return out
}

// refusal groups a compile error by its kind of message.
func refusal(err error) string {
	s := err.Error()
	if i := strings.Index(s, "eBPF slot "); i >= 0 {
		if j := strings.Index(s[i:], ": "); j >= 0 {
			s = s[i+j+2:]
		}
	} else if i := strings.LastIndex(s, ": "); i >= 0 && !strings.Contains(s, "verifier") {
		s = s[i+2:]
	}
	for _, cut := range []string{" v", " fp", " 0", " 1", " 2", " 3", " 4", " 5", " 6", " 7", " 8", " 9"} {
		if i := strings.Index(s, cut); i > 0 && i < 60 {
			_ = i
		}
	}
	if len(s) > 90 {
		s = s[:90]
	}
	return s
}

// TestDifferential is the harness; it logs the counts and fails on any
// mismatch between the image on the NFP emulator and the eBPF reference.
func TestDifferential(t *testing.T) {
	var compiled, refused, runs, spilled, spillRuns int
	var spillRefused []string
	reasons := map[string][]string{}
	for _, src := range sources(t) {
		obj, err := loader.Load(src.file)
		if err != nil {
			continue
		}
		for pi, p := range obj.Programs {
			typ := loader.EffectiveType(p, src.typ, src.defaultXDP)
			if typ != ebpf.XDP && typ != ebpf.SchedCLS || (p.Section == ".text" && !src.defaultXDP) {
				continue
			}
			name := filepath.Base(src.file) + ":" + p.Name
			imgs, _, err := compiler.Compile(obj, compiler.Options{Prog: p.Name, DefaultXDP: src.defaultXDP, Type: src.typ, MCPU: "emulator"})
			if err != nil {
				if strings.Contains(err.Error(), "BUG") {
					t.Errorf("%s: %v", name, err)
				}
				refused++
				r := refusal(err)
				reasons[r] = append(reasons[r], name)
				continue
			}
			compiled++
			// Deterministic: a second compile gives the same bytes.
			again, _, _ := compiler.Compile(obj, compiler.Options{Prog: p.Name, DefaultXDP: src.defaultXDP, Type: src.typ, MCPU: "emulator"})
			var b1, b2 bytes.Buffer
			if imgs[0].Write(&b1) != nil || len(again) != 1 || again[0].Write(&b2) != nil || !bytes.Equal(b1.Bytes(), b2.Bytes()) {
				t.Errorf("%s: two compiles differ", name)
			}
			runs += checkProgram(t, name, obj, pi, typ, imgs[0])
			// Again with 4 registers (plus 2 a call preserves): values spill to local memory.
			imgs, rep, err := compiler.Compile(obj, compiler.Options{Prog: p.Name, DefaultXDP: src.defaultXDP, Type: src.typ, Regs: 4, MCPU: "emulator"})
			if err != nil {
				if strings.Contains(err.Error(), "BUG") {
					t.Errorf("%s with 4 registers: %v", name, err)
				}
				spillRefused = append(spillRefused, name+": "+refusal(err))
				continue
			}
			if n := rep.Programs[0].Stats.Spilled; n > 0 {
				spilled++
				spillRuns += checkProgram(t, name+" (4 registers)", obj, pi, typ, imgs[0])
			}
		}
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(reasons[keys[i]]) != len(reasons[keys[j]]) {
			return len(reasons[keys[i]]) > len(reasons[keys[j]])
		}
		return keys[i] < keys[j]
	})
	t.Logf("XDP and tc programs: %d compiled (%d packet runs compared), %d refused", compiled, runs, refused)
	for _, k := range keys {
		ex := reasons[k]
		if len(ex) > 3 {
			ex = append(ex[:3:3], "…")
		}
		t.Logf("  refused %3d× %s  (%s)", len(reasons[k]), k, strings.Join(ex, ", "))
	}
	t.Logf("with 4 registers: %d programs spill and agree (%d packet runs), %d refused (%s)", spilled, spillRuns, len(spillRefused), strings.Join(spillRefused, ", "))
	if compiled == 0 {
		t.Errorf("no program compiled")
	}
}

// checkProgram runs img and the object's program pi on the same packets
// with testsuite/fuzz's harness (action, r0, packet, events and maps after
// every packet); it returns how many packets it compared.
func checkProgram(t *testing.T, name string, obj *loader.Object, pi int, typ ebpf.ProgramType, img *image.Image) int {
	t.Helper()
	q := *obj
	q.Programs = append([]*loader.Program(nil), obj.Programs...)
	pp := *obj.Programs[pi]
	pp.Type = typ // the type it was compiled as (--xdp, --type)
	q.Programs[pi] = &pp
	// The image must survive its own file format (RoundTrip).
	pair, out := fuzz.Load(&q, pi, img, fuzz.Options{RoundTrip: true})
	if pair == nil {
		if out.Kind == fuzz.GenBug {
			t.Logf("%s: the reference cannot load it: %s", name, out.Reason)
		} else {
			t.Errorf("%s: %s", name, out.Reason)
		}
		return 0
	}
	rng := rand.New(rand.NewPCG(7, uint64(len(name))))
	n := 0
	for i, pkt := range packets(rng, 80) {
		switch o := pair.Run(i, pkt); o.Kind {
		case fuzz.GenBug:
			t.Logf("%s: packet %d: reference: %s", name, i, o.Reason)
		case fuzz.Mismatch:
			t.Errorf("%s: %s\n%s", name, o.Reason, o.Detail)
			return n
		default:
			n++
		}
	}
	return n
}
