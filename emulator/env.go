package emulator

import (
	"errors"
	"fmt"
)

// Memory is what a helper needs from the executor that calls it: bytes at
// an address of the program's memory (bounds-checked by the executor, which
// knows its regions), the address of a map value it hands back to the
// program, and the map a map pointer argument stands for.
type Memory interface {
	// Bytes returns the n bytes at addr; write says the helper will store
	// into them (read-only regions refuse).
	Bytes(addr, n uint64, write bool) ([]byte, error)
	// ValueAddr is the program-visible address of value, a slice that
	// Map.Lookup returned for map number mapIndex.
	ValueAddr(mapIndex int, value []byte) uint64
	// MapIndex resolves a map pointer (from LD_IMM64 of a map) to its index
	// in Env.Maps.
	MapIndex(ptr uint64) (int, error)
}

// Env is the world a program runs in, shared by its helper calls: maps,
// the packet, the deterministic clock and random source, and what the
// program did that is not in its return value (events, redirects, tail
// call requests, trace_printk lines).
type Env struct {
	Hook   Hook
	Maps   []Map
	Packet *Packet // nil when the program has no packet

	// Clock is what bpf_ktime_get_ns returns next; each call advances it by
	// ClockStep. Runners set it per packet (e.g. from the pcap timestamp).
	Clock, ClockStep uint64
	rng              uint64

	Events   []Event
	Redirect *Redirect
	Printk   []string
	// TailCall is set by bpf_tail_call for the executor to act on.
	TailCall *TailCall

	ringRecords map[uint64]ringRecord // bpf_ringbuf_reserve'd, by address
	inner       innerMaps             // inner maps programs were handed, see MapAt
}

// ResetRun forgets what the last run produced (events, redirect, printk
// lines, a pending tail call, unsubmitted ring buffer records); executors
// call it before each run.
func (e *Env) ResetRun() {
	e.Events, e.Redirect, e.Printk, e.TailCall = nil, nil, nil, nil
	if len(e.ringRecords) > 0 { // clear costs a runtime call even on an empty map
		clear(e.ringRecords)
	}
}

// NewEnv makes an environment over maps, with the random source seeded.
func NewEnv(hook Hook, maps []Map, seed uint64) *Env {
	return &Env{Hook: hook, Maps: maps, Clock: 1_000_000_000, ClockStep: 1000, rng: seed}
}

// Seed restarts the random sequence.
func (e *Env) Seed(seed uint64) { e.rng = seed }

// Random returns the next 32-bit number of the seeded sequence
// (SplitMix64, high half): reproducible across runs and executors.
func (e *Env) Random() uint32 {
	e.rng += 0x9e3779b97f4a7c15
	z := e.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return uint32(z >> 32)
}

// Event is one record a program sent to user space: bpf_perf_event_output,
// or a ring buffer record (bpf_ringbuf_output, or reserve then submit).
type Event struct {
	Map  string   `json:"map"`
	CPU  uint32   `json:"cpu"`
	Data HexBytes `json:"data"`
}

// Redirect records bpf_redirect or bpf_redirect_map.
type Redirect struct {
	Ifindex uint32 `json:"ifindex,omitempty"` // bpf_redirect
	Map     string `json:"map,omitempty"`     // bpf_redirect_map
	Key     uint32 `json:"key"`
	Flags   uint64 `json:"flags,omitempty"`
}

// TailCall is a pending bpf_tail_call: program number Prog of the object.
type TailCall struct {
	Map  int
	Prog uint32
}

// HexBytes marshals to JSON as a hex string.
type HexBytes []byte

func (h HexBytes) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%q", fmt.Sprintf("%x", []byte(h)))), nil
}

// Sentinel errors a helper returns to steer the executor.
var (
	// ErrExit ends the program with the helper's return value in r0
	// (uBPF's "unwind" helper).
	ErrExit = errors.New("program ended by helper")
	// ErrTailCall asks the executor to replace the running program by
	// Env.TailCall's; if the executor cannot, the call falls through.
	ErrTailCall = errors.New("tail call")
)

// HelperFunc implements one helper: args are r1..r5, the result goes to
// r0. A non-nil error other than the sentinels stops the program (a bad
// pointer argument, for instance) and should say what was wrong.
type HelperFunc func(env *Env, mem Memory, args *[5]uint64) (uint64, error)

// Helper is a helper function with its kernel number and name.
type Helper struct {
	ID   int32
	Name string
	Fn   HelperFunc
	// ChangesPacket says the helper may move data/data_end (the executor
	// then refreshes its view of the packet).
	ChangesPacket bool
}

// HelperSet maps helper numbers to implementations.
type HelperSet map[int32]*Helper

// Result is what one run of a program produced.
type Result struct {
	Return   uint64    `json:"return"`
	Action   string    `json:"action,omitempty"`
	Packet   HexBytes  `json:"packet,omitempty"`
	Meta     HexBytes  `json:"meta,omitempty"`
	Maps     *State    `json:"maps,omitempty"`
	Events   []Event   `json:"events,omitempty"`
	Redirect *Redirect `json:"redirect,omitempty"`
	Printk   []string  `json:"printk,omitempty"`
	// Context lists the context fields the program changed (tc: mark,
	// priority, tc_index, cb[]…), by their UAPI names.
	Context      map[string]uint64 `json:"context,omitempty"`
	Instructions uint64            `json:"instructions"`
	Trace        []TraceStep       `json:"trace,omitempty"`
}

// TraceStep is one executed instruction, for --trace.
type TraceStep struct {
	PC   int    `json:"pc"`
	Text string `json:"text"`
}
