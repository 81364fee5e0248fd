package verifier_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite"
)

// ciliumRow is one line of cilium/verdicts.tsv.
type ciliumRow struct {
	object, section, prog, progType string
	slots, kernelProcessed          int
	kernelRoot, kernelUnpriv        string
}

func readCilium(t testing.TB) (string, []ciliumRow) {
	root := filepath.Dir(testsuite.Corpus(t, "cilium"))
	f, err := os.Open(filepath.Join(root, "cilium", "verdicts.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []ciliumRow
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 8 {
			continue
		}
		slots, _ := strconv.Atoi(c[4])
		kp, _ := strconv.Atoi(c[6])
		rows = append(rows, ciliumRow{object: c[0], section: c[1], prog: c[2], progType: c[3],
			slots: slots, kernelRoot: c[5], kernelProcessed: kp, kernelUnpriv: c[7]})
	}
	return root, rows
}

// opts gives the row's program type (the sections' names do not say it).
func (r ciliumRow) opts() *verifier.Options {
	if r.progType == "xdp" {
		return &verifier.Options{Type: ebpf.XDP, VerdictOnly: true}
	}
	return &verifier.Options{Type: ebpf.SchedCLS, VerdictOnly: true}
}

// ciliumProgram finds a row's program in its object.
func ciliumProgram(obj *loader.Object, r ciliumRow) *loader.Program {
	for _, p := range obj.Programs {
		if p.Name == r.prog && p.Section == r.section {
			return p
		}
	}
	return nil
}

// What TestCilium must keep (the goal is 84 and 84), and a ceiling on the
// instructions processed over the set (694,923 reached; the kernel's
// 2,474,983) that catches a pruning regression no single program shows.
const (
	ciliumAccepted, ciliumWithin = 84, 84
	ciliumMaxProcessed           = 720_000
)

// TestCilium verifies the 84 programs of the cilium corpus with the
// kernel's pruning (Options.VerdictOnly): every one must be accepted (the
// kernel accepts all), and the unprivileged verdicts must equal the
// kernel's. It fails below the floor of programs within 1.5× of the
// kernel's processed instructions already reached, and logs every program
// with its time and allocation (the goal is 100 ms and 200 MB each).
//
//	go test ./compiler/verifier -run TestCilium -v
//
// It skips without the corpora and in -short mode (≈25 s on a loaded
// 2-core machine).
func TestCilium(t *testing.T) {
	if testing.Short() {
		t.Skip("the cilium corpus takes ≈25 s")
	}
	root, rows := readCilium(t)
	objs := map[string]*loader.Object{}
	var accepted, within, slots, unprivSame, processed, kernel int
	var total, slowest time.Duration
	var most uint64
	for _, r := range rows {
		obj := objs[r.object]
		if obj == nil {
			var err error
			if obj, err = loader.Load(filepath.Join(root, r.object)); err != nil {
				t.Fatalf("%s: %v", r.object, err)
			}
			objs[r.object] = obj
		}
		p := ciliumProgram(obj, r)
		if p == nil {
			t.Errorf("%s %s: program not found", r.object, r.prog)
			continue
		}
		uo := r.opts()
		uo.Unprivileged = true
		if _, uerr := verifier.Verify(p, obj.Maps, uo); (uerr == nil) == (r.kernelUnpriv == "accept") {
			unprivSame++
		} else {
			t.Logf("%s/%s: unprivileged: nfpcc %v, kernel %s", r.object, r.prog, uerr, r.kernelUnpriv)
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		start := time.Now()
		res, err := verifier.Verify(p, obj.Maps, r.opts())
		el := time.Since(start)
		runtime.ReadMemStats(&ms1)
		alloc := ms1.TotalAlloc - ms0.TotalAlloc
		total += el
		slots += r.slots
		slowest, most = max(slowest, el), max(most, alloc)
		name := fmt.Sprintf("%s/%s/%s", filepath.Base(r.object), r.section, r.prog)
		if err != nil {
			t.Errorf("%s: rejected (%v, %d MB allocated): %v", name, el.Round(time.Millisecond), alloc>>20, err)
			continue
		}
		accepted++
		processed += res.Processed
		kernel += r.kernelProcessed
		ratio := float64(res.Processed) / float64(r.kernelProcessed)
		if ratio <= 1.5 {
			within++
		}
		t.Logf("%-60s processed %7d kernel %7d (%.2f×) %v, %d MB allocated", name, res.Processed, r.kernelProcessed, ratio,
			el.Round(time.Millisecond), alloc>>20)
		if el > 100*time.Millisecond && !testing.Short() {
			t.Logf("%s: %v over 100 ms", name, el)
		}
	}
	if accepted < ciliumAccepted || within < ciliumWithin {
		t.Errorf("accepted %d (want ≥ %d), %d within 1.5× of the kernel (want ≥ %d)", accepted, ciliumAccepted, within, ciliumWithin)
	}
	if processed > ciliumMaxProcessed {
		t.Errorf("processed %d instructions over the set (want ≤ %d)", processed, ciliumMaxProcessed)
	}
	if unprivSame != len(rows) {
		t.Errorf("unprivileged: %d of %d verdicts equal the kernel's", unprivSame, len(rows))
	}
	t.Logf("unprivileged: %d/%d verdicts equal the kernel's", unprivSame, len(rows))
	t.Logf("accepted %d/%d, %d within 1.5× of the kernel's processed count, %d slots in %v: %.0f slots/s (verify only)",
		accepted, len(rows), within, slots, total.Round(time.Millisecond), float64(slots)/total.Seconds())
	t.Logf("processed %d (kernel %d); slowest program %v, most allocated by one %d MB", processed, kernel,
		slowest.Round(time.Millisecond), most>>20)
}

// BenchmarkCilium loads every object of the cilium corpus and verifies its
// programs, in process: slots/s end to end (load + verify), the sum of
// processed instructions against the kernel's, and the slowest program's
// verification time and the most any program allocated (the goal is 100 ms
// and 200 MB).
func BenchmarkCilium(b *testing.B) {
	root, rows := readCilium(b)
	byObj := map[string][]ciliumRow{}
	var order []string
	for _, r := range rows {
		if byObj[r.object] == nil {
			order = append(order, r.object)
		}
		byObj[r.object] = append(byObj[r.object], r)
	}
	images := map[string][]byte{}
	for _, o := range order {
		img, err := os.ReadFile(filepath.Join(root, o))
		if err != nil {
			b.Fatal(err)
		}
		images[o] = img
	}
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	b.ResetTimer()
	var slots, processed, kernel int
	var slowest time.Duration
	var most uint64
	for i := 0; i < b.N; i++ {
		for _, o := range order {
			obj, err := loader.LoadBytes(o, images[o])
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range byObj[o] {
				p := ciliumProgram(obj, r)
				a0, t0 := allocated(), time.Now()
				res, err := verifier.Verify(p, obj.Maps, r.opts())
				slowest, most = max(slowest, time.Since(t0)), max(most, allocated()-a0)
				slots += r.slots
				kernel += r.kernelProcessed
				if err != nil {
					continue
				}
				processed += res.Processed
			}
		}
	}
	b.ReportMetric(float64(slots)/b.Elapsed().Seconds(), "slots/s")
	b.ReportMetric(float64(processed)/float64(b.N), "processed/op")
	b.ReportMetric(float64(kernel)/float64(b.N), "kernel-processed/op")
	b.ReportMetric(float64(slowest.Microseconds())/1000, "max-ms/program")
	b.ReportMetric(float64(most)/(1<<20), "max-MB-allocated/program")
}
