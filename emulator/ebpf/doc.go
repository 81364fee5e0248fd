// Package ebpf is nfpcc's reference interpreter: it runs eBPF programs on
// the host with the semantics of RFC 9669 (BPF Instruction Set
// Architecture) and the Linux kernel's behaviour where the RFC leaves
// room, so that the NFP emulator and the compiler have something exact to
// be compared against.
//
// What it does, and why:
//
//   - Programs are checked when loaded, as the kernel's verifier does in
//     its first pass: unknown opcodes, reserved fields that are not zero,
//     jumps out of the program or into the middle of lddw, writes to r10,
//     unknown helpers (named), reads of registers never written on some
//     path ("R0 !read_ok"). A program that passes runs without undefined
//     behaviour; everything else is a run-time error naming the pc.
//   - Instructions are decoded once into a compact internal form (ops.go, ops_alu.go):
//     one dense opcode per behaviour (ALU op × width × source, each jump
//     condition, each memory size), absolute jump targets, resolved
//     helpers and map addresses, so the run loop is a single switch with no
//     allocation and no interface call per instruction.
//   - Memory is a set of regions (stack, context, packet with its
//     metadata, the conformance memory, map values, reserved ring buffer
//     records); a pointer is the region number in its high 32 bits and an
//     offset in the low ones, so ordinary 64-bit arithmetic moves pointers
//     and every load and store is checked against the region it points
//     into. Out of bounds stops the run with an error naming pc, address
//     and region.
//   - Semantics pinned by the conformance suite: division by zero gives 0,
//     modulo by zero leaves the destination (zero-extended for 32 bits),
//     shift counts are masked, 32-bit results are zero-extended, LD_ABS
//     and LD_IND out of the packet end the program with r0 = 0; their
//     negative offsets from SKF_LL_OFF up read relative to the mac or
//     network header (emulator.Packet.LegacyLoad).
//   - Contexts are struct xdp_md and struct __sk_buff with the kernel's
//     offsets; 32-bit loads of data, data_end and data_meta give packet
//     pointers, as after the kernel's context rewriting.
//   - Maps, helpers, packets and results are the emulator package's, shared
//     with the NFP emulator. A lookup in a map of maps returns a map
//     handle like lddw's (Machine.MapPointer; inner maps are numbered
//     after the object's, emulator.Env.MapAt), so it can be the map
//     argument of the next call. Helpers that change the packet are
//     followed by a refresh of __sk_buff's len, protocol and vlan fields
//     (bpf_skb_vlan_push/pop keep the offloaded tag in emulator.Packet.SKB).
//
// Speed matters because the interpreter is the oracle of differential
// tests; see the benchmarks (go test -bench . ./emulator/ebpf). Real
// programs are short (the router runs 72 instructions per frame), so what
// a run costs besides its instructions counts as much as the loop: a run
// resets only what the last one could have changed (the stack frames it
// used, the hook's context, the headroom the packet exposed, the map value
// regions it created), and Machine.RunInto reuses the caller's result and
// its packet buffers, so that a runner allocates nothing per packet
// (BenchmarkRouter, BenchmarkLoadBalancer and their RunInto variants).
package ebpf
