package nfp

// CPUTime is this process's CPU time, for benchmarks in nfp_test.
var CPUTime = cpuTime
