package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/nfpcc/nfpcc/testsuite"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// TestRunGolden runs `nfpcc run` as described by each testdata/run/*.txtar
// archive:
//
//	-- args --        the command line (one argument per line); $CORPORA
//	                  is the test corpora, $WORK a scratch directory
//	-- in.pcap.hex -- (optional) frames, one hex line each, written to
//	                  $WORK/in.pcap one second apart
//	-- maps.json --   (optional) written to $WORK/maps.json
//	-- garbage.pcap -- (optional) written to $WORK/garbage.pcap as is
//	-- stdout --, -- stderr --, -- exit --   what must come out (a missing
//	                  section is empty output)
//	-- out.pcap.hex -- (optional) the frames $WORK/out.pcap must hold
//	-- saved.json --  (optional) what $WORK/saved.json must hold
//
// With -update the expected sections are rewritten from the output.
func TestRunGolden(t *testing.T) {
	golden.Run(t, "testdata/run/*.txtar", func(t *testing.T, a *golden.Archive) {
		work := t.TempDir()
		corpora := ""
		if strings.Contains(a.Section("args"), "$CORPORA") {
			corpora = filepath.Dir(testsuite.Corpus(t, "ebpf-samples"))
		}
		if h, ok := a.Lookup("in.pcap.hex"); ok {
			writePcap(t, filepath.Join(work, "in.pcap"), h)
		}
		for _, name := range []string{"maps.json", "garbage.pcap"} {
			if d, ok := a.Lookup(name); ok {
				if err := os.WriteFile(filepath.Join(work, name), []byte(d), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		var args []string
		for _, arg := range strings.Split(strings.TrimSpace(a.Section("args")), "\n") {
			arg = strings.ReplaceAll(arg, "$CORPORA", corpora)
			args = append(args, strings.ReplaceAll(arg, "$WORK", work))
		}
		code, stdout, stderr := nfpcc(args...)
		// Paths differ from machine to machine; goldens show the variables.
		clean := func(s string) string {
			s = strings.ReplaceAll(s, work, "$WORK")
			if corpora != "" {
				s = strings.ReplaceAll(s, corpora, "$CORPORA")
			}
			return s
		}
		a.Check(t, "stdout", clean(stdout))
		a.Check(t, "stderr", clean(stderr))
		a.Check(t, "exit", fmt.Sprintf("%d\n", code))
		if _, ok := a.Lookup("out.pcap.hex"); ok {
			a.Check(t, "out.pcap.hex", readPcapHex(t, filepath.Join(work, "out.pcap")))
		}
		if _, ok := a.Lookup("saved.json"); ok {
			b, err := os.ReadFile(filepath.Join(work, "saved.json"))
			if err != nil {
				b = []byte("error: " + err.Error() + "\n")
			}
			a.Check(t, "saved.json", string(b))
		}
	})
}

func writePcap(t *testing.T, path, hexFrames string) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(hexFrames), "\n") {
		b, err := hex.DecodeString(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("in.pcap.hex line %d: %v", i+1, err)
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(int64(1700000000+i), 0), CaptureLength: len(b), Length: len(b)}
		if err := w.WritePacket(ci, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readPcapHex(t *testing.T, path string) string {
	t.Helper()
	pkts, err := readPcap(path)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, p := range pkts {
		fmt.Fprintf(&b, "%x\n", p.data)
	}
	return b.String()
}
