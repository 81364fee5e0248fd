package oracle

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// kernelLimit matches the messages with which the kernel's verifier gives
// up on one of its own resource limits rather than finding the program
// unsafe: the 8192 pending branches of push_stack ("The sequence of 8193
// jumps is too complex"), the million processed instructions
// (BPF_COMPLEXITY_LIMIT_INSNS: "BPF program is too large. Processed N
// insn"), the state and subprogram caps. Such a verdict says how hard the
// kernel found the program, not whether it is safe: the oracle tests count
// it in a class of its own, neither an acceptance nor a rejection, so it
// never fails a test and never excuses a program nfpcc rejects either.
var kernelLimit = regexp.MustCompile(`jumps is too complex|program is too (large|complex)|too many states|` +
	`complexity limit|too many subprograms|states? (list|limit) (too long|exceeded)`)

// hitKernelLimit: the kernel's log ends on one of its resource limits.
// Only the log's last lines are read: the statistics line every log ends
// with ("processed N insns (limit 1000000) …") names the limit too, so a
// match must come from the verifier's reason, which precedes it.
func hitKernelLimit(log []string) bool {
	return kernelLimit.MatchString(kernelReason(log))
}

// limitTally counts the kernel-limit verdicts of one oracle test, split by
// nfpcc's verdict on the same program, and keeps the first few names.
type limitTally struct {
	accepted, rejected int
	examples           []string
}

// add records one program the kernel gave up on; nfpccErr is nfpcc's
// verdict on it (nil: accepted).
func (l *limitTally) add(name string, log []string, nfpccErr error) {
	if nfpccErr == nil {
		l.accepted++
	} else {
		l.rejected++
	}
	if len(l.examples) < 5 {
		l.examples = append(l.examples, fmt.Sprintf("%s (nfpcc: %s)\n      kernel: %s", name, errOrAccepted(nfpccErr), kernelReason(log)))
	}
}

// report prints the class with its count, also when it is empty, so that
// the class is visible in every run's log.
func (l *limitTally) report(t *testing.T) {
	t.Helper()
	n := l.accepted + l.rejected
	t.Logf("%d kernel-limit verdicts (the kernel gave up on its own resource limits: not a verdict on safety; "+
		"not counted above; nfpcc accepts %d, rejects %d)%s", n, l.accepted, l.rejected, colon(n))
	for _, e := range l.examples {
		t.Logf("  %s", e)
	}
	if n > len(l.examples) {
		t.Logf("  … and %d more", n-len(l.examples))
	}
}

func colon(n int) string {
	if n == 0 {
		return ""
	}
	return ":"
}

func errOrAccepted(err error) string {
	if err == nil {
		return "accepted"
	}
	return strings.TrimSpace(err.Error())
}
