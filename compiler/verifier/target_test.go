package verifier_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
	"github.com/nfpcc/nfpcc/testsuite"
)

var mapName = regexp.MustCompile(`map \S+: `)

// TestSamplesNFPTarget verifies every XDP/tc section the host accepts
// again with the NFP profile. A rejection must come from the target
// ("[nfp] " prefix): the target never relaxes a kernel rule. The reasons
// are counted so that changes in what the NFP can run show up in review.
func TestSamplesNFPTarget(t *testing.T) {
	dir := testsuite.Corpus(t, "ebpf-samples")
	objs := map[string]*loader.Object{}
	reasons := map[string]int{}
	var accepted, total int
	for _, row := range readSections(t, dir) {
		if row.progType != "xdp" && row.progType != "tc" || row.verdict != "accept" {
			continue
		}
		obj, ok := objs[row.object]
		if !ok {
			obj, _ = loader.Load(filepath.Join(dir, row.object))
			objs[row.object] = obj
		}
		if obj == nil {
			continue
		}
		for _, p := range obj.Programs {
			if p.Section != row.section {
				continue
			}
			total++
			_, err := verifier.Verify(p, obj.Maps, &verifier.Options{Type: sampleType(p, row), Target: verifier.NFPTarget})
			if err == nil {
				accepted++
				continue
			}
			msg := err.Error()
			i := strings.Index(msg, "[nfp] ")
			if i < 0 {
				t.Errorf("%s %s: host accepts, NFP rejects without a target reason: %v", row.object, p.Name, err)
				continue
			}
			reason := mapName.ReplaceAllString(msg[i+6:], "map: ")
			if j := strings.IndexAny(reason, "(0123456789"); j > 0 {
				reason = strings.TrimSpace(reason[:j])
			}
			reasons[reason]++
		}
	}
	var lines []string
	for r, n := range reasons {
		lines = append(lines, fmt.Sprintf("%s ×%d", r, n))
	}
	sort.Strings(lines)
	t.Logf("NFP target: %d of %d host-accepted XDP/tc sections accepted; rejections: %s", accepted, total, strings.Join(lines, "; "))
	if accepted == 0 {
		t.Error("the NFP profile accepts nothing")
	}
}
