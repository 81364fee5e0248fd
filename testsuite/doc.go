// Package testsuite holds what the tests of several packages share: the
// corpus locator, golden-file runners, differential harnesses and reports.
// Only tests and cmd/nfpcc import it.
package testsuite
