package main

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/testsuite"
)

var updateRunGoldens = flag.Bool("update-run", false, "rewrite the expected sections of testdata/run/*.txtar")

// TestRunGolden runs `nfpcc run` as described by each testdata/run/*.txtar
// archive:
//
//	-- args --        the command line (one argument per line); $CORPORA
//	                  is the test corpora, $WORK a scratch directory
//	-- in.pcap.hex -- (optional) frames, one hex line each, written to
//	                  $WORK/in.pcap one second apart
//	-- maps.json --   (optional) written to $WORK/maps.json
//	-- garbage.pcap -- (optional) written to $WORK/garbage.pcap as is
//	-- stdout --, -- stderr --, -- exit --   what must come out
//	-- out.pcap.hex -- (optional) the frames $WORK/out.pcap must hold
//	-- saved.json --  (optional) what $WORK/saved.json must hold
//
// With -update-run the expected sections are rewritten from the output.
func TestRunGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/run/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sec := map[string]string{}
			for _, f := range ar.Files {
				sec[f.Name] = string(f.Data)
			}
			work := t.TempDir()
			corpora := ""
			if strings.Contains(sec["args"], "$CORPORA") {
				corpora = filepath.Dir(testsuite.Corpus(t, "ebpf-samples"))
			}
			if h, ok := sec["in.pcap.hex"]; ok {
				writePcap(t, filepath.Join(work, "in.pcap"), h)
			}
			for _, name := range []string{"maps.json", "garbage.pcap"} {
				if d, ok := sec[name]; ok {
					if err := os.WriteFile(filepath.Join(work, name), []byte(d), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var args []string
			for _, a := range strings.Split(strings.TrimSpace(sec["args"]), "\n") {
				a = strings.ReplaceAll(a, "$CORPORA", corpora)
				args = append(args, strings.ReplaceAll(a, "$WORK", work))
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
			got := map[string]string{"stdout": clean(stdout), "stderr": clean(stderr), "exit": fmt.Sprintf("%d\n", code)}
			if _, ok := sec["out.pcap.hex"]; ok {
				got["out.pcap.hex"] = readPcapHex(t, filepath.Join(work, "out.pcap"))
			}
			if _, ok := sec["saved.json"]; ok {
				b, err := os.ReadFile(filepath.Join(work, "saved.json"))
				if err != nil {
					b = []byte("error: " + err.Error() + "\n")
				}
				got["saved.json"] = string(b)
			}
			if *updateRunGoldens || *update {
				for i, f := range ar.Files {
					if g, ok := got[f.Name]; ok {
						ar.Files[i].Data = []byte(g)
						delete(got, f.Name)
					}
				}
				for _, name := range []string{"stdout", "stderr", "exit"} {
					if g, ok := got[name]; ok && g != "" {
						ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(g)})
					}
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for name, g := range got {
				want, ok := sec[name]
				if !ok && g == "" {
					continue
				}
				if g != want {
					t.Errorf("%s differs (run with -update-run to accept)\n--- got\n%s--- want\n%s", name, g, want)
				}
			}
		})
	}
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
