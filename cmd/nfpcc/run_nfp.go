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
	Runs    int                              `json:"runs"`
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
	Model      nfp.Model               `json:"model"`   // the card the projection assumes
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

// runNFP is `nfpcc run` for NFP images and JIT dumps (run.go parsed the
// flags, the same for both engines): the interpreter's report, plus the
// model's cycles per packet and the throughput projection on o.model.
func runNFP(o *runOptions, positional []string, stdout, stderr io.Writer) int {
	errf := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "nfpcc run: "+format+"\n", a...)
		return 2
	}
	prog := positional[0]
	// A JIT dump may be followed by the eBPF object whose maps it uses.
	objPath := ""
	if len(positional) > 1 && isBPFObject(positional[1]) {
		objPath, positional = positional[1], append(positional[:1:1], positional[2:]...)
	}
	packets := o.packets
	if len(positional) > 1 {
		if len(packets) == 0 {
			return errf("unexpected argument %q (packets are given with --packet HEX or --pcap FILE)", positional[1])
		}
		packets = append(packets, positional[1:]...)
	}

	// With --profile an image may be followed by its eBPF object: the
	// page then shows each slot's instruction and C line.
	profObj := ""
	if o.profile != "" && objPath != "" && imageLines(prog) != nil {
		profObj, objPath = objPath, ""
	}
	p, maps, progName, err := loadNFP(prog, objPath)
	if err != nil {
		return errf("%v", err)
	}
	if o.prog != "" && o.prog != progName {
		return errf("%s: no program %q (the image holds %s)", prog, o.prog, progName)
	}
	if err := applyMapState(o.mapsIn, maps, nil); err != nil {
		return errf("%v", err)
	}
	frames, err := readInputs(o.pcapIn, packets)
	if err != nil {
		return errf("%v", err)
	}
	limit := o.maxInsns
	if limit == 0 {
		limit = nfp.DefaultLimit
	}
	fw, err := nfp.NewFirmware(p, nfp.Options{Maps: maps, Trace: o.trace, Limit: limit, Seed: o.seed})
	if err != nil {
		return errf("%s: %v", prog, err)
	}
	if o.profile != "" {
		fw.Profile = nfp.NewProfile(len(p.Code))
	}
	out, err := createPcapOut(o.pcapOut)
	if err != nil {
		return errf("%v", err)
	}

	rep := nfpRunJSON{Object: prog, Program: progName, Hook: fw.Hook.String(), Packets: []nfpPacketJSON{}, Counts: map[string]int{}}
	var sum, dram, xsum, xdram float64
	ok := 0
	for round := range o.repeat {
		for i, fr := range frames {
			r, err := fw.RunPacket(fr.data)
			pj := nfpPacketJSON{Index: i + 1, PacketResult: r}
			rep.Runs++
			keep := round == 0 && !o.quiet
			if err != nil {
				pj.Error = err.Error()
				rep.Counts["ERROR"]++
				if keep {
					rep.Packets = append(rep.Packets, pj)
				}
				continue
			}
			rep.Counts[r.Action]++
			if keep {
				rep.Packets = append(rep.Packets, pj)
			}
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
	}
	rep.Summary.Packets = rep.Runs
	rep.Summary.Model = o.model
	rep.Summary.Actions, rep.Summary.Stats = fw.Actions, fw.Stats
	if ok > 0 {
		rep.Summary.MeanCycles = sum / float64(ok)
		rep.Summary.Projection = o.model.Project(rep.Summary.MeanCycles, dram/float64(ok))
		rep.Summary.ExtMeanCycles = xsum / float64(ok)
		rep.Summary.ExtProjection = o.model.Project(rep.Summary.ExtMeanCycles, xdram/float64(ok))
	}
	snap := fw.MapState()
	rep.Maps = snap.Maps
	if err := finishOutputs(o, snap, out, stdout); err != nil {
		return errf("%v", err)
	}
	if o.profile != "" {
		var slots map[uint32]ebpfSlot
		if profObj != "" {
			if slots, err = ebpfSlots(profObj, progName); err != nil {
				return errf("%v", err)
			}
		}
		if err := writeProfile(o.profile, prog, progName, p, imageLines(prog), slots, fw.Profile); err != nil {
			return errf("%v", err)
		}
	}

	if o.asJSON {
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
	return fmt.Sprintf("%.3f Mpps per core; cores %.2f Mpps; DRAM %s; MAC %.1f Mpps => %.2f Mpps (%s-bound)",
		pr.PerCorePPS/1e6, pr.CardCoresPPS/1e6, dram, pr.MACPPS/1e6, pr.PPS/1e6, pr.Bound)
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
		printPacketChange(bw, frames[i].data, r.Packet)
		for _, e := range r.Events {
			fmt.Fprintf(bw, "  event: map %s cpu %d data %x\n", e.Map, e.CPU, []byte(e.Data))
		}
	}
	s := rep.Summary
	printCounts(bw, rep.Runs, rep.Counts, func(a string) string {
		if c := s.Actions[a]; c != nil {
			return fmt.Sprintf(" (%d bytes)", c.Bytes)
		}
		return ""
	})
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
		fmt.Fprintf(bw, "throughput on %d cores at %g MHz, MAC %g Mpps (--cores, --clock-mhz, --mac-mpps):\n", s.Model.Cores, s.Model.ClockMHz, s.Model.MACMpps)
		fmt.Fprintf(bw, "            %s (published)\n", throughput(s.Projection))
		fmt.Fprintf(bw, "            %s (extended)\n", throughput(s.ExtProjection))
	}
	printMaps(bw, rep.Maps, nil) // an image carries no BTF
}
