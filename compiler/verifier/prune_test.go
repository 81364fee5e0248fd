package verifier_test

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite/golden"
)

// kernelPruneRelease is the kernel whose processed counts the prune
// goldens record.
const kernelPruneRelease = "6.18"

// TestPruneGoldens checks kernel-level pruning (Options.VerdictOnly) on
// small programs shaped like the cases where it once fell behind the
// kernel. Each testdata/prune/*.txtar has a program ("-- asm --", "--
// type --" as the verify goldens), the instructions Linux 6.18 processed
// to accept it ("-- kernel --": "processed N", from the verifier's
// statistics line), and nfpcc's own count ("-- want --", rewritten by
// -update). nfpcc must accept, process at most as many instructions as the
// kernel, and give the facts mode's verdict. Where BPF programs can be
// loaded the test loads the program too: on Linux 6.18 the kernel's count
// must still be the recorded one (-update records it), elsewhere it is
// only logged.
func TestPruneGoldens(t *testing.T) {
	golden.Run(t, "testdata/prune/*.txtar", func(t *testing.T, a *golden.Archive) {
		insns := goldenInsns(t, a)
		opts := &verifier.Options{Type: ebpf.XDP}
		if strings.TrimSpace(a.Section("type")) == "tc" {
			opts.Type = ebpf.SchedCLS
		}
		prog := &loader.Program{Name: a.Name(), Insns: insns, Type: opts.Type}
		if _, err := verifyBoth(t, prog, nil, opts); err != nil {
			t.Fatalf("facts mode rejects: %v", err)
		}
		o := *opts
		o.VerdictOnly = true
		res, err := verifier.Verify(prog, nil, &o)
		if err != nil {
			t.Fatalf("verdict-only mode rejects: %v", err)
		}
		a.Check(t, "want", fmt.Sprintf("accepted, processed %d\n", res.Processed))
		kernel := kernelProcessed(t, insns, opts.Type)
		if kernel > 0 && golden.Update() && kernelRelease() == kernelPruneRelease {
			a.Set("kernel", fmt.Sprintf("processed %d\n", kernel))
		}
		var recorded int
		if _, err := fmt.Sscanf(a.Section("kernel"), "processed %d", &recorded); err != nil || recorded <= 0 {
			t.Fatalf("kernel section: want \"processed N\", got %q", a.Section("kernel"))
		}
		switch {
		case kernel == 0:
		case kernelRelease() == kernelPruneRelease && kernel != recorded:
			t.Errorf("Linux %s processes %d instructions, the golden records %d (-update records it)", kernelPruneRelease, kernel, recorded)
		case kernel != recorded:
			t.Logf("Linux %s processes %d instructions (%s: %d)", kernelRelease(), kernel, kernelPruneRelease, recorded)
		}
		if res.Processed > recorded {
			t.Errorf("nfpcc processes %d instructions, Linux %s %d", res.Processed, kernelPruneRelease, recorded)
		}
		t.Logf("nfpcc %d processed, Linux %s %d", res.Processed, kernelPruneRelease, recorded)
	})
}

var reProcessed = regexp.MustCompile(`processed (\d+) insns`)

// kernelProcessed loads insns into the running kernel and returns the
// instructions its verifier processed, 0 (with a log line) where programs
// cannot be loaded. A rejection fails the test: the goldens are programs
// the kernel accepts.
func kernelProcessed(t *testing.T, insns asm.Instructions, typ ebpf.ProgramType) int {
	p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: typ, Instructions: insns, License: "GPL"},
		ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats})
	var ve *ebpf.VerifierError
	switch {
	case errors.As(err, &ve):
		t.Fatalf("the kernel rejects: %s", strings.Join(ve.Log, " | "))
	case err != nil:
		t.Logf("no kernel count (%v)", err)
		return 0
	}
	defer p.Close()
	m := reProcessed.FindStringSubmatch(p.VerifierLog)
	if m == nil {
		t.Fatalf("no statistics in the kernel's log: %q", p.VerifierLog)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// kernelRelease is the running kernel's major.minor ("" if unknown).
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	f := strings.SplitN(strings.TrimSpace(string(b)), ".", 3)
	if len(f) < 2 {
		return ""
	}
	return f[0] + "." + f[1]
}

// TestPruneExactDiffAgain: precise pruning makes a packet pointer
// difference unknown, as the kernel does; a program whose safety rests on
// the exact difference (the kernel rejects it, nfpcc's facts mode
// accepts) is verified again with exact differences, so that both modes
// give one verdict.
func TestPruneExactDiffAgain(t *testing.T) {
	a := golden.Open(t, "testdata/verify/pkt_minus_pkt_exact.txtar")
	prog := &loader.Program{Name: a.Name(), Insns: goldenInsns(t, a), Type: ebpf.XDP}
	var log strings.Builder
	res, err := verifier.Verify(prog, nil, &verifier.Options{VerdictOnly: true, Log: &log, LogLevel: 2})
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	first, again, ok := strings.Cut(log.String(), "; again with what the kernel forgets kept\n")
	if !ok {
		t.Fatalf("not verified again; log:\n%s", log.String())
	}
	if !strings.Contains(first, "math between pkt pointer and register with unbounded min value") {
		t.Errorf("the first run (unknown difference) does not end with the kernel's reason:\n%s", first)
	}
	if !strings.Contains(again, "10: ") || res.Processed == 0 {
		t.Errorf("the second run does not reach the end (processed %d):\n%s", res.Processed, again)
	}
	// The kernel's unknown difference is why it rejects.
	p, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{Type: ebpf.XDP, Instructions: prog.Insns, License: "GPL"},
		ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch})
	var ve *ebpf.VerifierError
	switch {
	case err == nil:
		p.Close()
		t.Errorf("the kernel accepts: the golden no longer needs an exact difference")
	case !errors.As(err, &ve):
		t.Logf("no kernel verdict (%v)", err)
	case !strings.Contains(strings.Join(ve.Log, "\n"), "math between pkt pointer and register with unbounded min value"):
		t.Errorf("the kernel rejects for another reason: %s", strings.Join(ve.Log, " | "))
	}
}
