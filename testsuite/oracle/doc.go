// Package oracle holds the kernel oracle test: every XDP program (and tc
// classifier, as far as its section name says so) of the Linux and
// prototype-kernel samples and of testdata/progs that the running kernel
// accepts is run with BPF_PROG_TEST_RUN and in the host interpreter
// (emulator/ebpf) on the same generated packets from the same map state,
// and the two must agree on the return value, the packet bytes out and the
// map contents. For tc, the __sk_buff fields a program writes (mark,
// priority) are not compared: the interpreter's Result does not report
// them. The kernel is the reference: it is the semantics nfpcc
// must preserve when it compiles a program for the NFP.
//
// The test needs root (or CAP_BPF and CAP_NET_ADMIN) and skips, saying
// why, where BPF_PROG_LOAD is not available. Beside testsuite/fuzz's
// third engine (nfpcc fuzz --kernel), it is the only place in the project
// that uses cilium/ebpf's kernel-facing API.
package oracle
