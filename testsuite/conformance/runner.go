package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
	ebpfinterp "github.com/nfpcc/nfpcc/emulator/ebpf"
)

// Engine executes a conformance program: the interpreter (Interp), the
// interpreter behind the XDP prolog (InterpXDP), and the NFP compiler with
// the NFP emulator (NFP).
type Engine interface {
	Name() string
	// Run executes insns with mem as in the conformance tests (r1 = mem,
	// r2 = len(mem)) and returns r0. A program the engine refuses to load
	// returns an error wrapping ErrLoad; one a compiling engine cannot
	// compile (a limit of the target, not a fault) wraps ErrNotCompiled.
	Run(insns asm.Instructions, mem []byte) (uint64, error)
}

// ErrLoad marks errors raised before the program ran.
var ErrLoad = errors.New("program rejected")

// Engines lists the engines by --engine name.
var Engines = map[string]func() Engine{
	"interp": func() Engine { return Interp{} },
}

// EngineNames lists the known engine names, sorted.
func EngineNames() []string {
	var n []string
	for k := range Engines {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Interp is the host interpreter (emulator/ebpf) with the uBPF test helpers.
type Interp struct{}

func (Interp) Name() string { return "interp" }

func (Interp) Run(insns asm.Instructions, mem []byte) (uint64, error) {
	m, err := ebpfinterp.New([]ebpfinterp.Prog{{Name: "test", Hook: emulator.HookNone, Insns: insns}}, nil, nil,
		ebpfinterp.Options{Helpers: Helpers()})
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrLoad, err)
	}
	res, err := m.Run(0, ebpfinterp.Input{Mem: append([]byte(nil), mem...)})
	if err != nil {
		return 0, err
	}
	return res.Return, nil
}

// Kind classifies how a test ended, so that expected failures can be
// matched by kind when the wording differs between implementations.
type Kind string

const (
	KindPass        Kind = "pass"
	KindNoProgram   Kind = "no instructions" // nothing to run
	KindParse       Kind = "test file error" // the .data file itself is malformed
	KindAssemble    Kind = "assembler error" // the -- asm text does not assemble
	KindRawMismatch Kind = "raw mismatch"    // -- asm and -- raw disagree
	KindLoad        Kind = "load error"      // the engine refused the program
	KindNotCompiled Kind = "not compiled"    // the NFP compiler refused it (ErrNotCompiled): counted apart
	KindRun         Kind = "runtime error"   // the program stopped with an error
	KindWrongValue  Kind = "wrong result"    // r0 differs from -- result
	KindNoError     Kind = "missing error"   // -- error expected, the program ran
)

// Outcome is the result of one test file.
type Outcome struct {
	Path   string
	Kind   Kind
	Detail string // what went wrong: "expected 0x1, got 0x2", the error text
	// ExpectedError is the file's -- error text, when it has one.
	ExpectedError string
	// GotError is the error the engine or assembler raised, if any.
	GotError error
}

// NotCompiled says whether a compiling engine refused the program: not a
// pass, and not a failure either.
func (o *Outcome) NotCompiled() bool { return o.Kind == KindNotCompiled }

// Passed says whether the test passed: the expected r0, or an expected
// error met by an error (of any wording: uBPF's and the kernel's messages
// differ from ours; the kind of failure is what is compared, see Kind).
func (o *Outcome) Passed() bool { return o.Kind == KindPass }

// Line is the one-line report of a failure.
func (o *Outcome) Line() string {
	return fmt.Sprintf("%s: %s: %s", o.Path, o.Kind, o.Detail)
}

// Program returns the instructions of a test: assembled from -- asm (and
// checked against -- raw when both exist), or decoded from -- raw.
func Program(tf *TestFile) (asm.Instructions, Kind, error) {
	var code []byte
	switch {
	case tf.HasAsm && strings.TrimSpace(stripComments(tf.Asm)) != "":
		b, err := Assemble(tf.Asm, tf.AsmLine)
		if err != nil {
			return nil, KindAssemble, err
		}
		if tf.HasRaw && !bytes.Equal(b, tf.Raw) {
			return nil, KindRawMismatch, fmt.Errorf("assembled %x, -- raw has %x", b, tf.Raw)
		}
		code = b
	case tf.HasRaw:
		code = tf.Raw
	}
	if len(code) == 0 {
		return nil, KindNoProgram, errors.New("test file has no BPF instructions")
	}
	if len(code)%8 != 0 {
		return nil, KindLoad, fmt.Errorf("%w: %d bytes of code is not a whole number of instructions", ErrLoad, len(code))
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(code), binary.LittleEndian, "linux")
	if err != nil {
		return nil, KindLoad, fmt.Errorf("%w: %v", ErrLoad, err)
	}
	return insns, "", nil
}

// RunFile runs one test file on an engine.
func RunFile(e Engine, path string) *Outcome {
	tf, err := ParseFile(path)
	if err != nil {
		return &Outcome{Path: path, Kind: KindParse, Detail: err.Error(), GotError: err}
	}
	return RunTest(e, tf)
}

// RunTest runs a parsed test on an engine and judges the outcome.
func RunTest(e Engine, tf *TestFile) *Outcome {
	o := &Outcome{Path: tf.Path, ExpectedError: tf.Error}
	insns, kind, err := Program(tf)
	if err == nil && tf.HasAsm && tf.HasRaw && !tf.HasResult && !tf.HasError {
		// An assembler test (uBPF's alu.data, jmp.data…): -- asm must
		// encode to -- raw, which Program checked; there is nothing to run.
		o.Kind = KindPass
		return o
	}
	var r0 uint64
	if err == nil {
		r0, err = e.Run(insns, tf.Mem)
		if err != nil {
			kind = KindRun
			switch {
			case errors.Is(err, ErrLoad):
				kind = KindLoad
			case errors.Is(err, ErrNotCompiled):
				kind = KindNotCompiled
			}
		}
	}
	o.GotError = err
	switch {
	case err != nil && tf.HasError && (kind == KindLoad || kind == KindRun || kind == KindNotCompiled):
		o.Kind = KindPass
		o.Detail = fmt.Sprintf("expected error %q, got %s: %v", tf.Error, kind, err)
	case err != nil:
		o.Kind, o.Detail = kind, err.Error()
	case tf.HasError:
		o.Kind, o.Detail = KindNoError, fmt.Sprintf("expected error %q, got result %#x", tf.Error, r0)
	case !tf.HasResult:
		o.Kind, o.Detail = KindParse, fmt.Sprintf("no -- result section (got %#x)", r0)
	case r0 != tf.Result:
		o.Kind, o.Detail = KindWrongValue, fmt.Sprintf("expected %#x, got %#x", tf.Result, r0)
	default:
		o.Kind = KindPass
	}
	return o
}

// ErrNotCompiled marks a program the NFP compiler refuses (an operation
// the offload cannot do, or a rejection by the verifier). It is neither a
// pass nor a failure: the runner counts it apart (KindNotCompiled).
var ErrNotCompiled = errors.New("not compiled")

// NotCompiledError is the compiler's reason for refusing a test, its slot
// counted from the test's first instruction (not the wrapper's).
type NotCompiledError struct{ Reason string }

func (e *NotCompiledError) Error() string        { return e.Reason }
func (e *NotCompiledError) Is(target error) bool { return target == ErrNotCompiled }
