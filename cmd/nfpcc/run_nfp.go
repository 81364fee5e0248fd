package main

// The NFP side of `nfpcc run`: run.go (the host interpreter's side) hands
// over when the program file is an NFP image (ELF with e_machine EM_NFP):
//
//	if isNFPFile(path) { return runNFP(args, stdout, stderr) }
//
// It also runs Linux JIT dumps (text): `nfpcc run DUMP.asm [PROG.bpf.o]
// --packet …`, the optional object giving the maps the dump uses.
//
// runNFP takes the same arguments as `nfpcc run` and prints per packet the
// action and the published model's cycles, then a summary with the
// throughput projection.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfinterp "github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa/image"
)

// isNFPFile reports whether path is a file runNFP runs: an ELF file for the
// NFP (e_machine 250), or a Linux JIT dump as text (`bpftool prog dump
// jited`: lines "ADDR:\t.N  instruction").
func isNFPFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [64]byte
	n, _ := io.ReadFull(f, h[:])
	if n >= 20 && bytes.Equal(h[:4], []byte("\x7fELF")) {
		return h[5] == 1 && binary.LittleEndian.Uint16(h[18:]) == image.EMNFP
	}
	return nfpDumpFirstLine.Match(bytes.SplitN(h[:n], []byte("\n"), 2)[0])
}

// isBPFObject reports whether path is an eBPF ELF object (e_machine 247).
func isBPFObject(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	return bytes.Equal(h[:4], []byte("\x7fELF")) && binary.LittleEndian.Uint16(h[18:]) == 247
}

// nfpDumpFirstLine is the first line of a JIT dump.
var nfpDumpFirstLine = regexp.MustCompile(`^\s*[0-9a-f]+:\s+\.0\s+\S`)

// loadNFP reads an image, or a JIT dump (assembled by isa/asm; its maps, if
// any, come from the eBPF object objPath).
func loadNFP(path, objPath string) (*nfp.Program, []emulator.Map, string, error) {
	data, err := loader.ReadCapped(path, maxImageInput)
	if err != nil {
		return nil, nil, "", err
	}
	if bytes.HasPrefix(data, []byte("\x7fELF")) {
		img, err := image.Unmarshal(data)
		if err != nil {
			return nil, nil, "", fmt.Errorf("%s: %v", path, err)
		}
		if objPath != "" {
			return nil, nil, "", fmt.Errorf("an eBPF object is for JIT dumps; %s is an image with its own maps", path)
		}
		p, err := nfp.LoadImage(img)
		if err != nil {
			return nil, nil, "", fmt.Errorf("%s: %v", path, err)
		}
		maps, err := nfp.MapsFor(img)
		if err != nil {
			return nil, nil, "", fmt.Errorf("%s: %v", path, err)
		}
		return p, maps, img.Program.Name, nil
	}
	p, err := nfp.LoadDumpText(path, data)
	if err != nil {
		return nil, nil, "", err
	}
	var maps []emulator.Map
	if objPath != "" {
		obj, err := loader.Load(objPath)
		if err != nil {
			return nil, nil, "", err
		}
		if maps, _, err = ebpfinterp.NewMaps(obj); err != nil {
			return nil, nil, "", err
		}
	}
	return p, maps, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), nil
}

// imageLines is the line table of an image file (nil for a dump).
func imageLines(path string) []image.Line {
	data, err := loader.ReadCapped(path, maxImageInput)
	if err != nil || !bytes.HasPrefix(data, []byte("\x7fELF")) {
		return nil
	}
	img, err := image.Unmarshal(data)
	if err != nil {
		return nil
	}
	return img.Lines
}

// nfpRunJSON is the --json output: the interpreter's report shape (object,
// program, hook, packets, counts, maps) plus cycles and the projection.
type nfpRunJSON struct {
	Object  string                           `json:"object"`
	Program string                           `json:"program"`
	Hook    string                           `json:"hook"`
	Packets []nfpPacketJSON                  `json:"packets"`
	Counts  map[string]int                   `json:"counts"`
	Maps    map[string][]emulator.StateEntry `json:"maps"`
	Summary nfpSummaryJSON                   `json:"summary"`
}

type nfpPacketJSON struct {
	Index int `json:"index"`
	*nfp.PacketResult
	Error string `json:"error,omitempty"`
}

type nfpSummaryJSON struct {
	Packets    int                     `json:"packets"`
	Actions    map[string]*nfp.Counter `json:"actions"` // packets and bytes per action
	Stats      map[string]*nfp.Counter `json:"stats"`   // per firmware stat class
	MeanCycles float64                 `json:"mean_cycles"`
	MaxCycles  int64                   `json:"max_cycles"`
	Projection nfp.Projection          `json:"projection"`
	// The extended figure (firmware helper and DRAM atomic costs the
	// published model leaves out; emulator/nfp/helpercost.go).
	ExtMeanCycles float64        `json:"ext_mean_cycles"`
	ExtMaxCycles  int64          `json:"ext_max_cycles"`
	ExtProjection nfp.Projection `json:"ext_projection"`
	ExtPartial    bool           `json:"ext_partial,omitempty"`
}

// runNFP implements `nfpcc run PROG.nfp (--pcap IN.pcap | --packet HEX...)
// [--maps STATE.json] [--json] [--out OUT.pcap] [--trace]` for NFP images:
// the same arguments as the interpreter's run (run.go hands over all of
// them), the same report, plus the published model's cycles per packet and
// the throughput projection.
func runNFP(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", stdout, stderr,
		"nfpcc run PROG.nfp (--pcap IN.pcap | --packet HEX...) [--maps STATE.json] [--json] [--out OUT.pcap] [--trace]",
		"nfpcc run JITDUMP.asm [PROG.bpf.o] (--pcap IN.pcap | --packet HEX...) [...]")
	fs.String("prog", "", "ignored for NFP images (one program per image)")
	pcapIn := fs.String("pcap", "", "read packets from this pcap or pcapng file")
	var packets packetList
	fs.Var(&packets, "packet", "a packet as hex bytes, `..` for a byte read as 0 (repeatable; more hex arguments may follow the image)")
	mapsIn := fs.String("maps", "", "initial map contents (JSON: {\"maps\": {name: [{key, value}]}})")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pcapOut := fs.String("out", "", "write the packets that leave (pass, tx, redirect) to this pcap file")
	trace := fs.Bool("trace", false, "print every executed NFP instruction")
	maxInsns := fs.Uint64("max-insns", nfp.DefaultLimit, "NFP instruction limit per packet")
	seed := fs.Uint64("seed", 1, "seed of the PseudoRndNum CSR (bpf_get_prandom_u32)")
	profile := fs.String("profile", "", "write an HTML profile (per-word executions and model cycles, hottest path, eBPF slot and C line, per-packet cycles) to this file")
	positional, status, err := fs.parse(args)
	if err != nil {
		return status
	}
	errf := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "nfpcc run: "+format+"\n", a...)
		return 2
	}
	if len(positional) == 0 {
		fs.Usage()
		return 2
	}
	prog := positional[0]
	// A JIT dump may be followed by the eBPF object whose maps it uses.
	objPath := ""
	if len(positional) > 1 && isBPFObject(positional[1]) {
		objPath, positional = positional[1], append(positional[:1:1], positional[2:]...)
	}
	if len(positional) > 1 {
		if len(packets) == 0 {
			return errf("unexpected argument %q (packets are given with --packet HEX or --pcap FILE)", positional[1])
		}
		packets = append(packets, positional[1:]...)
	}

	// With --profile an image may be followed by its eBPF object: the
	// page then shows each slot's instruction and C line.
	profObj := ""
	if *profile != "" && objPath != "" && imageLines(prog) != nil {
		profObj, objPath = objPath, ""
	}
	p, maps, progName, err := loadNFP(prog, objPath)
	if err != nil {
		return errf("%v", err)
	}
	if err := applyMapState(*mapsIn, maps); err != nil {
		return errf("%v", err)
	}
	frames, err := readInputs(*pcapIn, packets)
	if err != nil {
		return errf("%v", err)
	}
	fw, err := nfp.NewFirmware(p, nfp.Options{Maps: maps, Trace: *trace, Limit: *maxInsns, Seed: *seed})
	if err != nil {
		return errf("%s: %v", prog, err)
	}
	if *profile != "" {
		fw.Profile = nfp.NewProfile(len(p.Code))
	}
	out, err := createPcapOut(*pcapOut)
	if err != nil {
		return errf("%v", err)
	}

	rep := nfpRunJSON{Object: prog, Program: progName, Hook: fw.Hook.String(), Packets: []nfpPacketJSON{}, Counts: map[string]int{}}
	var sum, dram, xsum, xdram float64
	ok := 0
	for i, fr := range frames {
		r, err := fw.RunPacket(fr.data)
		pj := nfpPacketJSON{Index: i + 1, PacketResult: r}
		if err != nil {
			pj.Error = err.Error()
			rep.Counts["ERROR"]++
			rep.Packets = append(rep.Packets, pj)
			continue
		}
		rep.Counts[r.Action]++
		rep.Packets = append(rep.Packets, pj)
		ok++
		sum += float64(r.Cycles)
		dram += r.DRAMCycles
		if r.Cycles > rep.Summary.MaxCycles {
			rep.Summary.MaxCycles = r.Cycles
		}
		xsum += float64(r.ExtCycles)
		xdram += r.ExtDRAMCycles
		rep.Summary.ExtMaxCycles = max(rep.Summary.ExtMaxCycles, r.ExtCycles)
		rep.Summary.ExtPartial = rep.Summary.ExtPartial || r.ExtPartial
		if nfpLeaves(r.Action) {
			if err := out.write(fr.ts, r.Packet); err != nil {
				return errf("%v", err)
			}
		}
	}
	rep.Summary.Packets = len(frames)
	rep.Summary.Actions, rep.Summary.Stats = fw.Actions, fw.Stats
	if ok > 0 {
		rep.Summary.MeanCycles = sum / float64(ok)
		rep.Summary.Projection = nfp.Project(rep.Summary.MeanCycles, dram/float64(ok))
		rep.Summary.ExtMeanCycles = xsum / float64(ok)
		rep.Summary.ExtProjection = nfp.Project(rep.Summary.ExtMeanCycles, xdram/float64(ok))
	}
	rep.Maps = fw.MapState().Maps
	if err := out.close(stdout); err != nil {
		return errf("%v", err)
	}
	if *profile != "" {
		var slots map[uint32]ebpfSlot
		if profObj != "" {
			if slots, err = ebpfSlots(profObj, progName); err != nil {
				return errf("%v", err)
			}
		}
		if err := writeProfile(*profile, prog, progName, p, imageLines(prog), slots, fw.Profile); err != nil {
			return errf("%v", err)
		}
	}

	if *asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return errf("%v", err)
		}
		stdout.Write(append(b, '\n'))
	} else {
		printNFPReport(stdout, &rep, frames)
	}
	if rep.Counts["ERROR"] > 0 {
		return 1
	}
	return 0
}

// throughput formats a projection: per core, per card, DRAM, MAC, result.
func throughput(pr nfp.Projection) string {
	dram := "unbounded"
	if pr.DRAMPPS > 0 {
		dram = fmt.Sprintf("%.2f Mpps", pr.DRAMPPS/1e6)
	}
	return fmt.Sprintf("%.3f Mpps per core; %d cores %.2f Mpps; DRAM %s; MAC %.1f Mpps => %.2f Mpps (%s-bound)",
		pr.PerCorePPS/1e6, nfp.CardCores, pr.CardCoresPPS/1e6, dram, pr.MACPPS/1e6, pr.PPS/1e6, pr.Bound)
}

// nfpLeaves says whether the firmware sends the packet on.
func nfpLeaves(action string) bool {
	switch action {
	case "XDP_PASS", "XDP_TX", "TC_ACT_OK", "TC_ACT_REDIRECT":
		return true
	}
	return false
}

func printNFPReport(w io.Writer, rep *nfpRunJSON, frames []inputPacket) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "program %s (%s) in %s\n", rep.Program, rep.Hook, rep.Object)
	for i, p := range rep.Packets {
		if p.Error != "" {
			fmt.Fprintf(bw, "packet %d: error: %s\n", p.Index, p.Error)
			continue
		}
		r := p.PacketResult
		ext := ""
		if r.ExtCycles != r.Cycles {
			ext = fmt.Sprintf(", extended %d", r.ExtCycles)
		}
		fmt.Fprintf(bw, "packet %d: %s (return %d, %d instructions, %d cycles%s)\n", p.Index, r.Action, int64(r.Return), r.Instructions, r.Cycles, ext)
		for k, s := range r.Trace {
			fmt.Fprintf(bw, "  .%d: %s", s.PC, s.Text)
			if k < len(r.TraceCycles) {
				fmt.Fprintf(bw, "\t; t=%d", r.TraceCycles[k])
			}
			fmt.Fprintln(bw)
		}
		if !bytes.Equal(r.Packet, frames[i].data) {
			fmt.Fprintf(bw, "  packet now %d bytes: %x\n", len(r.Packet), []byte(r.Packet))
		}
		for _, e := range r.Events {
			fmt.Fprintf(bw, "  event: map %s cpu %d data %x\n", e.Map, e.CPU, []byte(e.Data))
		}
	}
	s := rep.Summary
	fmt.Fprintf(bw, "summary: %d packets", s.Packets)
	for _, name := range sortedKeys(s.Actions) {
		fmt.Fprintf(bw, ", %s %d (%d bytes)", name, s.Actions[name].Packets, s.Actions[name].Bytes)
	}
	if n := rep.Counts["ERROR"]; n > 0 {
		fmt.Fprintf(bw, ", %d errors", n)
	}
	fmt.Fprintln(bw)
	if s.MeanCycles > 0 {
		// The published model's figure, and beside it the extended one.
		note := ""
		if s.ExtPartial {
			note = "; perf_event_output has no derived cost: a lower bound"
		}
		fmt.Fprintf(bw, "cycles/packet: mean %.1f, max %d (published model, incl. %d firmware cycles); DRAM %.2f\n",
			s.MeanCycles, s.MaxCycles, nfp.FirmwareCycles, s.Projection.DRAMCycles)
		fmt.Fprintf(bw, "               mean %.1f, max %d (extended: + firmware helpers, estimated from CoreNIC; DRAM of every atomic%s); DRAM %.2f\n",
			s.ExtMeanCycles, s.ExtMaxCycles, note, s.ExtProjection.DRAMCycles)
		fmt.Fprintf(bw, "throughput: %s (published)\n", throughput(s.Projection))
		fmt.Fprintf(bw, "            %s (extended)\n", throughput(s.ExtProjection))
	}
	names := make([]string, 0, len(rep.Maps))
	for n := range rep.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(bw, "map %s: %d entries\n", n, len(rep.Maps[n]))
		for _, e := range rep.Maps[n] {
			fmt.Fprintf(bw, "  %s: %s\n", e.Key, e.Value)
		}
	}
}

func sortedKeys(m map[string]*nfp.Counter) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
