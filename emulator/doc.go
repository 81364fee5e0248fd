// Package emulator holds what the two executors of nfpcc share: the eBPF host
// interpreter (emulator/ebpf) and the NFP microengine emulator (emulator/nfp).
//
// Both must agree on what a program did to the outside world, so the outside
// world lives here, once: BPF maps with the kernel's semantics (update flags,
// errors, capacity, LRU eviction), helper functions written against a small
// Memory interface (so each executor only has to say how an address becomes
// bytes), the packet buffer with XDP head/tail/meta room, the names of XDP
// and tc actions, a JSON format for map state, and the Result of a run.
//
// Semantics follow the Linux kernel (kernel/bpf/hashtab.c, arraymap.c,
// net/core/filter.c) where a program could observe the difference. Where the
// kernel is nondeterministic (time, random numbers, CPU numbers), the
// emulator is deterministic and seeded, so that two runs, and the two
// executors, produce byte-identical results.
//
// The package is a leaf: standard library only.
package emulator
