package lift

import "github.com/nfpcc/nfpcc/compiler/verifier"

// helperArgs is the number of arguments (r1…) helper id reads, from the
// verifier's prototype table (compiler/verifier/helpers.go, the kernel's
// bpf_func_proto). A call passes only these, so the IR does not carry dead
// registers into calls; a helper the verifier does not know (it rejects
// every call to one) gets all five.
func helperArgs(id int64) int {
	if h, ok := verifier.Helper(int32(id)); ok && int64(h.ID) == id {
		return h.Args
	}
	return 5
}
