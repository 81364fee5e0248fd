package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/testsuite"
)

// passNFP writes nfp-isa.md §8.1's `r0 = 2; exit` image as a .nfp file.
func passNFP(t *testing.T) string {
	t.Helper()
	pre := []uint64{
		0x0f003f05bff, 0x0b441605a20, 0x2f0000c0800, 0x2f0000c0001,
		0x1dea6008038, 0x1dea6208038, 0x0a0000c0000, 0x0c10c048a00,
		0x0aab0000303, 0x0d801408125, 0x0f002200b82, 0x0f444400b11,
		0x081d0100200, 0x0aa300c0001, 0x094002409ff, 0x1dea6208038,
		0x0a0000c0000, 0x0c10c000a00,
	}
	img := &image.Image{Program: image.Program{Name: "pass", Type: image.ProgXDP}}
	for _, w := range pre {
		img.Code = append(img.Code, uint64(isa.WithECC(w)))
	}
	for i := 0; i < 8; i++ {
		img.Code = append(img.Code, uint64(isa.WithECC(0x0f0000c0300)))
	}
	img.Relocs = []image.Reloc{
		{Index: 4, Kind: image.RelocBrGoOut, Value: 8},
		{Index: 5, Kind: image.RelocBrNextPkt},
		{Index: 9, Kind: image.RelocBrRel},
		{Index: 15, Kind: image.RelocBrNextPkt},
	}
	b, err := img.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pass.nfp")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunNFP(t *testing.T) {
	path := passNFP(t)
	if !isNFPFile(path) {
		t.Fatalf("isNFPFile(%s) = false", path)
	}
	pkt := strings.Repeat("00", 60)
	var out, errb bytes.Buffer
	// Through `nfpcc run`, which hands NFP images over to runNFP.
	if code := Main([]string{"run", path, "--packet", pkt, "ff" + pkt[2:]}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"program pass (xdp) in ",
		"packet 1: XDP_PASS (return 2, 15 instructions, 232 cycles)",
		"packet 2: XDP_PASS (return 2, 15 instructions, 232 cycles)",
		"2 packets: XDP_PASS 2 (120 bytes)",
		"=> 54.40 Mpps (mac-bound)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := runMain([]string{path, "--json", "--packet", pkt}, &out, &errb); code != 0 {
		t.Fatalf("--json exit %d: %s", code, errb.String())
	}
	var j struct {
		Packets []struct {
			Action string `json:"action"`
			Cycles int64  `json:"cycles"`
		} `json:"packets"`
		Summary struct {
			Projection struct {
				PerCorePPS float64 `json:"per_core_pps"`
			} `json:"projection"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(j.Packets) != 1 || j.Packets[0].Action != "XDP_PASS" || j.Packets[0].Cycles != 232 || j.Summary.Projection.PerCorePPS != 800e6/232 {
		t.Errorf("json: %+v", j)
	}
	// Usage errors.
	if code := runMain([]string{path}, &out, &errb); code != 2 {
		t.Errorf("no packets: exit %d, want 2", code)
	}
	if code := runMain([]string{path, "--packet", "zz"}, &out, &errb); code != 2 {
		t.Errorf("bad hex: exit %d, want 2", code)
	}
}

// TestRunNFPJITDump runs a real JIT dump with its object's maps: the
// published model's cycles come out of `nfpcc run`.
func TestRunNFPJITDump(t *testing.T) {
	dir := testsuite.Corpus(t, "nfp-jit")
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases map[string]map[string]struct {
		Packet string `json:"packet_pattern_hex"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(dir, "programs", "xdp-count-min.3.asm")
	obj := filepath.Join(dir, "programs", "xdp-count-min.3.bpf.o")
	if !isNFPFile(dump) || isNFPFile(obj) || !isBPFObject(obj) {
		t.Fatalf("file kinds: dump %v obj %v", isNFPFile(dump), isNFPFile(obj))
	}
	pkt := cases["xdp-count-min.3"]["k_first"].Packet
	var out, errb bytes.Buffer
	if code := Main([]string{"run", dump, obj, "--packet", pkt, pkt}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"packet 1: XDP_DROP (return 1, 520 instructions, 757 cycles)",
		"packet 2: XDP_DROP (return 1, 520 instructions, 757 cycles)",
		"cycles/packet: mean 757.0, max 757",
		"DRAM 9.66",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunNFPPcapDeterministic reads packets from a pcap file, writes the
// leaving ones with --out, and gives byte-identical JSON on a second run.
func TestRunNFPPcapDeterministic(t *testing.T) {
	path := passNFP(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		pkt := bytes.Repeat([]byte{byte(i)}, 60+i)
		if err := w.WritePacket(gopacket.CaptureInfo{CaptureLength: len(pkt), Length: len(pkt)}, pkt); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	var runs [2]string
	for i := range runs {
		var out, errb bytes.Buffer
		outPcap := filepath.Join(dir, "out.pcap")
		if code := Main([]string{"run", path, "--pcap", in, "--json", "--out", outPcap}, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		runs[i] = out.String()
		st, err := os.Stat(outPcap)
		if err != nil || st.Size() < 24+3*(16+60) {
			t.Errorf("--out: %v, %d bytes", err, st.Size())
		}
	}
	if runs[0] != runs[1] {
		t.Errorf("two runs differ:\n%s\n%s", runs[0], runs[1])
	}
	if !strings.Contains(runs[0], `"XDP_PASS": 3`) {
		t.Errorf("counts: %s", runs[0])
	}
}
