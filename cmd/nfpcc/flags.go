package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// The command-line habits every nfpcc command shares, kept in one place so
// that each command only declares its flags (one line each): flags before,
// between or after the files (as clang, llvm-objdump and bpftool take
// them); -h/--help printing the command's synopsis and flags to stdout with
// exit status 0; a flag error printing the message and the usage to stderr
// with exit status 2.

// flags is a command's flag set with its synopsis.
type flags struct {
	*flag.FlagSet
	synopsis []string
	stdout   io.Writer
}

// newFlags makes the flag set of command name; synopsis are its usage
// lines ("usage: " is added to the first, indentation to the others).
func newFlags(name string, stdout, stderr io.Writer, synopsis ...string) *flags {
	fs := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, stdout: stdout}
	fs.SetOutput(stderr)
	fs.Usage = func() { fs.printUsage(fs.Output()) }
	return fs
}

func (fs *flags) printUsage(w io.Writer) {
	for i, s := range fs.synopsis {
		if i == 0 {
			fmt.Fprintf(w, "usage: %s\n", s)
		} else {
			fmt.Fprintf(w, "       %s\n", s)
		}
	}
	saved := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(saved)
}

// errHelp is what parse returns after -h printed the usage: the command
// ends with status 0.
var errHelp = errors.New("help shown")

// parse parses flags that may stand before, between or after the
// positional arguments and returns the positional arguments in order
// ("--" ends the flags; "-" is a positional argument, standard input or
// output). status is the exit status to return when err is not nil: 0
// after -h, 2 after a flag error (already printed with the usage).
func (fs *flags) parse(args []string) (positional []string, status int, err error) {
	usage := fs.Usage
	fs.Usage = func() {} // printed below, to the stream the outcome calls for
	defer func() { fs.Usage = usage }()
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.printUsage(fs.stdout)
			return nil, 0, errHelp
		}
		if err != nil {
			fs.printUsage(fs.Output())
			return nil, 2, err
		}
		if fs.NArg() == 0 {
			return positional, 0, nil
		}
		rest := fs.Args()
		// flag.Parse stops at "--" and drops it; everything after it is
		// positional. Detect it: the argument before rest is "--".
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), 0, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// version is the --version text: the module version (a tagged build) or
// the VCS revision the binary was built from, and the Go toolchain.
func version() string {
	v, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "nfpcc version %s", v)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		fmt.Fprintf(&b, " (commit %s", rev)
		if dirty {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, "\nbuilt with %s for %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}
