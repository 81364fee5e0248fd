// Package ir is nfpcc's SSA intermediate representation: the form the
// lifter (compiler/lift) produces from verified eBPF, the passes rewrite,
// and the NFP backend lowers.
//
// It is SSA with block arguments instead of phi nodes, as wazero's
// wazevo/ssa, built by the lifter with Braun et al.'s algorithm ("Simple
// and Efficient Construction of Static Single Assignment Form", CC 2013).
// Ops and their properties are rows of one table (op.go), in the manner of
// Go's cmd/compile/internal/ssa, and Check (check.go) verifies the
// invariants every stage relies on, as ssa/check.go does. What the eBPF
// verifier proved about each value travels with it in a side table of
// Facts, so that passes, which import only this package, can use it, and
// their tests can state it in text.
//
// The text format round-trips: Print(Parse(s)) == s for everything Print
// writes. docs/ir.md has the grammar, the op table and the invariants.
// Machine executes IR with the ops' reference semantics, for differential
// tests of the lifter and of passes.
//
// The package is a leaf: it imports only the standard library and
// participle (for Parse).
package ir
