package main

// The NFP side of `nfpcc run`: run.go (the host interpreter's side) hands
// over when the program file is an NFP image (ELF with e_machine EM_NFP):
//
//	if isNFPFile(path) { return runNFP(args, stdout, stderr) }
//
// runNFP takes the same arguments as `nfpcc run` and prints per packet the
// action and the published model's cycles, then a summary with the
// throughput projection.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/google/gopacket/pcapgo"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa/image"
)

// isNFPFile reports whether path is an ELF file for the NFP (e_machine 250),
// the files runNFP runs.
func isNFPFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	return bytes.Equal(h[:4], []byte("\x7fELF")) && h[5] == 1 && binary.LittleEndian.Uint16(h[18:]) == image.EMNFP
}

// hexList collects --packet values (repeatable, or several words after one).
type hexList []string

func (h *hexList) String() string     { return strings.Join(*h, ",") }
func (h *hexList) Set(s string) error { *h = append(*h, s); return nil }

// nfpRunJSON is the --json output.
type nfpRunJSON struct {
	Program string          `json:"program"`
	Packets []nfpPacketJSON `json:"packets"`
	Summary nfpSummaryJSON  `json:"summary"`
	Maps    *emulator.State `json:"maps,omitempty"`
}

type nfpPacketJSON struct {
	Index int `json:"index"`
	*nfp.PacketResult
	Packet string `json:"packet,omitempty"` // hex, when the program changed it
}

type nfpSummaryJSON struct {
	Packets    int                     `json:"packets"`
	Actions    map[string]*nfp.Counter `json:"actions"`
	Stats      map[string]*nfp.Counter `json:"stats"`
	MeanCycles float64                 `json:"mean_cycles"`
	MaxCycles  int64                   `json:"max_cycles"`
	Projection nfp.Projection          `json:"projection"`
}

// runNFP implements `nfpcc run PROG.nfp (--pcap IN.pcap | --packet HEX...)
// [--maps STATE.json] [--json] [--trace]` for NFP images.
func runNFP(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pcapPath := fs.String("pcap", "", "read packets from a pcap file")
	var packets hexList
	fs.Var(&packets, "packet", "a packet as hex (repeatable; `..` bytes read as 0)")
	mapsPath := fs.String("maps", "", "initial map state (JSON)")
	asJSON := fs.Bool("json", false, "print JSON")
	trace := fs.Bool("trace", false, "print every executed NFP instruction")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nfpcc run PROG.nfp (--pcap IN.pcap | --packet HEX...) [--maps STATE.json] [--json] [--trace]")
		fs.PrintDefaults()
	}
	// The program may come before the flags.
	var prog string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		prog, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if prog == "" && len(rest) > 0 {
		prog, rest = rest[0], rest[1:]
	}
	// Extra words after --packet are more packets.
	if len(packets) > 0 {
		packets = append(packets, rest...)
		rest = nil
	}
	if prog == "" || len(rest) > 0 || (*pcapPath == "") == (len(packets) == 0) {
		fs.Usage()
		return 2
	}
	errf := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "nfpcc run: "+format+"\n", a...)
		return 2
	}

	data, err := os.ReadFile(prog)
	if err != nil {
		return errf("%v", err)
	}
	img, err := image.Unmarshal(data)
	if err != nil {
		return errf("%s: %v", prog, err)
	}
	p, err := nfp.LoadImage(img)
	if err != nil {
		return errf("%s: %v", prog, err)
	}
	maps, err := nfp.MapsFor(img)
	if err != nil {
		return errf("%s: %v", prog, err)
	}
	if *mapsPath != "" {
		b, err := os.ReadFile(*mapsPath)
		if err != nil {
			return errf("%v", err)
		}
		st, err := emulator.ParseState(b)
		if err != nil {
			return errf("%s: %v", *mapsPath, err)
		}
		if err := st.Apply(maps); err != nil {
			return errf("%s: %v", *mapsPath, err)
		}
	}
	frames, err := nfpFrames(*pcapPath, packets)
	if err != nil {
		return errf("%v", err)
	}
	fw, err := nfp.NewFirmware(p, nfp.Options{Maps: maps, Trace: *trace})
	if err != nil {
		return errf("%s: %v", prog, err)
	}

	out := nfpRunJSON{Program: prog, Packets: []nfpPacketJSON{}}
	var sum float64
	for i, fr := range frames {
		r, err := fw.RunPacket(fr)
		if err != nil {
			fmt.Fprintf(stderr, "nfpcc run: %s: packet %d: %v\n", prog, i+1, err)
			return 1
		}
		pj := nfpPacketJSON{Index: i + 1, PacketResult: r}
		if !bytes.Equal(r.Packet, fr) {
			pj.Packet = hex.EncodeToString(r.Packet)
		}
		out.Packets = append(out.Packets, pj)
		sum += float64(r.Cycles)
		if r.Cycles > out.Summary.MaxCycles {
			out.Summary.MaxCycles = r.Cycles
		}
		out.Summary.Projection.DRAMCycles += r.DRAMCycles
	}
	n := len(frames)
	out.Summary.Packets = n
	out.Summary.Actions, out.Summary.Stats = fw.Actions, fw.Stats
	if n > 0 {
		out.Summary.MeanCycles = sum / float64(n)
		out.Summary.Projection = nfp.Project(out.Summary.MeanCycles, out.Summary.Projection.DRAMCycles/float64(n))
	}
	if len(maps) > 0 {
		out.Maps = fw.MapState()
	}

	if *asJSON {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return errf("%v", err)
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	for _, pj := range out.Packets {
		r := pj.PacketResult
		fmt.Fprintf(stdout, "packet %d: %s r0=%d cycles=%d dram=%.2f insns=%d\n", pj.Index, r.Action, int64(r.Return), r.Cycles, r.DRAMCycles, r.Instructions)
		if pj.Packet != "" {
			fmt.Fprintf(stdout, "  packet out: %s\n", pj.Packet)
		}
		for _, s := range r.Trace {
			fmt.Fprintf(stdout, "  .%-5d %s\n", s.PC, s.Text)
		}
	}
	s := out.Summary
	fmt.Fprintf(stdout, "summary: %d packets", s.Packets)
	for _, name := range sortedKeys(s.Actions) {
		fmt.Fprintf(stdout, ", %s %d (%d bytes)", name, s.Actions[name].Packets, s.Actions[name].Bytes)
	}
	fmt.Fprintln(stdout)
	if n > 0 {
		pr := s.Projection
		fmt.Fprintf(stdout, "cycles/packet: mean %.1f, max %d (published model, incl. %d firmware cycles); DRAM %.2f\n",
			s.MeanCycles, s.MaxCycles, nfp.FirmwareCycles, pr.DRAMCycles)
		dram := "unbounded"
		if pr.DRAMPPS > 0 {
			dram = fmt.Sprintf("%.2f Mpps", pr.DRAMPPS/1e6)
		}
		fmt.Fprintf(stdout, "throughput: %.3f Mpps per core; %d cores %.2f Mpps; DRAM %s; MAC %.1f Mpps => %.2f Mpps (%s-bound)\n",
			pr.PerCorePPS/1e6, nfp.CardCores, pr.CardCoresPPS/1e6, dram, pr.MACPPS/1e6, pr.PPS/1e6, pr.Bound)
	}
	if out.Maps != nil {
		b, _ := out.Maps.Marshal()
		fmt.Fprintf(stdout, "maps: %s", b)
	}
	return 0
}

func sortedKeys(m map[string]*nfp.Counter) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// nfpFrames reads the packets: from a pcap file, or hex strings where
// `..` stands for a byte of any value (read as 0).
func nfpFrames(pcapPath string, packets []string) ([][]byte, error) {
	if pcapPath != "" {
		f, err := os.Open(pcapPath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, err := pcapgo.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", pcapPath, err)
		}
		var out [][]byte
		for {
			data, _, err := r.ReadPacketData()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("%s: packet %d: %v", pcapPath, len(out)+1, err)
			}
			out = append(out, data)
		}
	}
	var out [][]byte
	for i, p := range packets {
		b, err := nfp.ParsePacketHex(p)
		if err != nil {
			return nil, fmt.Errorf("--packet %d: %v", i+1, err)
		}
		out = append(out, b)
	}
	return out, nil
}
