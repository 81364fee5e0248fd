// Package compiler is nfpcc's driver: it runs the stages (loader output →
// verifier → lift → passes → backend) for each program of an object and turns a
// stage's panic into an error naming the stage.
package compiler

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/cilium/ebpf"

	"github.com/nfpcc/nfpcc/backend"
	"github.com/nfpcc/nfpcc/compiler/lift"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/ir"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/passes"
)

// Options select what to compile.
type Options struct {
	// Prog names one program (function or section name); "" compiles every
	// entry program of the object.
	Prog string
	// DefaultXDP treats programs whose section names no hook as XDP (the
	// nfp-jit corpus objects use plain section names).
	DefaultXDP bool
	// Type, when set, is the program type of every selected program,
	// whatever its section says (`--type`/`--tc`, the rule `nfpcc verify
	// --type` applies: loader.EffectiveType).
	Type ebpf.ProgramType
	// MCPU is the target: "corenic" (the default, "") or "emulator"
	// (verifier.TargetForMCPU). Its capability table decides what
	// compiles, as `nfpcc verify --target=MCPU` decides what it accepts.
	MCPU string
	// Target, when set, replaces MCPU's capability table (tests: a table
	// with rules switched off, to see what the backend does without them).
	Target *verifier.Target
	// Regs limits the backend's registers (0: all), to exercise spilling.
	Regs int
	// Passes selects the optimisation level and the -d flags of the
	// middle end (the zero value: -O2).
	Passes passes.Config
	// BackendDump, when set, receives each backend stage's text for each
	// program (backend.Options.Dump: "alloc", then the machine IR after
	// "isel", "banks" and "sched").
	BackendDump func(prog, stage, text string)
}

// ProgramReport says what happened to one program.
type ProgramReport struct {
	Name  string
	Err   error // nil when compiled
	Stats backend.Stats
	// Remarks are the middle end's decisions (every pass's).
	Remarks []passes.Remark
}

// Report lists every program the object offered.
type Report struct {
	Programs []ProgramReport
}

// Compile compiles the selected programs of obj; images holds one image per
// compiled program, in the report's order (skipping failures). The error is
// non-nil when no program compiled or the selection is wrong.
func Compile(obj *loader.Object, opts Options) ([]*image.Image, *Report, error) {
	progs, err := selectPrograms(obj, opts.Prog)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{}
	var imgs []*image.Image
	for _, p := range progs {
		img, st, rs, err := compileOne(obj, p, opts)
		rep.Programs = append(rep.Programs, ProgramReport{Name: p.Name, Err: err, Stats: st, Remarks: rs})
		if err == nil {
			imgs = append(imgs, img)
		}
	}
	if len(imgs) == 0 {
		var errs []error
		for _, r := range rep.Programs {
			errs = append(errs, fmt.Errorf("%s: %w", r.Name, r.Err))
		}
		return nil, rep, errors.Join(errs...)
	}
	return imgs, rep, nil
}

// stage runs f, turning a panic into "BUG in NAME: …".
func stage(name string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("BUG in %s: %v\n%s", name, r, debug.Stack())
		}
	}()
	return f()
}

// ProgType is the image type of a loader program (XDP or tc).
func ProgType(p *loader.Program, defaultXDP bool) (image.ProgType, bool) {
	return imageType(loader.EffectiveType(p, ebpf.UnspecifiedProgram, defaultXDP))
}

func imageType(t ebpf.ProgramType) (image.ProgType, bool) {
	switch t {
	case ebpf.XDP:
		return image.ProgXDP, true
	case ebpf.SchedCLS:
		return image.ProgTC, true
	}
	return 0, false
}

// compileOne verifies p against the target's capability table, the same
// check `nfpcc verify --target=nfp` makes, so that a refusal reads the
// same in both; the stages after it do not refuse what the table accepts
// (compiler/agreement_test.go).
func compileOne(obj *loader.Object, p *loader.Program, opts Options) (*image.Image, backend.Stats, []passes.Remark, error) {
	var st backend.Stats
	var rs []passes.Remark
	target, err := verifier.TargetForMCPU(opts.MCPU)
	if err != nil {
		return nil, st, nil, err
	}
	if opts.Target != nil {
		target = opts.Target
	}
	ptype := loader.EffectiveType(p, opts.Type, opts.DefaultXDP)
	var img *image.Image
	err = stage("lift", func() error {
		m, _, err := lift.Verified(p, obj.Maps, &verifier.Options{Target: target, Type: ptype})
		var verr *verifier.Error
		if errors.As(err, &verr) {
			return &Refusal{Err: verr}
		}
		if err != nil {
			return err
		}
		typ, ok := imageType(ptype)
		if !ok {
			return fmt.Errorf("BUG: program type %v passed the %s table", ptype, target.Name)
		}
		err = stage("passes", func() error {
			var err error
			rs, err = passes.Run(m, opts.Passes)
			return err
		})
		if err != nil {
			return err
		}
		if err := checkGlobalData(m, target); err != nil {
			return err
		}
		return stage("backend", func() error {
			var err error
			bo := backend.Options{Name: p.Name, Type: typ, Maps: scopeMaps(m, Maps(obj)), Regs: opts.Regs, MapLayout: target.GlobalData, Baseline: opts.Passes.Level == passes.O0}
			if opts.BackendDump != nil {
				bo.Dump = func(stage, text string) { opts.BackendDump(p.Name, stage, text) }
			}
			img, st, err = backend.Compile(m, bo)
			if err != nil || img == nil {
				return err
			}
			if target.CodeStore > 0 && len(img.Code) > target.CodeStore {
				return &CodeSizeError{Words: len(img.Code), Target: target}
			}
			fillSourceLines(img, p)
			img.Program.MCPU, err = image.ParseMCPU(target.MCPU)
			return err
		})
	})
	if err != nil {
		return nil, st, rs, err
	}
	return img, st, rs, nil
}

// Refusal is a program the target's capability table refuses; it prints
// as `nfpcc verify --target=nfp` prints the rejection.
type Refusal struct {
	Err *verifier.Error
}

func (r *Refusal) Error() string { return "rejected: " + r.Err.Error() }

func (r *Refusal) Unwrap() error { return r.Err }

// CodeSizeError is an image larger than the target's code store: the one
// refusal that only code generation can make (the Linux driver refuses it
// when it JITs, after its verifier accepted the program).
type CodeSizeError struct {
	Words  int
	Target *verifier.Target
}

func (e *CodeSizeError) Error() string {
	s := fmt.Sprintf("[nfp] the program is %d NFP words, the %s code store holds %d (NFD_BPF_MAX_LEN)", e.Words, e.Target.MCPU, e.Target.CodeStore)
	if e.Target.Lifts != nil {
		s += fmt.Sprintf(" (--mcpu=%s accepts this: nfpcc's firmware model only, not a CoreNIC card)", e.Target.Lifts.MCPU)
	}
	return s
}

// checkGlobalData makes sure nothing but constants is left of global data
// on a target without it: the table accepts only reads the verifier folds
// to constants, and the passes remove the address once unused. A survivor
// is a disagreement between the table and the passes, not a user error.
func checkGlobalData(m *ir.Module, t *verifier.Target) error {
	if t.GlobalData {
		return nil
	}
	for _, f := range m.Funcs {
		for _, b := range f.Blocks {
			for _, v := range b.Instrs {
				if v.Op == ir.OpMapValue {
					return fmt.Errorf("BUG: %s: global data address v%d (eBPF slot %d) survived the passes on --mcpu=%s", f.Name, v.ID, v.Pos, t.MCPU)
				}
			}
		}
	}
	return nil
}

// Maps converts the object's maps to the image's map table (index = id).
func Maps(obj *loader.Object) []image.Map {
	var out []image.Map
	for _, m := range obj.Maps {
		im := image.Map{Name: m.Name, Type: uint32(m.Type), KeySize: m.KeySize, ValueSize: m.ValueSize, MaxEntries: m.MaxEntries, Flags: m.Flags}
		if len(m.Contents) > 0 {
			im.Contents = append([]byte(nil), m.Contents...)
		}
		out = append(out, im)
	}
	return out
}

// selectPrograms picks the programs to compile: the named one, or every
// program not in .text (global functions there are subprograms).
func selectPrograms(obj *loader.Object, name string) ([]*loader.Program, error) {
	var entries, all []*loader.Program
	var names []string
	for _, p := range obj.Programs {
		names = append(names, p.Name)
		if name != "" && (p.Name == name || p.Section == name) {
			return []*loader.Program{p}, nil
		}
		all = append(all, p)
		if p.Section != ".text" {
			entries = append(entries, p)
		}
	}
	if name != "" {
		return nil, fmt.Errorf("no program %q (the object has: %v)", name, names)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no programs")
	}
	if len(entries) == 0 {
		return all, nil
	}
	return entries, nil
}
