package testsuite

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// CorporaDir returns the shared test corpora: $NFPCC_CORPORA if set,
// otherwise ../shared/corpora beside the project root. It returns "" when
// neither exists.
func CorporaDir() string {
	if d := os.Getenv("NFPCC_CORPORA"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	d := filepath.Join(ProjectRoot(), "..", "shared", "corpora")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// Corpus returns the path of one corpus folder (e.g. "ebpf-samples") and
// skips the test with a message when the corpora are absent.
func Corpus(t testing.TB, name string) string {
	t.Helper()
	root := CorporaDir()
	if root == "" {
		t.Skipf("corpora not found: set NFPCC_CORPORA or place them at ../shared/corpora (needed: %s)", name)
	}
	d := filepath.Join(root, name)
	if _, err := os.Stat(d); err != nil {
		t.Skipf("corpus %s not found under %s", name, root)
	}
	return d
}

// ProjectRoot is the directory that holds go.mod.
func ProjectRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}
