package fuzz

import (
	"fmt"
	"strings"

	"github.com/nfpcc/nfpcc/testsuite/gen"
)

// Coverage is the union of the generator's features (gen.Coverage: the
// instruction forms — opcode, source, size and the variant an offset or
// immediate selects — and the semantic features such as "null check
// elided" or "packet store at lane 3") over a campaign's programs, against
// every feature the generator can produce (gen.AllFeatures).
type Coverage struct{ seen gen.Features }

// NewCoverage is an empty count.
func NewCoverage() Coverage { return Coverage{} }

// Reset empties the count.
func (c *Coverage) Reset() { c.seen = gen.Features{} }

// Add counts the features of p.
func (c *Coverage) Add(p *gen.Program) {
	f := gen.Coverage(p)
	c.seen.Union(&f)
}

// Merge adds o's features.
func (c *Coverage) Merge(o Coverage) { c.seen.Union(&o.seen) }

func (c *Coverage) clone() Coverage { return *c }

// Percent is the share of all features seen at least once.
func (c *Coverage) Percent() float64 {
	all := gen.AllFeatures()
	return 100 * float64(len(all)-len(c.Missing())) / float64(len(all))
}

// Missing lists the features never seen.
func (c *Coverage) Missing() []string {
	var out []string
	for _, f := range gen.AllFeatures() {
		if !c.seen.Has(f) {
			out = append(out, f.String())
		}
	}
	return out
}

// String is "P% of N features", with the missing ones.
func (c *Coverage) String() string {
	s := fmt.Sprintf("%.1f%% of %d features (instruction forms and semantic features)", c.Percent(), len(gen.AllFeatures()))
	if m := c.Missing(); len(m) > 0 {
		if len(m) > 24 {
			m = append(m[:24:24], "…")
		}
		s += "; never generated: " + strings.Join(m, " ")
	}
	return s
}
