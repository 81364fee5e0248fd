package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/emulator/pcap"
)

// What `nfpcc run` shares between its two engines (run.go: the eBPF
// interpreter; run_nfp.go: the NFP emulator): packets in, map state in,
// packets out. Both take the same arguments and so read them one way.

// packetList is the repeatable --packet flag: hex strings.
type packetList []string

func (h *packetList) String() string     { return strings.Join(*h, " ") }
func (h *packetList) Set(s string) error { *h = append(*h, s); return nil }

// inputPacket is one frame to run, with its capture timestamp.
type inputPacket struct {
	data []byte
	ts   time.Time // zero for --packet
}

// readInputs reads the packets of a run: a pcap(ng) file, or hex strings
// (`..` stands for a byte the program does not care about, read as 0, as in
// the nfp-jit corpus's example packets). Exactly one of the two is given.
func readInputs(pcapPath string, packets []string) ([]inputPacket, error) {
	if (pcapPath == "") == (len(packets) == 0) {
		return nil, errors.New("give packets with either --pcap FILE or --packet HEX (exactly one of them)")
	}
	if pcapPath != "" {
		return readPcap(pcapPath)
	}
	var out []inputPacket
	for i, h := range packets {
		b, err := nfp.ParsePacketHex(strings.NewReplacer(":", "", "\n", "", "\t", "").Replace(h))
		if err != nil {
			return nil, fmt.Errorf("--packet #%d: %v", i+1, err)
		}
		out = append(out, inputPacket{data: b})
	}
	return out, nil
}

// readPcap reads every frame of a pcap or pcapng file (emulator/pcap:
// a capture cut short or corrupt is an error, not fewer packets). Frames
// must be Ethernet, as XDP and tc programs see them.
func readPcap(path string) ([]inputPacket, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ps, err := pcap.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	out := make([]inputPacket, 0, len(ps))
	for i, p := range ps {
		if p.LinkType != pcap.LinkEthernet {
			return nil, fmt.Errorf("%s: packet %d: link type %d: XDP and tc programs run on Ethernet frames (link type %d)", path, i+1, p.LinkType, pcap.LinkEthernet)
		}
		out = append(out, inputPacket{data: p.Data, ts: p.Timestamp})
	}
	return out, nil
}

// applyMapState loads a --maps file into the maps of a run; "" is no file.
// The file is a map state (--save-maps) or a whole `run --json` report,
// whose "maps" member has the same form: a report's other members are
// ignored, so that one run's output starts the next.
//
// With types (an object's BTF), entries may give keys and values as C sees
// them instead of hex (typedState).
func applyMapState(path string, maps []emulator.Map, types map[string]mapBTF) error {
	if path == "" {
		return nil
	}
	data, err := readInput(path)
	if err != nil {
		return err
	}
	if data, err = typedState(data, types); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	st, err := emulator.ParseState(data)
	if err != nil {
		var report struct {
			Maps    json.RawMessage `json:"maps"`
			Program string          `json:"program"`
			Packets json.RawMessage `json:"packets"`
		}
		if json.Unmarshal(data, &report) == nil && report.Program != "" && report.Packets != nil && report.Maps != nil {
			st, err = emulator.ParseState([]byte(`{"maps": ` + string(report.Maps) + `}`))
		}
	}
	if err == nil {
		err = st.Apply(maps)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// finishOutputs writes the files a run ends with, the same on both
// engines: --save-maps (the map state) and --out (the packets that left).
func finishOutputs(o *runOptions, snap *emulator.State, out *pcapOut, stdout io.Writer) error {
	if o.mapsOut != "" {
		b, err := snap.Marshal()
		if err == nil {
			err = writeOutput(o.mapsOut, b, stdout)
		}
		if err != nil {
			return fmt.Errorf("--save-maps: %v", err)
		}
	}
	return out.close(stdout)
}

// pcapOut is the --out file: the frames that leave the program, written
// atomically when the run ends.
type pcapOut struct {
	path string
	buf  bytes.Buffer
	w    *pcap.Writer
}

// createPcapOut starts --out; "" gives a writer that drops everything.
func createPcapOut(path string) (*pcapOut, error) {
	o := &pcapOut{path: path}
	if path == "" {
		return o, nil
	}
	w, err := pcap.NewWriter(&o.buf, pcap.LinkEthernet, 65536)
	if err != nil {
		return nil, err
	}
	o.w = w
	return o, nil
}

func (o *pcapOut) write(ts time.Time, frame []byte) error {
	if o.w == nil {
		return nil
	}
	return o.w.Write(ts, frame, len(frame))
}

// close writes the file; a failed write is an error (a silently truncated
// pcap would look like a program that dropped packets).
func (o *pcapOut) close(stdout io.Writer) error {
	if o.w == nil {
		return nil
	}
	if err := writeOutput(o.path, o.buf.Bytes(), stdout); err != nil {
		return fmt.Errorf("%s: %v", o.path, err)
	}
	return nil
}

// The text report's common parts, the same for both engines.

// printPacketChange prints, for a packet the program changed, its new
// bytes with the changed ones marked and its decoded summary before and
// after (describeFrame).
func printPacketChange(w io.Writer, before, after []byte) {
	if bytes.Equal(before, after) {
		return
	}
	const lead = "  packet now %d bytes: "
	prefix := fmt.Sprintf(lead, len(after))
	fmt.Fprintf(w, "%s%x\n", prefix, after)
	if m := changedMarks(before, after); m != "" {
		fmt.Fprintf(w, "%*s%s\n", len(prefix), "", m)
	}
	fmt.Fprintf(w, "  was: %s\n  now: %s\n", describeFrame(before), describeFrame(after))
}

// printCounts prints "N packets: ACTION n …" (actions sorted); extra adds
// a note after an action's count.
func printCounts(w io.Writer, runs int, counts map[string]int, extra func(action string) string) {
	actions := make([]string, 0, len(counts))
	for a := range counts {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	fmt.Fprintf(w, "%d packets:", runs)
	for _, a := range actions {
		fmt.Fprintf(w, " %s %d%s", a, counts[a], extra(a))
	}
	fmt.Fprintln(w)
}

// printMaps prints every map's entries after the run, maps by name: key
// and value in hex, and where types has the map's BTF, as C sees them.
func printMaps(w io.Writer, maps map[string][]emulator.StateEntry, types map[string]mapBTF) {
	names := make([]string, 0, len(maps))
	for n := range maps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "map %s: %d entries\n", n, len(maps[n]))
		for _, e := range maps[n] {
			if e.Inner != nil {
				fmt.Fprintf(w, "  %s: map of %d entries\n", e.Key, len(*e.Inner))
				continue
			}
			fmt.Fprintf(w, "  %s: %s\n", e.Key, e.Value)
			if t, ok := types[n]; ok {
				if s := typedEntry(t, e.Key, e.Value); s != "" {
					fmt.Fprintf(w, "    = %s\n", s)
				}
			}
		}
	}
}
