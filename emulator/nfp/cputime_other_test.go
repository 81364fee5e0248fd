//go:build !unix

package nfp

import "time"

// cpuTime is not measured here: BenchmarkLoop reports wall-clock speed only.
func cpuTime() time.Duration { return 0 }
