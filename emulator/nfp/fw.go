package nfp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/isa/image"
)

// The firmware side of the offload ABI, as the Linux JIT expects CoreNIC
// to provide it (nfp-isa.md §4.2–4.4, §4.9, §9): the packet in a CTM
// buffer and its packet vector in LM, the stack base in A22 and
// ActLMAddr0, the exit to the outro and from there to the firmware with
// the result word in A0, the firmware helpers for maps and perf output.

// LM layout of the emulated firmware (CoreNIC: EBPF_STACK_BASE | ctx << 8,
// four 512-byte stacks; the packet vector elsewhere in LM).
const (
	stackBase = 0x000 // + context number << 8
	pvBase    = 0x800 // + context slot × 64; ActLMAddr1 points here (PV word 8)
)

// Counter is a packets/bytes pair.
type Counter struct {
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// Options configure a Firmware.
type Options struct {
	// Maps are the program's maps (index = the map's TID), sharing the
	// emulator package's semantics; nil for none.
	Maps []emulator.Map
	// Seed seeds the random source behind PseudoRndNum (the same
	// sequence as the host interpreter's bpf_get_prandom_u32).
	Seed uint64
	// Limit bounds the instructions per packet (0: DefaultLimit).
	Limit uint64
	// Trace records every executed instruction of each packet.
	Trace bool
}

// Firmware runs packets through a program on one microengine.
type Firmware struct {
	M    *Machine
	Env  *emulator.Env
	Prog *Program
	Hook emulator.Hook

	maps        []*fwMap
	atomics     map[uint64]bool // map words in device (big-endian) form
	trace       bool
	npkt        int
	helperCalls int
	underived   int // calls of helpers without a derived cost

	// Stats counts packets and bytes per firmware stat class
	// (pass, drop, redir, abort) and per action name.
	Stats   map[string]*Counter
	Actions map[string]*Counter
	// Profile, when set, collects per-word executions and cycles and
	// per-packet figures and paths (profile.go) of the packets run.
	Profile *Profile
	// tr and tc collect the trace of the packet being run.
	tr []emulator.TraceStep
	tc []int64
	// counters caches, per result code, its Stats and Actions counters.
	counters [256][2]*Counter
}

// PacketResult is what one packet did.
type PacketResult struct {
	Action       string            `json:"action"`
	Return       uint64            `json:"return"`      // R0 at the program's exit
	ResultWord   uint32            `json:"result_word"` // A0 as the firmware reads it
	Stat         string            `json:"stat"`
	Packet       emulator.HexBytes `json:"packet"`
	Cycles       int64             `json:"cycles"`      // published model, incl. 224 firmware cycles
	DRAMCycles   float64           `json:"dram_cycles"` // per-NIC DRAM engine cycles
	Instructions uint64            `json:"instructions"`
	HelperCalls  int               `json:"helper_calls,omitempty"`
	// The extended figure: Cycles plus the firmware helpers' estimated
	// cycles (HelperCycles), DRAMCycles plus the DRAM work the published
	// model leaves out (helpers, atomics other than add_imm). ExtPartial:
	// a helper without a derived cost was called (helpercost.go).
	HelperCycles  int64                `json:"helper_cycles,omitempty"`
	ExtCycles     int64                `json:"ext_cycles"`
	ExtDRAMCycles float64              `json:"ext_dram_cycles"`
	ExtPartial    bool                 `json:"ext_partial,omitempty"`
	Events        []emulator.Event     `json:"events,omitempty"` // perf_event_output records
	Trace         []emulator.TraceStep `json:"trace,omitempty"`
	// TraceCycles is, per Trace step, the model's cycle count before the
	// instruction (it stops growing once the path has reached the outro).
	TraceCycles []int64 `json:"trace_cycles,omitempty"`
}

// NewFirmware loads prog into a fresh microengine.
func NewFirmware(prog *Program, opt Options) (*Firmware, error) {
	hook := emulator.HookXDP
	if prog.Type == image.ProgTC {
		hook = emulator.HookTC
	}
	f := &Firmware{
		M:       &Machine{prog: prog, mem: NewMemory(), Limit: opt.Limit},
		Env:     emulator.NewEnv(hook, opt.Maps, opt.Seed),
		Prog:    prog,
		Hook:    hook,
		atomics: map[uint64]bool{},
		trace:   opt.Trace,
		Stats:   map[string]*Counter{},
		Actions: map[string]*Counter{},
	}
	f.M.helper = f.callHelper
	f.M.onAtomic = f.atomic
	f.M.random = f.Env.Random
	for i, m := range opt.Maps {
		fm, err := newFWMap(i, m, f.atomics)
		if err != nil {
			return nil, err
		}
		f.maps = append(f.maps, fm)
		if err := f.M.mem.Add(fm.region); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// RunPacket runs the program on one frame, as the firmware would: the
// frame in CTM, the packet vector and stack set up, the program entered,
// and the result word decoded once the code branches back.
func (f *Firmware) RunPacket(frame []byte) (*PacketResult, error) {
	res := &PacketResult{}
	if err := f.RunPacketInto(frame, res); err != nil {
		return nil, err
	}
	return res, nil
}

// RunPacketInto is RunPacket into a result the caller owns: its Packet,
// Trace and TraceCycles storage is reused, so a run that calls no helper
// allocates nothing. On an error res is undefined.
func (f *Firmware) RunPacketInto(frame []byte, res *PacketResult) error {
	m := f.M
	if len(frame) > CTMSize-PacketOffset {
		return fmt.Errorf("packet of %d bytes does not fit the %d-byte CTM buffer", len(frame), CTMSize-PacketOffset)
	}
	if len(frame) > 0x3fff {
		return fmt.Errorf("packet of %d bytes: longer than the packet vector's 14-bit length", len(frame))
	}
	slot := f.npkt % 4
	f.npkt++
	c := &m.ctxs[slot]
	c.reset(2 * slot)

	// CTM buffer: headroom, then the frame; only the bytes the last
	// packet reached need clearing.
	m.mem.resetCTM(PacketOffset, PacketOffset+uint64(len(frame)))
	ctm := m.mem.CTM()
	copy(ctm[PacketOffset:], frame)

	// Stack and packet vector in LM.
	stack := uint32(stackBase + c.num<<8)
	clear(m.lm[stack/4 : stack/4+image.MaxStack/4])
	pv := uint32(pvBase + slot*64)
	clear(m.lm[pv/4 : pv/4+16])
	m.lm[pv/4+0] = uint32(len(frame)) & 0x3fff // pv_len: packet number 0, length
	m.lm[pv/4+2] = CTMBase | PacketOffset      // pv_ctm_ptr: CTM buffer, offset
	c.lmp[0], c.lmp[1] = stack, pv
	c.r[rA+22] = stack
	// The patched JIT of the count-min corpus inlines the lookup of the
	// single ARRAY map as address arithmetic from B23 = its EMEM base >> 8.
	c.r[rB+23] = uint32(EMEMBase >> 8)

	switch {
	case f.trace:
		f.tr, f.tc = res.Trace[:0], res.TraceCycles[:0]
		m.trace = f.traceStep
	case f.Profile != nil:
		m.trace = f.profileStep
	default:
		m.trace = nil
	}
	if f.Profile != nil {
		f.Profile.begin()
	}
	helpers, underived := f.helperCalls, f.underived
	f.Env.Events = nil
	m.model.start()
	m.exited = exitNone
	start := m.icount
	if _, err := m.Run(slot, f.Prog.Entry); err != nil {
		return err
	}
	*res = PacketResult{
		Return:       m.r0,
		ResultWord:   c.r[rA+0],
		Cycles:       m.model.t,
		DRAMCycles:   m.model.dram,
		Instructions: m.icount - start,
		HelperCalls:  f.helperCalls - helpers,
		Events:       f.Env.Events,
		Packet:       res.Packet[:0],

		HelperCycles:  m.model.helper,
		ExtCycles:     m.model.t + m.model.helper,
		ExtDRAMCycles: m.model.dram + m.model.xdram,
		ExtPartial:    f.underived != underived,
	}
	if f.trace {
		res.Trace, res.TraceCycles = f.tr, f.tc
		f.tr, f.tc = nil, nil
	}
	if f.Profile != nil {
		f.Profile.end(res.Cycles, res.ExtCycles)
	}
	if err := f.decode(res); err != nil {
		return err
	}
	// The packet as the program left it (adjust_head/tail move the
	// vector's offset and length).
	off := m.lm[pv/4+2] & 0x1fff
	n := m.lm[pv/4+0] & 0x3fff
	if uint64(off)+uint64(n) > CTMSize {
		return fmt.Errorf("packet vector after the run points outside the CTM buffer (offset %#x, length %d)", off, n)
	}
	// Bytes the program moved into view (adjust_head) were cleared or
	// written: mark them for the next packet's clear.
	m.mem.ctmLo, m.mem.ctmHi = min(m.mem.ctmLo, uint64(off)), max(m.mem.ctmHi, uint64(off+n))
	res.Packet = append(res.Packet, ctm[off:off+n]...)
	f.count(res.ResultWord, len(frame), res)
	return nil
}

func (f *Firmware) traceStep(pc uint32, c *context) {
	f.tr = append(f.tr, emulator.TraceStep{PC: int(pc), Text: f.Prog.InstrText(pc)})
	f.tc = append(f.tc, f.M.model.shown())
	if f.Profile != nil {
		f.profileStep(pc, c)
	}
}

func (f *Firmware) profileStep(pc uint32, _ *context) {
	f.Profile.step(pc, f.M.model.shown())
}

// count adds a packet to the per-stat-class and per-action counters; the
// counters of a result code are found once.
func (f *Firmware) count(w uint32, n int, res *PacketResult) {
	code := uint8(w >> 16)
	cs := f.counters[code]
	if cs[0] == nil {
		cs = [2]*Counter{counter(f.Stats, res.Stat), counter(f.Actions, res.Action)}
		f.counters[code] = cs
	}
	for _, c := range cs {
		c.Packets++
		c.Bytes += uint64(n)
	}
}

func counter(t map[string]*Counter, k string) *Counter {
	c := t[k]
	if c == nil {
		c = &Counter{}
		t[k] = c
	}
	return c
}

// decode turns the result word into the action the firmware takes
// (nfp-isa.md §4.4): XDP 0x82 aborted, 0x22 drop, 0x11 pass, 0x44 tx
// (XDP_REDIRECT and anything above 3 end as aborted); tc 0x11 pass
// (TC_ACT_OK and the other pass codes), 0x22 shot, 0x02 stolen/queued
// (drop without stat), 0x44 redirect.
func (f *Firmware) decode(r *PacketResult) error {
	w := r.ResultWord
	code := w >> 16 & 0xff
	// Bits 0/1 are the SKB/IFE marks; anything else is not a result word.
	if w&^0x00ff0003 != 0 {
		return fmt.Errorf("firmware result word %#08x has bits outside the action field", w)
	}
	switch code >> 4 {
	case 0:
		r.Stat = ""
	case 1:
		r.Stat = "pass"
	case 2:
		r.Stat = "drop"
	case 4:
		r.Stat = "redir"
	case 8:
		r.Stat = "abort"
	default:
		return fmt.Errorf("firmware result word %#08x: stat class %#x is not one of pass/drop/redir/abort", w, code>>4)
	}
	act := code & 0xf
	if f.Hook == emulator.HookTC {
		switch code {
		case 0x11:
			r.Action = "TC_ACT_OK"
		case 0x22:
			r.Action = "TC_ACT_SHOT"
		case 0x02:
			r.Action = "TC_ACT_STOLEN"
		case 0x44:
			r.Action = "TC_ACT_REDIRECT"
		default:
			return fmt.Errorf("firmware result word %#08x is no tc outcome", w)
		}
		return nil
	}
	switch {
	case code == 0x82:
		r.Action = "XDP_ABORTED"
	case code == 0x22:
		r.Action = "XDP_DROP"
	case code == 0x11:
		r.Action = "XDP_PASS"
	case code == 0x44:
		r.Action = "XDP_TX"
	default:
		return fmt.Errorf("firmware result word %#08x (action %#x) is no XDP outcome", w, act)
	}
	return nil
}

// OffloadAction is the action the offloaded program takes for a return
// value r0, as the JIT's outro and the firmware treat it (nfp-isa.md
// §4.4): for XDP, values above XDP_TX (XDP_REDIRECT included) abort; for
// tc, values above 7 pass, 0/1/3/6 pass, 2 is shot, 4/5 are stolen, 7
// redirects. Use it to compare with a host interpreter's return value.
func OffloadAction(hook emulator.Hook, r0 uint64) string {
	v := uint32(r0)
	if hook == emulator.HookTC {
		switch v {
		case 2:
			return "TC_ACT_SHOT"
		case 4, 5:
			return "TC_ACT_STOLEN"
		case 7:
			return "TC_ACT_REDIRECT"
		}
		return "TC_ACT_OK"
	}
	switch v {
	case 1:
		return "XDP_DROP"
	case 2:
		return "XDP_PASS"
	case 3:
		return "XDP_TX"
	}
	return "XDP_ABORTED"
}

// ParsePacketHex reads a packet written as hex digits, where ".." stands
// for a byte of any value (read as 0, as in the nfp-jit corpus's example
// packets). Spaces and a leading 0x are ignored.
func ParsePacketHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.ReplaceAll(s, " ", ""), "0x")
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("packet hex has an odd number of digits (%d)", len(s))
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		d := s[2*i : 2*i+2]
		if d == ".." {
			continue
		}
		v, err := strconv.ParseUint(d, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("packet hex: byte %d is %q", i, d)
		}
		out[i] = byte(v)
	}
	return out, nil
}

// Result is the packet's outcome in the shared emulator.Result form, for
// comparing with the host interpreter: Return is r0 at the program's exit,
// Action the action the NIC takes (OffloadAction's view: XDP_REDIRECT and
// unknown codes abort), Instructions the NFP instructions executed.
func (r *PacketResult) Result() *emulator.Result {
	return &emulator.Result{
		Return:       r.Return,
		Action:       r.Action,
		Packet:       r.Packet,
		Events:       r.Events,
		Instructions: r.Instructions,
		Trace:        r.Trace,
	}
}
