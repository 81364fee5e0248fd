package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/nfpcc/nfpcc/testsuite"
)

// TestCLI runs the scripts of testdata/cli/*.txtar: the command-line
// habits (issue 12 items 5 and 6) and bad inputs (item 7), each as a user
// types them. A script is the archive's comment, one command a line:
//
//	nfpcc ARGS...       run nfpcc (in process; a panic fails the test)
//	exit N              the last nfpcc's exit status was N
//	stdout RE, stderr RE   its output matches the regular expression
//	! stdout RE, ! stderr RE   … does not match (`! stdout .`: empty)
//	exists F, ! exists F   a file is there, or is not (no partial output)
//	cmp F G, ! cmp F G  two files have the same bytes, or do not
//	truncate F N G      G is the first N bytes of F
//	save-stdout F       the last nfpcc's stdout is written to F
//	cp F G              copy a file
//
// The archive's files are written to $WORK first; a name ending in .hex is
// written decoded (hex, whitespace ignored). Arguments are split at spaces
// and expand $WORK (a scratch directory), $ROOT (the repository),
// $PROGS (testdata/progs), $FINDINGS, $SAMPLES and $NFPJIT (the
// findings, ebpf-samples and nfp-jit corpora).
func TestCLI(t *testing.T) {
	files, err := filepath.Glob("testdata/cli/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	progs, err := filepath.Abs(filepath.Join("..", "..", "testdata", "progs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s := &script{t: t, work: t.TempDir(), vars: map[string]string{"PROGS": progs, "ROOT": filepath.Dir(filepath.Dir(progs))}}
			if bytes.Contains(a.Comment, []byte("$FINDINGS")) {
				s.vars["FINDINGS"] = testsuite.Corpus(t, "findings")
			}
			if bytes.Contains(a.Comment, []byte("$NFPJIT")) {
				s.vars["NFPJIT"] = testsuite.Corpus(t, "nfp-jit")
			}
			if bytes.Contains(a.Comment, []byte("$SAMPLES")) {
				s.vars["SAMPLES"] = testsuite.Corpus(t, "ebpf-samples")
			}
			s.vars["WORK"] = s.work
			for _, f := range a.Files {
				data := f.Data
				name := f.Name
				if strings.HasSuffix(name, ".hex") {
					name = strings.TrimSuffix(name, ".hex")
					if data, err = hex.DecodeString(strings.Join(strings.Fields(string(f.Data)), "")); err != nil {
						t.Fatalf("%s: %v", f.Name, err)
					}
				}
				if err := os.WriteFile(filepath.Join(s.work, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for i, line := range strings.Split(string(a.Comment), "\n") {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				s.line = fmt.Sprintf("%s:%d", filepath.Base(file), i+1)
				s.run(line)
			}
		})
	}
}

// panicText is what a Go panic prints (a recovered one, a BUG: panic
// turned into a message, or a stack dump from a goroutine).
var panicText = regexp.MustCompile(`(?m)^panic: |^goroutine \d+ \[|runtime error:`)

type script struct {
	t              *testing.T
	work, line     string
	vars           map[string]string
	ran            bool
	code           int
	stdout, stderr string
}

func (s *script) fatalf(format string, a ...any) {
	s.t.Helper()
	s.t.Fatalf("%s: "+format+"\n--- stdout:\n%s--- stderr:\n%s", append(append([]any{s.line}, a...), s.stdout, s.stderr)...)
}

// words splits a line at spaces and expands $VARS (stdout and stderr take
// the rest of their line as the regular expression, spaces kept).
func (s *script) words(line string) []string {
	out := strings.Fields(line)
	for i, w := range out {
		out[i] = os.Expand(w, func(v string) string {
			if x, ok := s.vars[v]; ok {
				return x
			}
			return "$" + v
		})
	}
	return out
}

func (s *script) run(line string) {
	s.t.Helper()
	neg := false
	if rest, ok := strings.CutPrefix(line, "! "); ok {
		neg, line = true, rest
	}
	w := s.words(line)
	switch w[0] {
	case "nfpcc":
		s.nfpcc(w[1:])
	case "exit":
		want, _ := strconv.Atoi(w[1])
		if !s.ran || s.code != want {
			s.fatalf("exit status %d, want %d", s.code, want)
		}
	case "stdout", "stderr":
		text := s.stdout
		if w[0] == "stderr" {
			text = s.stderr
		}
		// The pattern is the rest of the line as written (spaces kept).
		pat := os.Expand(strings.TrimPrefix(line, w[0]+" "), func(v string) string { return s.vars[v] })
		re, err := regexp.Compile("(?m)" + pat)
		if err != nil {
			s.fatalf("%v", err)
		}
		if re.MatchString(text) == neg {
			s.fatalf("%s %s %q", w[0], map[bool]string{true: "matches", false: "does not match"}[neg], re)
		}
	case "exists":
		_, err := os.Stat(w[1])
		if (err == nil) == neg {
			s.fatalf("%s: exists is %v", w[1], err == nil)
		}
	case "cmp":
		a, errA := os.ReadFile(w[1])
		b, errB := os.ReadFile(w[2])
		if errA != nil || errB != nil {
			s.fatalf("cmp: %v, %v", errA, errB)
		}
		if bytes.Equal(a, b) == neg {
			s.fatalf("%s and %s: equal is %v", w[1], w[2], !neg)
		}
	case "cp":
		b, err := os.ReadFile(w[1])
		if err == nil {
			err = os.WriteFile(w[2], b, 0o644)
		}
		if err != nil {
			s.fatalf("%v", err)
		}
	case "save-stdout":
		if err := os.WriteFile(w[1], []byte(s.stdout), 0o644); err != nil {
			s.fatalf("%v", err)
		}
	case "truncate":
		a, err := os.ReadFile(w[1])
		n, _ := strconv.Atoi(w[2])
		if err != nil || n > len(a) {
			s.fatalf("truncate: %v", err)
		}
		if err := os.WriteFile(w[3], a[:n], 0o644); err != nil {
			s.fatalf("%v", err)
		}
	default:
		s.fatalf("unknown script command %q", w[0])
	}
}

// nfpcc runs Main in process; a panic is a failure (bad input must get an
// error), reported with its stack.
func (s *script) nfpcc(args []string) {
	s.t.Helper()
	var out, errb bytes.Buffer
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.fatalf("nfpcc %s panicked: %v\n%s", strings.Join(args, " "), r, debug.Stack())
			}
		}()
		s.code = Main(args, &out, &errb)
	}()
	s.ran, s.stdout, s.stderr = true, out.String(), errb.String()
	if panicText.MatchString(s.stderr) {
		s.fatalf("a panic was printed")
	}
}
