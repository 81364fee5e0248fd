// Command nfpcc compiles eBPF programs for the Netronome NFP SmartNIC and
// hosts the tools around the compiler: the reference interpreter, the NFP
// emulator, the assembler and disassembler, the verifier and the test
// runners.
//
// `nfpcc prog.o -o prog.nfp` compiles (the default action); every other verb
// is a subcommand registered by its own file in this package (conformance.go,
// run.go, objdump.go, …) so that tools can be added without touching a shared
// switch.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
)

// command is one subcommand of nfpcc.
type command struct {
	name    string
	summary string
	// run executes the subcommand with its arguments (the verb removed) and
	// returns the process exit status: 0 success, 1 a negative result (a
	// failed test, a rejected program), 2 a usage or input error.
	run func(args []string, stdout, stderr io.Writer) int
}

var commands = map[string]*command{}

// register adds a subcommand; files of this package call it from init.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("BUG: subcommand registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	if os.Getenv("GOGC") == "" {
		// nfpcc's runs are short and allocate much that dies young
		// (verifier states, IR, machine words): collecting at 4× the live
		// heap instead of 2× takes 12–19% off verifying the cilium corpus
		// and ~14% off a fuzz campaign, for a few tens of MB.
		debug.SetGCPercent(400)
	}
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main is the whole command line as a function, so that tests drive it
// without a subprocess.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && commands[args[1]] != nil {
			return commands[args[1]].run([]string{"-h"}, stdout, stderr)
		}
		usage(stdout)
		return 0
	case "-version", "--version", "version":
		io.WriteString(stdout, version())
		return 0
	}
	if c, ok := commands[args[0]]; ok {
		return c.run(args[1:], stdout, stderr)
	}
	return compileMain(args, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: nfpcc PROG.o -o PROG.nfp [flags]   compile an eBPF object for the NFP")
	fmt.Fprintln(w, "       nfpcc COMMAND [arguments]   (nfpcc COMMAND -h: its flags)")
	fmt.Fprintln(w, "       nfpcc --version")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	// The default action's flags, as clang -h lists the compiler's.
	fmt.Fprintln(w, "\ncompiling:")
	compileMain([]string{"-h"}, w, w)
}
