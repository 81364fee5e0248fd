package nfp_test

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
	"github.com/nfpcc/nfpcc/emulator/nfp"
	"github.com/nfpcc/nfpcc/isa"
	"github.com/nfpcc/nfpcc/testsuite"
)

// executedPath writes the path a run took in the estimator's notation:
// "->N" for a taken branch (and the entry), "--N" for falling through into
// a basic-block leader N (a branch target, or the instruction after a
// conditional branch), ending with "->15000" at the branch to the outro.
func executedPath(ins []isa.Instr, trace []int) string {
	leader := make([]bool, len(ins)+1)
	for pc, in := range ins {
		if br, ok := in.(isa.BranchInstr); ok {
			if int(br.Addr) < len(ins) {
				leader[br.Addr] = true
			}
			if br.Cond != isa.BR {
				leader[pc+1] = true
			}
		}
	}
	var b strings.Builder
	b.WriteString("->0")
	for i := 0; i < len(trace); i++ {
		pc := trace[i]
		if br, ok := ins[pc].(isa.BranchInstr); ok {
			after := i + 1 + int(br.Defer) // the trace index after the defer slots
			taken := br.Cond == isa.BR || after < len(trace) && trace[after] != pc+1+int(br.Defer)
			if taken {
				fmt.Fprintf(&b, "->%d", br.Addr)
				if int(br.Addr) >= 15000 {
					break
				}
				i = after - 1
				continue
			}
		}
		if i+1 < len(trace) && trace[i+1] == pc+1 && leader[pc+1] {
			fmt.Fprintf(&b, "--%d", pc+1)
		}
	}
	return b.String()
}

// TestNFPJITAllPaths runs the example packet of every path the paper's
// estimator enumerated (both orders, 255 paths over the 8 programs): the
// emulator must take exactly that path and report the estimator's cycles
// and DRAM cycles, and agree with the host interpreter on the action, r0,
// the packet and, after all packets, the maps.
func TestNFPJITAllPaths(t *testing.T) {
	dir := testsuite.Corpus(t, "nfp-jit")
	files, _ := filepath.Glob(filepath.Join(dir, "predictions", "*.ereport"))
	if len(files) == 0 {
		t.Fatal("no ereports")
	}
	total, agree := 0, 0
	for _, file := range files {
		base := filepath.Base(file)
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(base, ".ereport"), ".k"), ".i")
		t.Run(base, func(t *testing.T) {
			paths, err := testsuite.ReadEreport(file)
			if err != nil {
				t.Fatal(err)
			}
			prog, ins := loadDumpIns(t, filepath.Join(dir, "programs", name+".asm"))
			obj, err := loader.Load(filepath.Join(dir, "programs", name+".bpf.o"))
			if err != nil {
				t.Fatal(err)
			}
			// One firmware for all paths: maps carry over from packet to
			// packet as on the NIC (no program here branches on them).
			maps, _, err := ebpf.NewMaps(obj)
			if err != nil {
				t.Fatal(err)
			}
			fw, err := nfp.NewFirmware(prog, nfp.Options{Maps: maps, Trace: true})
			if err != nil {
				t.Fatal(err)
			}
			// The host interpreter on the .bpf.o beside it, maps persisting
			// the same way.
			imaps, ro, err := ebpf.NewMaps(obj)
			if err != nil {
				t.Fatal(err)
			}
			im, err := ebpf.New([]ebpf.Prog{{Name: obj.Programs[0].Name, Hook: emulator.HookXDP, Insns: obj.Programs[0].Insns}}, imaps, ro, ebpf.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for k, p := range paths {
				total++
				r, err := fw.RunPacket(p.Packet)
				if err != nil {
					t.Errorf("path %d: %v", k, err)
					continue
				}
				ires, err := im.Run(0, ebpf.Input{Packet: p.Packet})
				if err != nil {
					t.Errorf("path %d: interpreter: %v", k, err)
					continue
				}
				if want := nfp.OffloadAction(emulator.HookXDP, ires.Return); r.Action != want || uint32(r.Return) != uint32(ires.Return) || !bytes.Equal(r.Packet, ires.Packet) {
					t.Errorf("path %d: NFP %s r0 %#x, interpreter r0 %#x (%s); packets equal %v", k, r.Action, r.Return, ires.Return, want, bytes.Equal(r.Packet, ires.Packet))
				}
				pcs := make([]int, len(r.Trace))
				for i, s := range r.Trace {
					pcs[i] = s.PC
				}
				got := executedPath(ins, pcs)
				ok := true
				if got != p.Path {
					t.Errorf("path %d: took %s, estimator %s", k, short(got), short(p.Path))
					ok = false
				}
				if r.Cycles != p.Cycles {
					t.Errorf("path %d: %d cycles, estimator %d", k, r.Cycles, p.Cycles)
					ok = false
				}
				if math.Abs(r.DRAMCycles-p.DRAM) > 1e-4 {
					t.Errorf("path %d: DRAM %.5f, estimator %.5f", k, r.DRAMCycles, p.DRAM)
					ok = false
				}
				if ok {
					agree++
				}
			}
			if got, want := fw.MapState(), im.Snapshot(); !reflect.DeepEqual(got, want) {
				t.Errorf("maps differ from the interpreter's after %d packets", len(paths))
			}
		})
	}
	t.Logf("%d of %d estimator paths: same path, same cycles, same DRAM cycles; actions, r0 and packets as the interpreter's", agree, total)
}
