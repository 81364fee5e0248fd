package diff

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/testsuite"
)

// TestQualityVsJIT compiles the nfp-jit corpus programs and compares with
// the Linux JIT's figures (summary.csv, cases.json): body words, and model
// cycles on the example packets. It logs the table; it fails only when a
// program stops compiling or a packet fails to run (the figures are the
// goal, not a pass criterion).
func TestQualityVsJIT(t *testing.T) {
	dir := testsuite.Corpus(t, "nfp-jit")
	f, err := os.Open(filepath.Join(dir, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	cb, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]map[string]struct {
		Packet      string `json:"packet_pattern_hex"`
		ModelCycles int64  `json:"model_cycles_incl_fw224"`
	}
	if err := json.Unmarshal(cb, &cases); err != nil {
		t.Fatal(err)
	}
	var lines []string
	lines = append(lines, fmt.Sprintf("%-18s %9s %9s %6s   %-36s %-36s", "program", "JIT body", "nfpcc", "ratio", "k_first cycles JIT→us", "i_first cycles JIT→us"))
	var sumJ, sumN int
	for _, r := range rows[1:] {
		name := r[col["program"]]
		jitBody, _ := strconv.Atoi(r[col["nfp_body_words"]])
		obj, err := loader.Load(filepath.Join(dir, "programs", name+".bpf.o"))
		if err != nil {
			t.Fatal(err)
		}
		imgs, rep, err := compiler.Compile(obj, compiler.Options{DefaultXDP: true})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		body := rep.Programs[0].Stats.BodyWords
		sumJ += jitBody
		sumN += body
		prog, err := nfp.LoadImage(imgs[0])
		if err != nil {
			t.Fatal(err)
		}
		cyc := map[string]string{}
		kinds := []string{"k_first", "i_first"}
		sort.Strings(kinds)
		for _, kind := range kinds {
			c := cases[name][kind]
			pkt, err := nfp.ParsePacketHex(c.Packet)
			if err != nil {
				t.Fatal(err)
			}
			maps, err := nfp.MapsFor(imgs[0])
			if err != nil {
				t.Fatal(err)
			}
			fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: maps})
			if err != nil {
				t.Fatal(err)
			}
			res, err := fw.RunPacket(pkt)
			if err != nil {
				t.Errorf("%s %s: %v", name, kind, err)
				continue
			}
			cyc[kind] = fmt.Sprintf("%d→%d (%.2f)", c.ModelCycles, res.Cycles, float64(res.Cycles)/float64(c.ModelCycles))
			if res.HelperCalls > 0 {
				// count-min's JIT inlines its ARRAY lookups; a firmware
				// call costs more than the model says.
				cyc[kind] += fmt.Sprintf(" +%d helper calls", res.HelperCalls)
			}
		}
		lines = append(lines, fmt.Sprintf("%-18s %9d %9d %6.2f   %-36s %-36s", name, jitBody, body, float64(body)/float64(jitBody), cyc["k_first"], cyc["i_first"]))
	}
	lines = append(lines, fmt.Sprintf("%-18s %9d %9d %6.2f", "total", sumJ, sumN, float64(sumN)/float64(sumJ)))
	t.Log("NFP code vs the Linux JIT (body words; model cycles incl. 224 firmware cycles, helper calls not counted):\n" + strings.Join(lines, "\n"))
}
