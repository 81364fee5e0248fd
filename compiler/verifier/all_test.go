package verifier_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
)

// ciliumObjects groups the corpus rows by object, in the file's order, with
// each object's bytes.
func ciliumObjects(tb testing.TB) (order []string, rows map[string][]ciliumRow, images map[string][]byte) {
	root, all := readCilium(tb)
	rows, images = map[string][]ciliumRow{}, map[string][]byte{}
	for _, r := range all {
		if rows[r.object] == nil {
			order = append(order, r.object)
			img, err := os.ReadFile(filepath.Join(root, r.object))
			if err != nil {
				tb.Fatal(err)
			}
			images[r.object] = img
		}
		rows[r.object] = append(rows[r.object], r)
	}
	return order, rows, images
}

// ciliumJobs are an object's programs the corpus lists, each with the
// options it is verified with.
func ciliumJobs(tb testing.TB, obj *loader.Object, rows []ciliumRow) []verifier.Job {
	var jobs []verifier.Job
	for _, r := range rows {
		p := ciliumProgram(obj, r)
		if p == nil {
			tb.Fatalf("%s: no program %s in section %s", r.object, r.prog, r.section)
		}
		jobs = append(jobs, verifier.Job{Prog: p, Maps: obj.Maps, Opts: r.opts()})
	}
	return jobs
}

// TestVerifyAll checks that verifying an object's programs side by side
// gives each program exactly the outcome it gets alone (verdict, processed
// instructions, states), on the two cilium objects with the most programs.
func TestVerifyAll(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	order, rows, images := ciliumObjects(t)
	checked := 0
	for _, o := range order {
		if len(rows[o]) < 8 || checked == 2 {
			continue
		}
		checked++
		obj, err := loader.LoadBytes(o, images[o])
		if err != nil {
			t.Fatal(err)
		}
		jobs := ciliumJobs(t, obj, rows[o])
		got := verifier.VerifyAll(jobs, 2)
		for i, j := range jobs {
			res, err := verifier.Verify(j.Prog, j.Maps, j.Opts)
			if want, have := outcomeString(res, err), outcomeString(got[i].Result, got[i].Err); want != have {
				t.Errorf("%s %s: alone %s, side by side %s", o, j.Prog.Name, want, have)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no cilium object with 8 programs or more")
	}
}

func outcomeString(res *verifier.Result, err error) string {
	if err != nil {
		return "rejected: " + err.Error()
	}
	return fmt.Sprintf("accepted, processed %d, %d states, %d pruned", res.Processed, res.States, res.Pruned)
}

// BenchmarkCiliumParallel is BenchmarkCilium as `nfpcc verify` runs it:
// each object loaded, then its programs verified side by side
// (verifier.VerifyAll on GOMAXPROCS workers), with the garbage collector
// set as cmd/nfpcc's main sets it (GOGC 400 unless GOGC is given):
// slots/s end to end.
func BenchmarkCiliumParallel(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	order, rows, images := ciliumObjects(b)
	b.ResetTimer()
	slots := 0
	for i := 0; i < b.N; i++ {
		for _, o := range order {
			obj, err := loader.LoadBytes(o, images[o])
			if err != nil {
				b.Fatal(err)
			}
			verifier.VerifyAll(ciliumJobs(b, obj, rows[o]), 0)
			for _, r := range rows[o] {
				slots += r.slots
			}
		}
	}
	b.ReportMetric(float64(slots)/b.Elapsed().Seconds(), "slots/s")
}
