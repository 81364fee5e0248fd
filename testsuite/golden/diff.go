package golden

import (
	"fmt"
	"strings"
)

// context is how many unchanged lines Diff shows around a change.
const context = 2

// maxCells bounds the LCS table (lines of want × lines of got); larger
// sections get the first differing line only, which keeps a failing test
// of a huge golden fast.
const maxCells = 16 << 20

// Diff is a readable line diff of want and got: hunks headed by their line
// numbers in want and got, with "-" lines only in want, "+" lines only in
// got and a few unchanged lines around them.
func Diff(want, got string) string {
	w, g := lines(want), lines(got)
	if len(w)*len(g) > maxCells {
		return firstDifference(w, g)
	}
	ops := editScript(w, g)
	var b strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from context lines before this change to context lines
		// after the last change that is closer than 2*context lines.
		start := max(0, i-context)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j + 1
			} else if j-end >= 2*context {
				break
			}
		}
		end = min(len(ops), end+context)
		fmt.Fprintf(&b, "@@ want line %d, got line %d @@\n", ops[start].w+1, ops[start].g+1)
		for _, o := range ops[start:end] {
			fmt.Fprintf(&b, "%c %s\n", o.kind, o.text)
		}
		i = end
	}
	return b.String()
}

// lines splits s into lines; a missing final newline shows as a line of
// its own so that it is visible in the diff.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	l := strings.SplitAfter(s, "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	for i, x := range l {
		if strings.HasSuffix(x, "\n") {
			l[i] = x[:len(x)-1]
		} else {
			l[i] = x + "⏎ (no newline at end)"
		}
	}
	return l
}

type op struct {
	kind byte // ' ', '-' (want only) or '+' (got only)
	text string
	w, g int // line indexes in want and got where the op stands
}

// editScript is a shortest edit script from w to g by longest common
// subsequence.
func editScript(w, g []string) []op {
	n, m := len(w), len(g)
	// lcs[i*(m+1)+j] is the LCS length of w[i:] and g[j:].
	lcs := make([]int32, (n+1)*(m+1))
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if w[i] == g[j] {
				lcs[i*(m+1)+j] = lcs[(i+1)*(m+1)+j+1] + 1
			} else {
				lcs[i*(m+1)+j] = max(lcs[(i+1)*(m+1)+j], lcs[i*(m+1)+j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && w[i] == g[j]:
			ops = append(ops, op{' ', w[i], i, j})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[(i+1)*(m+1)+j] >= lcs[i*(m+1)+j+1]):
			ops = append(ops, op{'-', w[i], i, j})
			i++
		default:
			ops = append(ops, op{'+', g[j], i, j})
			j++
		}
	}
	return ops
}

func firstDifference(w, g []string) string {
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b || i >= len(w) || i >= len(g) {
			return fmt.Sprintf("@@ line %d (first difference; %d lines want, %d got) @@\n- %s\n+ %s\n", i+1, len(w), len(g), a, b)
		}
	}
	return ""
}
