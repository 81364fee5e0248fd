package main

import (
	"fmt"
	"strings"

	"github.com/nfpcc/nfpcc/compiler/loader"
)

// selectPrograms picks the programs a command works on: the one named by
// --prog (a function or section name), or else every entry program of the
// object. Functions of `.text` are subprograms that libbpf links into the
// programs calling them, not programs of their own, so they are left out
// unless the object has nothing else (PREVAIL-style test objects keep their
// only program there).
func selectPrograms(obj *loader.Object, name string) ([]*loader.Program, error) {
	var names []string
	var entries, all []*loader.Program
	for _, p := range obj.Programs {
		names = append(names, p.Name)
		if name != "" {
			if p.Name == name || p.Section == name {
				return []*loader.Program{p}, nil
			}
			continue
		}
		all = append(all, p)
		if p.Section != ".text" {
			entries = append(entries, p)
		}
	}
	if name != "" {
		return nil, fmt.Errorf("no program %q (the object has: %s)", name, strings.Join(names, ", "))
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no programs")
	}
	if len(entries) == 0 {
		return all, nil
	}
	return entries, nil
}
