package main

import "flag"

// update is the house -update flag for every golden test of this package
// (`go test ./cmd/nfpcc -update`); each golden file set may also have its
// own flag (-update-run, -update-as) to rewrite only its files.
var update = flag.Bool("update", false, "rewrite the expected sections of the golden tests of cmd/nfpcc (testdata/*/*.txtar)")
