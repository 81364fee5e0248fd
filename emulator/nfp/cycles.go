package nfp

// The published per-packet cycle model of Krude et al., "Determination of
// throughput guarantees for processor-based SmartNICs" (CoNEXT 2021),
// as written down in /work/shared/ref/cycle-model.md and reproduced by
// tools/path_cycles.py. It is hardware-validated (0.91–1.02 of measured
// cycles on core-bound XDP programs), so the emulator reports exactly this
// figure; anything finer must be reported beside it, never instead.
const (
	// FirmwareCycles is the per-packet firmware overhead, the XDP outro
	// folded in: every path starts at t = 224.
	FirmwareCycles = 224

	cycBrTakenEarly = 3 // taken conditional branch, CC written ≥ 1 cycle before
	cycBrTakenLate  = 4 // taken conditional branch right after a CC writer
	cycBrNotTaken   = 1
	cycBrUncond     = 4
	cycMemSwapMin   = 3
	cycMemNoSwap    = 1
	memMax32        = 16 // spacing of blocking commands, 32-bit addressing (CTM)
	memMax40        = 25 // the same, 40-bit addressing (DRAM)

	// DRAM engine cycles per command, per NIC (cycle-model.md).
	dramRead32 = 4.052463035413383
	dramAddImm = 3.219818925010342

	// ClockHz is the ME clock of the measured card (Agilio CX, NFP-4000).
	ClockHz = 800e6
	// CardCores is the number of microengines a card runs BPF on.
	CardCores = 50
	// MACLimitPPS is the MAC ceiling of the Agilio CX 2x40.
	MACLimitPPS = 54.4e6
)

// cycleModel accumulates the model's figure along the executed path, and
// beside it what the published model leaves out (helpers.go): the
// firmware helpers' cycles and the DRAM engine work of every atomic.
type cycleModel struct {
	t, lastCC, lastMem int64
	dram               float64
	on                 bool
	skip               int // instructions not charged (slots of a taken deferred branch)

	helper int64   // estimated cycles of the firmware helpers called
	xdram  float64 // DRAM engine cycles the published figure leaves out
}

func (cm *cycleModel) start() {
	*cm = cycleModel{t: FirmwareCycles, lastCC: FirmwareCycles, lastMem: FirmwareCycles, on: true}
}

// shown is the figure so far as a trace shows it: frozen once the path
// ended, not counting the slots of a taken deferred branch.
func (cm *cycleModel) shown() int64 { return cm.t }

// end stops charging: the branch to the outro (or abort, or firmware)
// ends the path at no extra cost.
func (cm *cycleModel) end() { cm.on = false }

// charge adds the cost of one executed op. taken is the branch outcome.
func (cm *cycleModel) charge(o *op, taken bool) {
	if !cm.on {
		return
	}
	if cm.skip > 0 {
		// A taken deferred branch's slots run on the hardware, but the
		// model does not count them.
		cm.skip--
		return
	}
	switch o.mclass {
	case mcOne:
		cm.t++
	case mcOneCC:
		cm.t++
		cm.lastCC = cm.t
	case mcCondBr:
		switch {
		case !taken:
			cm.t += cycBrNotTaken
		case cm.t-cm.lastCC > 0:
			cm.t += cycBrTakenEarly
		default:
			cm.t += cycBrTakenLate
		}
	case mcUncondBr:
		cm.t += cycBrUncond
	case mcMemSwap:
		max := int64(memMax32)
		if o.flags&fWide != 0 {
			max = memMax40
		}
		if since := cm.t - cm.lastMem; since >= max-cycMemSwapMin {
			cm.t += cycMemSwapMin
		} else {
			cm.t += max - since
		}
		cm.lastMem = cm.t
		cm.dram += o.dram
		cm.xdram += o.xdram
	case mcMemNoSwap:
		cm.t += cycMemNoSwap
		cm.lastMem = cm.t
		cm.dram += o.dram
		cm.xdram += o.xdram
	}
}

// Projection is the throughput the model predicts for a cycles-per-packet
// figure (cycle-model.md "Throughput").
type Projection struct {
	Cycles       float64 `json:"cycles"`
	DRAMCycles   float64 `json:"dram_cycles"`
	PerCorePPS   float64 `json:"per_core_pps"`
	CardCoresPPS float64 `json:"card_cores_pps"` // the model's cores
	DRAMPPS      float64 `json:"dram_pps"`       // 0 when no DRAM work (unbounded)
	MACPPS       float64 `json:"mac_pps"`
	PPS          float64 `json:"pps"`   // the minimum of cores, DRAM and MAC
	Bound        string  `json:"bound"` // "cores", "dram" or "mac"
}

// Model is the card a projection assumes: cores running the program, their
// clock, and the MAC's packet-rate ceiling. DefaultModel is the measured
// Agilio CX 2x40 (NFP-4000); `nfpcc run --cores/--clock-mhz/--mac-mpps`
// change it, and the report shows what was assumed.
type Model struct {
	Cores    int     `json:"cores"`
	ClockMHz float64 `json:"clock_mhz"`
	MACMpps  float64 `json:"mac_mpps"`
}

// DefaultModel is the card the cycle model was measured on.
var DefaultModel = Model{Cores: CardCores, ClockMHz: ClockHz / 1e6, MACMpps: MACLimitPPS / 1e6}

// Project computes the per-core and per-card packet rates for a mean
// cycles and DRAM-cycles figure per packet on DefaultModel.
func Project(cycles, dram float64) Projection { return DefaultModel.Project(cycles, dram) }

// Project computes the per-core and per-card packet rates on card m (the
// DRAM engine is taken to run at the cores' clock, as on the NFP-4000).
func (m Model) Project(cycles, dram float64) Projection {
	clock, mac := m.ClockMHz*1e6, m.MACMpps*1e6
	p := Projection{Cycles: cycles, DRAMCycles: dram, MACPPS: mac}
	if cycles > 0 {
		p.PerCorePPS = clock / cycles
		p.CardCoresPPS = float64(m.Cores) * clock / cycles
	}
	p.PPS, p.Bound = p.CardCoresPPS, "cores"
	if dram > 0 {
		p.DRAMPPS = clock / dram
		if p.DRAMPPS < p.PPS {
			p.PPS, p.Bound = p.DRAMPPS, "dram"
		}
	}
	if mac < p.PPS || cycles <= 0 {
		p.PPS, p.Bound = mac, "mac"
	}
	return p
}
