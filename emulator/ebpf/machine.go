package ebpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
)

// DefaultMaxInstructions stops runaway programs (the kernel's verifier
// complexity limit is also one million).
const DefaultMaxInstructions = 1_000_000

// maxTailCalls is MAX_TAIL_CALL_CNT.
const maxTailCalls = 33

// Options configure a Machine.
type Options struct {
	// Helpers callable by number; nil means emulator.KernelHelpers().
	Helpers emulator.HelperSet
	// MaxInstructions per run; 0 means DefaultMaxInstructions.
	MaxInstructions uint64
	// Trace records every executed instruction in Result.Trace (slow).
	Trace bool
	// Seed of bpf_get_prandom_u32.
	Seed uint64
	// SnapshotMaps fills Result.Maps with every map's contents after each
	// run (costly for big maps; Machine.Snapshot gives it on demand).
	SnapshotMaps bool
}

// Prog is one program to load.
type Prog struct {
	Name  string
	Hook  emulator.Hook
	Insns asm.Instructions
	// Optional programs that fail to load do not fail New: running them
	// (directly or by a tail call) reports their load error instead. An
	// object's other programs are optional when one program is run.
	Optional bool
}

type program struct {
	name string
	hook emulator.Hook
	*decoded
	loadErr error // for optional programs that did not load
}

// Machine runs the programs of one object over shared maps; maps keep
// their contents from run to run, as in the kernel. A Machine is not safe
// for concurrent use.
type Machine struct {
	progs    []*program
	env      *emulator.Env
	helpers  emulator.HelperSet
	readOnly []bool
	limit    uint64
	trace    bool
	snapshot bool

	regions      []region
	fixedRegions int
	valueIndex   map[*byte]uint64 // value regions after the first linearValues

	regs [16]uint64
	// depth is the current call frame (0: the program's own), maxDepth
	// the deepest of the current run.
	depth, maxDepth int
	args            [5]uint64 // helper arguments (a field, so calls do not allocate)
	packet          emulator.Packet
	frames          [maxFrames]frame
	stack           [maxFrames * stackSize]byte
	ctx             [skbSize]byte
	ctx0            [skbSize]byte // the context as the run started
	hook            emulator.Hook
	steps           []emulator.TraceStep
}

type frame struct {
	ret   int
	saved [4]uint64 // r6..r9
	fp    uint64
}

// New decodes and checks progs and prepares a machine over maps.
// readOnly marks maps whose values programs may not write (.rodata); it
// may be nil.
func New(progs []Prog, maps []emulator.Map, readOnly []bool, opts Options) (*Machine, error) {
	m := &Machine{
		helpers:    opts.Helpers,
		limit:      opts.MaxInstructions,
		trace:      opts.Trace,
		snapshot:   opts.SnapshotMaps,
		valueIndex: map[*byte]uint64{},
	}
	if m.helpers == nil {
		m.helpers = emulator.KernelHelpers()
	}
	if m.limit == 0 {
		m.limit = DefaultMaxInstructions
	}
	m.readOnly = make([]bool, len(maps))
	copy(m.readOnly, readOnly)
	m.env = emulator.NewEnv(emulator.HookNone, maps, opts.Seed)
	m.regions = make([]region, firstValueRegion)
	m.regions[regionStack] = region{buf: m.stack[:], lo: 0, hi: uint64(len(m.stack)), kind: kindStack}
	m.regions[regionCtx] = region{buf: m.ctx[:], kind: kindCtx}
	m.regions[regionPacket] = region{kind: kindPacket}
	m.regions[regionMem] = region{kind: kindMem}
	m.regions[regionMaps] = region{kind: kindMaps}
	for _, p := range progs {
		d, err := decode(p.Insns, m)
		if err == nil {
			err = checkInit(d, p.Hook)
		}
		if err != nil {
			err = fmt.Errorf("program %s: %w", p.Name, err)
			if !p.Optional {
				return nil, err
			}
			m.progs = append(m.progs, &program{name: p.Name, hook: p.Hook, loadErr: err})
			continue
		}
		m.progs = append(m.progs, &program{name: p.Name, hook: p.Hook, decoded: d})
	}
	m.fixedRegions = len(m.regions)
	return m, nil
}

// Env is the machine's environment: its maps, clock and random source.
func (m *Machine) Env() *emulator.Env { return m.env }

// Programs lists the loaded programs' names, in load order.
func (m *Machine) Programs() []string {
	names := make([]string, len(m.progs))
	for i, p := range m.progs {
		names[i] = p.name
	}
	return names
}

// linker implementation, used while decoding.

func (m *Machine) helper(id int64) (*emulator.Helper, bool) {
	if id < -1<<31 || id > 1<<31 {
		return nil, false
	}
	h, ok := m.helpers[int32(id)]
	return h, ok
}

func (m *Machine) mapPointer(index int64) (uint64, error) {
	if index < 0 || index >= int64(len(m.env.Maps)) {
		return 0, fmt.Errorf("lddw refers to map %d, the object has %d", index, len(m.env.Maps))
	}
	if u, ok := m.env.Maps[index].(*unavailableMap); ok {
		return 0, u.err
	}
	return addr(regionMaps, uint64(index)), nil
}

// mapValuePointer resolves a direct map value reference (global data):
// the address of entry 0 of an array map, plus off.
func (m *Machine) mapValuePointer(index int64, off uint32) (uint64, error) {
	if index < 0 || index >= int64(len(m.env.Maps)) {
		return 0, fmt.Errorf("lddw refers to map %d, the object has %d", index, len(m.env.Maps))
	}
	mp := m.env.Maps[index]
	if u, ok := mp.(*unavailableMap); ok {
		return 0, u.err
	}
	var zero [4]byte
	v := mp.Lookup(zero[:])
	if len(v) == 0 {
		return 0, fmt.Errorf("lddw of a value of map %s, which has no entry 0 (direct value access needs an array)", mp.Spec().Name)
	}
	if uint64(off) >= uint64(len(v)) {
		return 0, fmt.Errorf("lddw of offset %d in map %s, whose values have %d bytes", off, mp.Spec().Name, len(v))
	}
	return m.ValueAddr(int(index), v) + uint64(off), nil
}

// Input is what one run gets.
type Input struct {
	// Packet is the frame for XDP and tc programs.
	Packet []byte
	// Mem is the memory of a HookNone program: r1 points to it, r2 holds
	// its length (r1 = 0 when it is empty), as in the conformance tests.
	Mem []byte
	// Context fields.
	IngressIfindex, RxQueueIndex uint32
	Mark, Priority               uint32
	// DeviceMAC is the address of the receiving device, which decides
	// __sk_buff.pkt_type. The zero value is BPF_PROG_TEST_RUN's (the
	// loopback device), so frames to any other unicast address are
	// PACKET_OTHERHOST there and here.
	DeviceMAC [6]byte
}

// RuntimeError stops a run: a helper failure, a bad context access, the
// instruction limit, too deep calls.
type RuntimeError struct {
	PC   int
	Insn string
	Msg  string
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("pc %d (%s): %s", e.PC, e.Insn, e.Msg)
}

// ErrInstructionLimit is wrapped by the error of a run that hit the limit.
var ErrInstructionLimit = errors.New("instruction limit reached")

// Run runs program number prog on in. Maps keep what the program does to
// them. The result's Maps field is filled when Options.SnapshotMaps is set.
// The result is the caller's: later runs do not change it (RunInto is the
// allocation-free variant for callers that are done with a result before
// the next run).
func (m *Machine) Run(prog int, in Input) (*emulator.Result, error) {
	res := new(emulator.Result)
	ran, err := m.run(prog, in, res)
	if !ran {
		return nil, err
	}
	return res, err
}

// RunInto is Run writing its result into res, every field of which it
// overwrites; the buffers of res.Packet and res.Meta are reused when they
// are large enough, so that a runner that looks at each result before the
// next run allocates nothing per packet. Events, Printk, Trace, Context
// and Maps are the run's own, as with Run. A program that cannot run
// (no such program, a load error) leaves res untouched.
func (m *Machine) RunInto(prog int, in Input, res *emulator.Result) error {
	_, err := m.run(prog, in, res)
	return err
}

// run is Run and RunInto; ran is false when the program could not start.
func (m *Machine) run(prog int, in Input, res *emulator.Result) (ran bool, err error) {
	if prog < 0 || prog >= len(m.progs) {
		return false, fmt.Errorf("no program %d (the machine has %d)", prog, len(m.progs))
	}
	p := m.progs[prog]
	if p.loadErr != nil {
		return false, p.loadErr
	}
	m.reset(p.hook, in)
	r0, n, err := m.exec(p)
	// Field by field: assigning a whole Result literal costs a 176-byte
	// copy with write barriers, a good part of a short program's run.
	// TestRunIntoOverwritesEveryField catches a field added to Result and
	// not set here.
	res.Return = r0
	res.Action = emulator.ActionName(p.hook, r0)
	res.Instructions = n
	res.Events = m.env.Events
	res.Redirect = m.env.Redirect
	res.Printk = m.env.Printk
	res.Trace = m.steps
	res.Context = m.changedContext()
	res.Maps = nil
	if m.snapshot {
		res.Maps = m.Snapshot()
	}
	if pk := m.env.Packet; pk != nil && p.hook != emulator.HookNone {
		res.Packet = reuse(res.Packet, pk.Bytes())
		if mb := pk.MetaBytes(); len(mb) > 0 {
			res.Meta = reuse(res.Meta, mb)
		} else {
			res.Meta = nil
		}
	} else {
		res.Packet, res.Meta = nil, nil
	}
	return true, err
}

// reuse copies b into buf when it fits, else into a new slice; the result
// is never nil (an empty packet is an empty, non-nil slice, as it always was).
func reuse(buf emulator.HexBytes, b []byte) emulator.HexBytes {
	if buf == nil || cap(buf) < len(b) {
		buf = make(emulator.HexBytes, len(b))
	}
	buf = buf[:len(b)]
	copy(buf, b)
	return buf
}

// Snapshot is the state of every map now.
func (m *Machine) Snapshot() *emulator.State { return emulator.Snapshot(m.env.Maps) }

// reset prepares registers, stack, context and regions for a run.
func (m *Machine) reset(hook emulator.Hook, in Input) {
	m.hook = hook
	m.env.Hook = hook
	m.env.ResetRun()
	m.steps = nil
	m.forgetValues()
	// Clear what the last run could have written: its deepest frame and
	// everything above it.
	clear(m.stack[len(m.stack)-(m.maxDepth+1)*stackSize:])
	m.maxDepth = 0
	m.regions[regionStack].lo = uint64(len(m.stack) - stackSize)
	m.regs = [16]uint64{}
	m.regs[10] = addr(regionStack, uint64(len(m.stack)))
	// Region fields one by one (a region literal is a 64-byte copy with
	// write barriers).
	mem := &m.regions[regionMem]
	mem.buf, mem.hi = in.Mem, uint64(len(in.Mem))
	m.env.Packet = nil
	if hook != emulator.HookNone || in.Packet != nil {
		m.packet.Reset(in.Packet)
		m.env.Packet = &m.packet
	}
	switch hook {
	case emulator.HookNone:
		if len(in.Mem) > 0 {
			m.regs[1] = addr(regionMem, 0)
		}
		m.regs[2] = uint64(len(in.Mem))
	case emulator.HookXDP:
		// Context loads stop at the hook's context size, so only that
		// much of the buffer can be seen.
		clear(m.ctx[:xdpSize])
		m.fillXDP(in)
		m.regs[1] = addr(regionCtx, 0)
	case emulator.HookTC:
		clear(m.ctx[:])
		m.fillSKB(in)
		m.regs[1] = addr(regionCtx, 0)
		m.ctx0 = m.ctx // changedContext compares with it
	}
	m.syncPacket()
}

// syncPacket points the packet region at the current data_meta..data_end.
func (m *Machine) syncPacket() {
	pk := m.env.Packet
	rg := &m.regions[regionPacket]
	if pk == nil {
		rg.buf, rg.lo, rg.hi = nil, 0, 0
		return
	}
	lo := uint64(pk.Meta)
	if m.hook == emulator.HookTC {
		lo = uint64(pk.Data)
	}
	rg.buf, rg.lo, rg.hi = pk.Buf, lo, uint64(pk.End)
}
