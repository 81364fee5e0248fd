package testsuite

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/nfpcc/nfpcc"

// allowed lists, per package of the project, the project packages it may
// import (ARCHITECTURE.md). Third-party imports are checked separately by
// thirdParty. A package of the project that is missing here fails the test,
// so every new package states its place.
var allowed = map[string][]string{
	"ir":                {},
	"isa":               {},
	"isa/image":         {"isa"},
	"compiler/loader":   {},
	"compiler/verifier": {"compiler/loader"},
	"compiler/lift":     {"ir", "compiler/verifier", "compiler/loader"},
	"passes":            {"ir"},
	"backend/regalloc":  {},
	"backend":           {"ir", "isa", "isa/image", "backend/regalloc", "backend/mir", "backend/sched"},
	"backend/mir":       {"isa", "isa/image", "isa/asm"},
	"backend/sched":     {"backend/mir", "isa"},
	"emulator":          {},
	"emulator/ebpf":     {"emulator", "compiler/loader"},
	"emulator/nfp":      {"emulator", "isa", "isa/image"},
	// The library form of `nfpcc run`: a driver over both engines, as
	// compiler is over the stages (it verifies objects before running them).
	"emulator/engine":  {"emulator", "emulator/ebpf", "emulator/nfp", "compiler/loader", "compiler/verifier", "isa/image"},
	"compiler":         {"*"},
	"testsuite":        {"*"},
	"testsuite/golden": {}, // imported by the tests of leaf packages: no project package
	"cmd/nfpcc":        {"*"},
}

// thirdParty lists the non-standard imports a leaf may use.
var thirdParty = map[string][]string{
	"ir":               {"github.com/alecthomas/participle/v2"},
	"isa":              {"github.com/alecthomas/participle/v2"},
	"backend/regalloc": {},
	"emulator":         {},
	"passes":           {},
	"testsuite/golden": {"golang.org/x/tools/txtar"},
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		rule, known := lookup(rel)
		if !known {
			t.Errorf("package %s has no import rule in testsuite/imports_test.go", rel)
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") {
				dep := strings.TrimPrefix(imp, module+"/")
				if !permits(rule, dep) {
					t.Errorf("%s imports %s, which ARCHITECTURE.md does not allow", rel, dep)
				}
				if strings.HasPrefix(dep, "testsuite") && !strings.HasPrefix(rel, "cmd/") && !strings.HasPrefix(rel, "testsuite") {
					t.Errorf("%s imports testsuite: only tests and cmd may", rel)
				}
				continue
			}
			if tp, leaf := thirdParty[topOf(rel)]; leaf && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				if !permits(tp, imp) {
					t.Errorf("leaf package %s imports third-party %s", rel, imp)
				}
			}
		}
	}
}

// lookup finds the rule of a package or of its nearest listed parent, so that
// sub-packages (isa/asm, emulator/ebpf/…) inherit their parent's rule plus
// the parent itself.
func lookup(rel string) ([]string, bool) {
	for p := rel; p != "" && p != "."; {
		if r, ok := allowed[p]; ok {
			if p != rel {
				r = append(append([]string{}, r...), p)
			}
			return r, true
		}
		i := strings.LastIndex(p, "/")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return nil, false
}

func topOf(rel string) string {
	for p := rel; ; {
		if _, ok := allowed[p]; ok {
			return p
		}
		i := strings.LastIndex(p, "/")
		if i < 0 {
			return rel
		}
		p = p[:i]
	}
}

func permits(rule []string, dep string) bool {
	for _, r := range rule {
		if r == "*" || r == dep || strings.HasPrefix(dep, r+"/") {
			return true
		}
	}
	return false
}
