package nfp_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"testing"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/asm"
	"github.com/nfpcc/nfpcc/testsuite"
)

// jitCase is one row of nfp-jit/cases.json: a program path of the paper's
// estimator with an example packet, its model figure and the hardware
// measurement.
type jitCase struct {
	Path           string  `json:"path"`
	Packet         string  `json:"packet_pattern_hex"`
	PacketLen      int     `json:"packet_len"`
	ModelCycles    int64   `json:"model_cycles_incl_fw224"`
	ModelDRAM      float64 `json:"model_dram_cycles"`
	MeasuredCycles float64 `json:"measured_cycles_mean"`
	MapBytes       *string `json:"map_bytes"`
	Workers        int     `json:"workers"`
}

var dumpLine = regexp.MustCompile(`^\s*[0-9a-f]+:\s+\.(\d+)\s+(.*)$`)

// loadDump assembles a JIT dump with isa/asm and prepares it for the
// emulator, keeping each line's text for messages and traces.
func loadDump(t *testing.T, path string) *nfp.Program {
	p, _ := loadDumpIns(t, path)
	return p
}

func loadDumpIns(t *testing.T, path string) (*nfp.Program, []isa.Instr) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := asm.Assemble(filepath.Base(path), src, asm.Options{Mode: isa.Ctx4})
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	var text []string
	for _, l := range regexp.MustCompile(`\r?\n`).Split(string(src), -1) {
		if m := dumpLine.FindStringSubmatch(l); m != nil {
			text = append(text, m[2])
		}
	}
	if len(text) != len(p.Words) {
		t.Fatalf("%d instruction lines, %d words", len(text), len(p.Words))
	}
	ins := make([]isa.Instr, len(p.Words))
	for i, w := range p.Words {
		ins[i] = isa.Decode(w)
	}
	prog, err := nfp.LoadDump(ins, text)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return prog, ins
}

// TestNFPJITCorpus runs every program of the nfp-jit corpus (real Linux JIT
// output) on both example packets of cases.json and checks that the action
// equals the host interpreter's on the matching .bpf.o (as the offload
// firmware treats it), that the maps end equal, and that the cycles equal
// the published model's figure exactly. The ratio to the hardware
// measurement is logged.
func TestNFPJITCorpus(t *testing.T) {
	dir := testsuite.Corpus(t, "nfp-jit")
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]map[string]jitCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) != 8 {
		t.Errorf("cases.json has %d programs, want 8", len(names))
	}
	checked := 0
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			prog := loadDump(t, filepath.Join(dir, "programs", name+".asm"))
			obj, err := loader.Load(filepath.Join(dir, "programs", name+".bpf.o"))
			if err != nil {
				t.Fatalf("loader: %v", err)
			}
			for _, kind := range []string{"k_first", "i_first"} {
				c, ok := cases[name][kind]
				if !ok {
					t.Errorf("%s: no %s case", name, kind)
					continue
				}
				pkt, err := nfp.ParsePacketHex(c.Packet)
				if err != nil {
					t.Fatalf("%s: %v", kind, err)
				}
				if len(pkt) != c.PacketLen {
					t.Errorf("%s: packet of %d bytes, cases.json says %d", kind, len(pkt), c.PacketLen)
				}

				// Host interpreter on the .bpf.o, fresh maps.
				// The corpus objects' sections do not name the hook: XDP.
				imaps, ro, err := ebpf.NewMaps(obj)
				if err != nil {
					t.Fatal(err)
				}
				im, err := ebpf.New([]ebpf.Prog{{Name: obj.Programs[0].Name, Hook: emulator.HookXDP, Insns: obj.Programs[0].Insns}}, imaps, ro, ebpf.Options{})
				if err != nil {
					t.Fatalf("interpreter: %v", err)
				}
				ires, err := im.Run(0, ebpf.Input{Packet: pkt})
				if err != nil {
					t.Fatalf("%s: interpreter: %v", kind, err)
				}

				// NFP: the same maps, fresh (count-min: one ARRAY at the
				// EMEM base the dump reads from B23).
				maps, _, err := ebpf.NewMaps(obj)
				if err != nil {
					t.Fatal(err)
				}
				fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: maps})
				if err != nil {
					t.Fatal(err)
				}
				res, err := fw.RunPacket(pkt)
				if err != nil {
					t.Fatalf("%s: NFP: %v", kind, err)
				}

				want := nfp.OffloadAction(emulator.HookXDP, ires.Return)
				if res.Action != want {
					t.Errorf("%s: NFP action %s (r0 %d), interpreter r0 %d (%s) → offloaded %s", kind, res.Action, res.Return, ires.Return, ires.Action, want)
				}
				if uint32(res.Return) != uint32(ires.Return) {
					t.Errorf("%s: NFP r0 %#x, interpreter %#x", kind, res.Return, ires.Return)
				}
				if string(res.Packet) != string(ires.Packet) {
					t.Errorf("%s: packets differ:\nNFP  %x\nhost %x", kind, res.Packet, []byte(ires.Packet))
				}
				if got, want := fw.MapState(), im.Snapshot(); !reflect.DeepEqual(got, want) {
					g, _ := got.Marshal()
					w, _ := want.Marshal()
					t.Errorf("%s: maps differ:\nNFP  %s\nhost %s", kind, g, w)
				}
				if res.Cycles != c.ModelCycles {
					t.Errorf("%s: model cycles %d, published %d (path %s)", kind, res.Cycles, c.ModelCycles, short(c.Path))
				}
				if math.Abs(res.DRAMCycles-c.ModelDRAM) > 1e-4 {
					t.Errorf("%s: DRAM cycles %.5f, published %.5f", kind, res.DRAMCycles, c.ModelDRAM)
				}
				t.Logf("%s: %s r0=%d cycles=%d (published %d) measured %.1f ratio measured/model %.3f, %d NFP insns",
					kind, res.Action, res.Return, res.Cycles, c.ModelCycles, c.MeasuredCycles, c.MeasuredCycles/float64(res.Cycles), res.Instructions)
				checked++
			}
		})
	}
	t.Logf("%d cases checked", checked)
}

func short(p string) string {
	if len(p) > 120 {
		return p[:60] + " … " + p[len(p)-50:]
	}
	return fmt.Sprint(p)
}

// BenchmarkJITCorpus runs quic-lb and alaw2ulaw per packet through the
// firmware model (packet set-up and result decoding included), as the
// Linux JIT compiled them (jit/) and as nfpcc compiles the same objects
// (nfpcc/), reporting emulated NFP instructions per second of wall-clock
// and of CPU time, and allocations per packet.
func BenchmarkJITCorpus(b *testing.B) {
	dir := testsuite.Corpus(b, "nfp-jit")
	cb, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		b.Fatal(err)
	}
	var cases map[string]map[string]jitCase
	if err := json.Unmarshal(cb, &cases); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"xdp-quic-lb", "xdp-alaw2ulaw"} {
		pkt, _ := nfp.ParsePacketHex(cases[name]["k_first"].Packet)
		b.Run("jit/"+name, func(b *testing.B) {
			prog := loadDump(&testing.T{}, filepath.Join(dir, "programs", name+".asm"))
			benchPackets(b, prog, nil, pkt)
		})
		b.Run("nfpcc/"+name, func(b *testing.B) {
			obj, err := loader.Load(filepath.Join(dir, "programs", name+".bpf.o"))
			if err != nil {
				b.Fatal(err)
			}
			imgs, _, err := compiler.Compile(obj, compiler.Options{DefaultXDP: true, MCPU: "emulator"})
			if err != nil {
				b.Fatal(err)
			}
			prog, err := nfp.LoadImage(imgs[0])
			if err != nil {
				b.Fatal(err)
			}
			maps, err := nfp.MapsFor(imgs[0])
			if err != nil {
				b.Fatal(err)
			}
			benchPackets(b, prog, maps, pkt)
		})
	}
}

func benchPackets(b *testing.B, prog *nfp.Program, maps []emulator.Map, pkt []byte) {
	fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: maps})
	if err != nil {
		b.Fatal(err)
	}
	var res nfp.PacketResult
	if err := fw.RunPacketInto(pkt, &res); err != nil { // warm: result storage
		b.Fatal(err)
	}
	var insns uint64
	b.ReportAllocs()
	b.ResetTimer()
	cpu := nfp.CPUTime()
	for i := 0; i < b.N; i++ {
		if err := fw.RunPacketInto(pkt, &res); err != nil {
			b.Fatal(err)
		}
		insns += res.Instructions
	}
	b.ReportMetric(float64(insns)/b.Elapsed().Seconds(), "insns/s")
	if d := nfp.CPUTime() - cpu; d > 0 {
		b.ReportMetric(float64(insns)/d.Seconds(), "insns/cpu-s")
	}
	b.ReportMetric(float64(res.Instructions), "insns/pkt")
}
