// Package diff checks nfpcc's NFP backend: its tests compare every program
// that compiles, run as an image on the NFP emulator, with the eBPF
// reference interpreter; Quality compares its code with the Linux JIT's on
// the nfp-jit corpus (for the tests and `nfpcc report`).
package diff

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/passes"
)

// QualityRow is one nfp-jit program: the JIT's body words and model cycles
// on the cases.json packets, and ours.
type QualityRow struct {
	Program         string
	JITWords, Words int
	Kinds           []string // k_first, i_first
	JITCycles       []int64
	Cycles          []int64
	HelperCalls     []int
	// The extended figures (published + firmware helper and DRAM atomic
	// costs, emulator/nfp/helpercost.go): the JIT's dump run on the
	// emulator, and ours.
	JITExtCycles []int64
	ExtCycles    []int64
	// Remarks are the middle end's decisions for the program.
	Remarks []passes.Remark
}

// Quality compiles the programs of the nfp-jit corpus in dir and runs the
// example packets of cases.json on the emulator.
func Quality(dir string) ([]QualityRow, error) { return QualityWith(dir, compiler.Options{}) }

// QualityWith is Quality with compiler options (the level, -d flags):
// nfpcc report's -O0 column and per-pass savings.
func QualityWith(dir string, opts compiler.Options) ([]QualityRow, error) {
	opts.DefaultXDP = true
	if opts.MCPU == "" {
		// count-min's maps exceed CoreNIC's 2,048,000 entries (the
		// artifact's patched JIT put them in DRAM itself): measure the
		// code on nfpcc's firmware model.
		opts.MCPU = "emulator"
	}
	f, err := os.Open(filepath.Join(dir, "summary.csv"))
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("summary.csv: no rows")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	cb, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		return nil, err
	}
	var cases map[string]map[string]struct {
		Packet      string `json:"packet_pattern_hex"`
		ModelCycles int64  `json:"model_cycles_incl_fw224"`
	}
	if err := json.Unmarshal(cb, &cases); err != nil {
		return nil, fmt.Errorf("cases.json: %v", err)
	}
	var out []QualityRow
	for _, r := range rows[1:] {
		name := r[col["program"]]
		jit, _ := strconv.Atoi(r[col["nfp_body_words"]])
		ci, err := loadCorpusImage(dir, name, opts)
		if err != nil {
			return nil, err
		}
		obj, rep := ci.obj, ci.rep
		row := QualityRow{Program: name, JITWords: jit, Words: rep.Programs[0].Stats.BodyWords, Remarks: rep.Programs[0].Remarks}
		dumpPath := filepath.Join(dir, "programs", name+".asm")
		src, err := os.ReadFile(dumpPath)
		if err != nil {
			return nil, err
		}
		dump, err := nfp.LoadDumpText(dumpPath, src)
		if err != nil {
			return nil, err
		}
		for _, kind := range []string{"k_first", "i_first"} {
			c, ok := cases[name][kind]
			if !ok {
				continue
			}
			pkt, err := nfp.ParsePacketHex(c.Packet)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %v", name, kind, err)
			}
			fw, err := ci.firmware()
			if err != nil {
				return nil, err
			}
			res, err := fw.RunPacket(pkt)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %v", name, kind, err)
			}
			row.Kinds = append(row.Kinds, kind)
			row.JITCycles = append(row.JITCycles, c.ModelCycles)
			row.Cycles = append(row.Cycles, res.Cycles)
			row.HelperCalls = append(row.HelperCalls, res.HelperCalls)
			row.ExtCycles = append(row.ExtCycles, res.ExtCycles)

			// The JIT's code, its maps from the object.
			jmaps, _, err := ebpf.NewMaps(obj)
			if err != nil {
				return nil, err
			}
			jfw, err := nfp.NewFirmware(dump, nfp.Options{Maps: jmaps})
			if err != nil {
				return nil, err
			}
			jres, err := jfw.RunPacket(pkt)
			if err != nil {
				return nil, fmt.Errorf("%s %s: the JIT's dump: %v", name, kind, err)
			}
			if jres.Cycles != c.ModelCycles {
				return nil, fmt.Errorf("%s %s: the JIT's dump takes %d cycles on the emulator, cases.json says %d", name, kind, jres.Cycles, c.ModelCycles)
			}
			row.JITExtCycles = append(row.JITExtCycles, jres.ExtCycles)
		}
		out = append(out, row)
	}
	return out, nil
}

// corpusImage is an nfp-jit program compiled by nfpcc, its image loaded
// for the emulator.
type corpusImage struct {
	obj  *loader.Object
	img  *image.Image
	rep  *compiler.Report
	prog *nfp.Program
}

// loadCorpusImage loads programs/NAME.bpf.o of the corpus in dir and
// compiles its program with opts.
func loadCorpusImage(dir, name string, opts compiler.Options) (*corpusImage, error) {
	obj, err := loader.Load(filepath.Join(dir, "programs", name+".bpf.o"))
	if err != nil {
		return nil, err
	}
	imgs, rep, err := compiler.Compile(obj, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	prog, err := nfp.LoadImage(imgs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &corpusImage{obj: obj, img: imgs[0], rep: rep, prog: prog}, nil
}

// firmware is a fresh firmware model running the image, with the maps the
// image declares.
func (c *corpusImage) firmware() (*nfp.Firmware, error) {
	maps, err := nfp.MapsFor(c.img)
	if err != nil {
		return nil, err
	}
	return nfp.NewFirmware(c.prog, nfp.Options{Maps: maps})
}

// QualityTable formats rows as a text table with totals.
func QualityTable(rows []QualityRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %8s %6s %6s   %s\n", "program", "JIT", "nfpcc", "ratio", "model cycles per packet, JIT → nfpcc (ratio), published | extended")
	var sj, sn int
	for _, r := range rows {
		sj += r.JITWords
		sn += r.Words
		fmt.Fprintf(&b, "%-18s %8d %6d %6.2f  ", r.Program, r.JITWords, r.Words, float64(r.Words)/float64(r.JITWords))
		for i, k := range r.Kinds {
			fmt.Fprintf(&b, " %s %d→%d (%.2f)", k, r.JITCycles[i], r.Cycles[i], float64(r.Cycles[i])/float64(r.JITCycles[i]))
			if r.HelperCalls[i] > 0 {
				fmt.Fprintf(&b, " +%d helper calls", r.HelperCalls[i])
			}
			if i < len(r.ExtCycles) {
				fmt.Fprintf(&b, " | %d→%d (%.2f)", r.JITExtCycles[i], r.ExtCycles[i], float64(r.ExtCycles[i])/float64(r.JITExtCycles[i]))
			}
		}
		b.WriteByte('\n')
	}
	if sj > 0 {
		fmt.Fprintf(&b, "%-18s %8d %6d %6.2f\n", "total body words", sj, sn, float64(sn)/float64(sj))
	}
	b.WriteString("(words: program body without outro and padding; cycles: the published model incl. 224 firmware cycles, which does not count firmware helper calls (both compilers inline count-min's ARRAY lookups); extended: + the helpers' cycles estimated from CoreNIC's code and the DRAM work of every atomic, emulator/nfp/helpercost.go)\n")
	return b.String()
}
