package loader

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/testsuite"
)

// tsvRow is one program section of ebpf-samples/sections.tsv.
type tsvRow struct {
	object, section, typ string
	slots, funcs         int
	helpers              map[string]int
	verdict              string
}

func readSections(t *testing.T, dir string) []tsvRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "sections.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []tsvRow
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 12 {
			t.Fatalf("sections.tsv: short row %q", sc.Text())
		}
		r := tsvRow{object: c[0], section: c[4], typ: c[5], verdict: c[11], helpers: map[string]int{}}
		r.slots, _ = strconv.Atoi(c[6])
		r.funcs, _ = strconv.Atoi(c[7])
		for _, h := range strings.Fields(c[9]) {
			name, n, _ := strings.Cut(h, "*")
			r.helpers[name], _ = strconv.Atoi(n)
		}
		rows = append(rows, r)
	}
	return rows
}

// category is the coarse program type sections.tsv uses.
var category = map[ebpf.ProgramType]string{
	ebpf.UnspecifiedProgram: "unspecified(.text/test)",
	ebpf.XDP:                "xdp",
	ebpf.SchedCLS:           "tc",
	ebpf.SchedACT:           "tc",
	ebpf.Kprobe:             "kprobe",
	ebpf.TracePoint:         "tracing",
	ebpf.RawTracepoint:      "tracing",
	ebpf.Tracing:            "tracing",
	ebpf.PerfEvent:          "tracing",
	ebpf.SocketFilter:       "socket_filter",
	ebpf.CGroupSock:         "cgroup",
	ebpf.CGroupSockAddr:     "cgroup",
	ebpf.CGroupSKB:          "cgroup_skb",
	ebpf.SockOps:            "sockops",
}

// typeNotInELF lists sections whose type sections.tsv knows from how the
// object is used, not from anything in the file: iproute2's tc and lwt
// loaders take any section name, suricata's filters are attached as
// socket filters by name, and "bind" is an ebpf-for-windows program type.
// The loader reports these as UnspecifiedProgram.
var typeNotInELF = map[string]bool{
	"linux/lwt_len_hist_kern.o len_hist":                                true,
	"linux/tc_l2_redirect_kern.o l2_to_iptun_ingress_forward":           true,
	"linux/tc_l2_redirect_kern.o l2_to_iptun_ingress_redirect":          true,
	"linux/tc_l2_redirect_kern.o l2_to_ip6tun_ingress_redirect":         true,
	"linux/tc_l2_redirect_kern.o drop_non_tun_vip":                      true,
	"linux/tcbpf1_kern.o redirect_xmit":                                 true,
	"linux/tcbpf1_kern.o redirect_recv":                                 true,
	"linux/tcbpf1_kern.o clone_redirect_xmit":                           true,
	"linux/tcbpf1_kern.o clone_redirect_recv":                           true,
	"linux/test_cgrp2_tc_kern.o filter":                                 true,
	"prototype-kernel/tc_bench01_redirect_kern.o ingress_redirect":      true,
	"suricata/bypass_filter.o filter":                                   true,
	"suricata/filter.o filter":                                          true,
	"suricata/vlan_filter.o filter":                                     true,
	"suricata/lb.o loadbalancer":                                        true,
	"invalid/dac31099c3bb5b6395908c82cc8540e77a6a1849 bind":             true,
	"invalid/timeout-29db93548c671165313b314d4f83a3eefa24df37 bind":     true,
	"invalid/timeout-29db93548c671165313b314d4f83a3eefa24df37 bind/*":   true,
	"invalid/58087ea4ff41695f3186d628a3250b26dc8d237a cgroup/recv_acc*": true,
}

func notInELF(object, section string) bool {
	if typeNotInELF[object+" "+section] {
		return true
	}
	for k := range typeNotInELF {
		if p, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(object+" "+section, p) {
			return true
		}
	}
	return false
}

// helperName turns cilium/ebpf's FnMapLookupElem into the kernel's
// map_lookup_elem, the spelling of sections.tsv.
func helperName(fn asm.BuiltinFunc) string {
	s := strings.TrimPrefix(fn.String(), "Fn")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) {
			prev := rune(s[i-1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// loadedCorpus loads every object of ebpf-samples once per test binary.
func corpusFiles(t *testing.T) (string, []string) {
	dir := testsuite.Corpus(t, "ebpf-samples")
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".md", ".sha256", ".tsv", ".json":
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return dir, files
}

// TestCorpusSections loads every object of ebpf-samples (without recover:
// a panic fails the test binary) and checks each against sections.tsv:
// for every row, the programs of that section, their number, type, size of
// their own code in slots and helper call sites. Objects that fail must
// fail with an *Error that names the object.
func TestCorpusSections(t *testing.T) {
	dir, files := corpusFiles(t)
	rows := readSections(t, dir)
	byObject := map[string][]tsvRow{}
	for _, r := range rows {
		byObject[r.object] = append(byObject[r.object], r)
	}
	loaded, checked, failed := 0, 0, map[string][]string{}
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		obj, err := Load(path)
		if err != nil {
			var le *Error
			if !errors.As(err, &le) || le.Object != filepath.Base(path) || !strings.HasPrefix(err.Error(), "loader: "+filepath.Base(path)+": ") {
				t.Errorf("%s: error is not a clean loader error: %v", rel, err)
			}
			failed[le.Stage] = append(failed[le.Stage], rel+": "+err.Error())
			continue
		}
		loaded++
		expect, ok := byObject[rel]
		if !ok {
			t.Errorf("%s: loaded but not listed in sections.tsv", rel)
			continue
		}
		checkObject(t, rel, obj, expect)
		checked += len(expect)
	}

	t.Logf("ebpf-samples: %d objects: %d loaded, %d failed cleanly; %d sections.tsv rows checked", len(files), loaded, len(files)-loaded, checked)
	if checked == 0 {
		t.Error("no sections.tsv row checked")
	}
	stages := make([]string, 0, len(failed))
	for s := range failed {
		stages = append(stages, s)
	}
	sort.Strings(stages)
	for _, s := range stages {
		for _, e := range failed[s] {
			t.Logf("  failed at %s: %s", s, e)
		}
	}
}

func checkObject(t *testing.T, rel string, obj *Object, rows []tsvRow) {
	t.Helper()
	bySection := map[string][]*Program{}
	for _, p := range obj.Programs {
		bySection[p.Section] = append(bySection[p.Section], p)
	}
	for _, r := range rows {
		progs := bySection[r.section]
		delete(bySection, r.section)
		want := max(r.funcs, 1)
		if len(progs) != want {
			t.Errorf("%s: section %q: %d programs, sections.tsv lists %d functions", rel, r.section, len(progs), want)
			continue
		}
		slots, helpers := 0, map[string]int{}
		for _, p := range progs {
			slots += p.EntrySlots()
			wantType := r.typ
			if notInELF(rel, r.section) {
				wantType = category[ebpf.UnspecifiedProgram]
			}
			if got := category[p.Type]; got != wantType {
				t.Errorf("%s: section %q: program %s has type %v (%s), sections.tsv says %s", rel, r.section, p.Name, p.Type, got, wantType)
			}
			slot := 0
			for _, ins := range p.Insns {
				if slot >= p.EntrySlots() {
					break
				}
				if ins.IsBuiltinCall() {
					helpers[helperName(asm.BuiltinFunc(ins.Constant))]++
				}
				slot += int(ins.Size() / asm.InstructionSize)
			}
		}
		if slots != r.slots {
			t.Errorf("%s: section %q: %d slots, sections.tsv says %d", rel, r.section, slots, r.slots)
		}
		if !sameCounts(helpers, r.helpers) && !strings.HasPrefix(rel, "invalid/") {
			t.Errorf("%s: section %q: helper calls %v, sections.tsv says %v", rel, r.section, helpers, r.helpers)
		}
	}
	for s := range bySection {
		t.Errorf("%s: section %q has programs but no row in sections.tsv", rel, s)
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCorpusInvalid: every file of invalid/ that PREVAIL could not even
// unmarshal (or that the kernel's loader rejects) must fail with a clean
// error. The others are well-formed ELF whose fault is for a verifier to
// find (PREVAIL's verdict is reject, or accept for a corrupted debug
// section the loader does not read): those must load.
func TestCorpusInvalid(t *testing.T) {
	dir, files := corpusFiles(t)
	verdict := map[string]string{}
	for _, r := range readSections(t, dir) {
		verdict[r.object] = r.verdict
	}
	n := 0
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		if !strings.HasPrefix(rel, "invalid/") {
			continue
		}
		n++
		v := verdict[rel]
		mustFail := v == "" || strings.HasPrefix(v, "object-level") || v == "section-not-listed" || v == "reject_load" ||
			// Its only instruction is the first half of an LD_IMM64: nothing
			// to decode, let alone verify.
			rel == "invalid/invalid-lddw.o"
		_, err := Load(path)
		switch {
		case mustFail && err == nil:
			t.Errorf("%s: loaded, but the file is broken (PREVAIL: %s)", rel, v)
		case !mustFail && err != nil:
			t.Errorf("%s: %v (PREVAIL: %s, so the ELF is sound)", rel, err, v)
		case err != nil:
			var le *Error
			if !errors.As(err, &le) {
				t.Errorf("%s: not a *loader.Error: %v", rel, err)
			}
			t.Logf("%s: %v", rel, err)
		default:
			t.Logf("%s: loads (PREVAIL: %s)", rel, v)
		}
	}
	if n == 0 {
		t.Fatal("no files in invalid/")
	}
}

// FuzzLoad mutates corpus objects: whatever the bytes, Load returns an
// object or an *Error, never panics. Run it with a short minimisation
// budget, the seeds are large:
//
//	go test ./compiler/loader -run '^$' -fuzz FuzzLoad -fuzztime 30s -fuzzminimizetime 1x
func FuzzLoad(f *testing.F) {
	dir := testsuite.CorporaDir()
	if dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "ebpf-samples", "*", "*.o"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, err := LoadBytes("fuzz.o", b)
		if err != nil {
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("not a *loader.Error: %v", err)
			}
			return
		}
		for _, p := range obj.Programs {
			_ = p.String()
		}
	})
}
