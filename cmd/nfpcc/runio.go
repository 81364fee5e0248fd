package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/nfp"
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
	ts   time.Time
	ci   gopacket.CaptureInfo
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
		out = append(out, inputPacket{data: b, ci: gopacket.CaptureInfo{CaptureLength: len(b), Length: len(b)}})
	}
	return out, nil
}

// readPcap reads every frame of a pcap or pcapng file.
func readPcap(path string) ([]inputPacket, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var src source
	if r, err := pcapgo.NewReader(bytes.NewReader(data)); err == nil {
		src = r
	} else if ng, ngErr := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions); ngErr == nil {
		src = ng
	} else {
		return nil, fmt.Errorf("%s: not a pcap or pcapng file (%v)", path, err)
	}
	var out []inputPacket
	for {
		b, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: packet %d: %v", path, len(out)+1, err)
		}
		out = append(out, inputPacket{data: append([]byte(nil), b...), ts: ci.Timestamp, ci: ci})
	}
	return out, nil
}

// applyMapState loads a --maps file into the maps of a run; "" is no file.
func applyMapState(path string, maps []emulator.Map) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	st, err := emulator.ParseState(data)
	if err == nil {
		err = st.Apply(maps)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// pcapOut is the --out file: the frames that leave the program.
type pcapOut struct {
	path string
	f    *os.File
	w    *pcapgo.Writer
}

// createPcapOut opens --out; "" gives a writer that drops everything.
func createPcapOut(path string) (*pcapOut, error) {
	if path == "" {
		return &pcapOut{}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &pcapOut{path: path, f: f, w: w}, nil
}

func (o *pcapOut) write(ci gopacket.CaptureInfo, frame []byte) error {
	if o.w == nil {
		return nil
	}
	ci.CaptureLength, ci.Length = len(frame), len(frame)
	if err := o.w.WritePacket(ci, frame); err != nil {
		return fmt.Errorf("%s: %v", o.path, err)
	}
	return nil
}

// close reports a failed final write: a silently truncated pcap would
// look like a program that dropped packets.
func (o *pcapOut) close() error {
	if o.f == nil {
		return nil
	}
	if err := o.f.Close(); err != nil {
		return fmt.Errorf("%s: %v", o.path, err)
	}
	return nil
}
