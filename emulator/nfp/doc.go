// Package nfp emulates one Netronome NFP-4000/6000 microengine (ME 2.8) in
// 4-context mode running offloaded eBPF code, together with the firmware
// side of the Linux offload ABI and the published cycle model.
//
// Three layers, one file group each:
//
//   - The microengine (op.go, translate.go, exec.go, misc.go, cmd.go,
//     memory.go): isa.Instr values are translated once into flat ops, then
//     executed with the architectural state of nfp-isa.md §1 and §9 —
//     GPR banks, transfer and next-neighbour registers, local memory with
//     its pointers and their 3-instruction latency, condition codes,
//     PREV_ALU, defer slots, mul_step sequences, and the memory commands of
//     §2.12 on CTM, IMEM, EMEM and CLS. What is not modelled stops the run
//     with a RunError naming the address and instruction: there is no
//     silent approximation.
//   - The firmware (fw.go, fwmaps.go, load.go): what CoreNIC does around
//     the JIT's code (nfp-isa.md §4): the packet in CTM and its packet
//     vector in LM, the stack, the exit through the outro to the result
//     word in A0 and its decoding into XDP and tc actions, counters, and the
//     firmware helpers for maps (the shared emulator.Map implementations,
//     placed in EMEM) and perf output. Images load with their relocations;
//     pre-relocation Linux JIT dumps load with the relocations recovered
//     from the JIT's layout.
//   - The cycle model (cycles.go): Krude et al., "Determination of
//     throughput guarantees for processor-based SmartNICs" (CoNEXT 2021),
//     as written in /work/shared/ref/cycle-model.md, charged along the
//     executed path; and the throughput projection per core, per card, for
//     DRAM and the MAC.
//
// The tests check the emulator against real Linux JIT output: every path of
// the paper's estimator over the nfp-jit corpus is taken with the
// estimator's cycles, and actions, packets and maps agree with the host
// interpreter (emulator/ebpf). docs/emulator.md describes the model.
package nfp
