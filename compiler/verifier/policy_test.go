package verifier_test

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/compiler/verifier"
)

// TestPolicy: the rules of root (the default: offload needs CAP_BPF or
// CAP_SYS_ADMIN) and of a loader without CAP_PERFMON (Unprivileged), each
// as the kernel's verdict and message; and the socket references of the
// lookup helpers.
func TestPolicy(t *testing.T) {
	pkt := asm.Instructions{ // r2 = data, r3 = data_end
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
	}
	ret := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	prog := func(body ...asm.Instruction) asm.Instructions {
		return append(append(append(asm.Instructions{}, pkt...), body...), ret...)
	}
	tuple := asm.Instructions{ // a zeroed 12-byte tuple at fp-16, r2 = &tuple, r3 = 12
		asm.Mov.Imm(asm.R6, 0),
		asm.StoreMem(asm.RFP, -16, asm.R6, asm.DWord),
		asm.StoreMem(asm.RFP, -8, asm.R6, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -16),
		asm.Mov.Imm(asm.R3, 12),
		asm.Mov.Imm(asm.R4, -1),
		asm.Mov.Imm(asm.R5, 0),
		asm.FnSkcLookupTcp.Call(),
	}
	lookup := func(body ...asm.Instruction) asm.Instructions {
		return append(append(append(asm.Instructions{}, tuple...), body...), ret...)
	}
	for _, c := range []struct {
		name         string
		typ          ebpf.ProgramType
		insns        asm.Instructions
		root, unpriv string // "" when accepted
	}{
		{"64-bit packet pointer difference", ebpf.XDP, prog(asm.Sub.Reg(asm.R3, asm.R2)), "", "R3 pointer -= pointer prohibited"},
		{"32-bit packet pointer difference", ebpf.XDP, prog(asm.Sub.Reg32(asm.R3, asm.R2)), "", "R3 pointer -= pointer prohibited"},
		{"32-bit pointer sum", ebpf.XDP, prog(asm.Add.Reg32(asm.R3, asm.R2)), "R3 32-bit pointer arithmetic prohibited", "R3 32-bit pointer arithmetic prohibited"},
		{"32-bit partial copy", ebpf.XDP, prog(asm.Mov.Reg32(asm.R4, asm.R2)), "", "R2 partial copy of pointer"},
		{"packet pointer plus a register", ebpf.XDP, prog(asm.Mov.Imm(asm.R4, 1), asm.Add.Reg(asm.R2, asm.R4)), "",
			"R2 has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root"},
		{"jiffies64", ebpf.XDP, prog(asm.FnJiffies64.Call()), "", ""},
		{"redirect_peer in tc", ebpf.SchedCLS, prog(asm.Mov.Imm(asm.R1, 1), asm.Mov.Imm(asm.R2, 0), asm.FnRedirectPeer.Call()), "", ""},
		{"redirect_peer in xdp", ebpf.XDP, prog(asm.Mov.Imm(asm.R1, 1), asm.Mov.Imm(asm.R2, 0), asm.FnRedirectPeer.Call()),
			"unknown func bpf_redirect_peer#155", "unknown func bpf_redirect_peer#155"},
		{"redirect_neigh without params", ebpf.SchedCLS, prog(asm.Mov.Imm(asm.R1, 1), asm.Mov.Imm(asm.R2, 0), asm.Mov.Imm(asm.R3, 0),
			asm.Mov.Imm(asm.R4, 0), asm.FnRedirectNeigh.Call()), "", ""},
		{"trace_printk", ebpf.XDP, prog(asm.Mov.Imm(asm.R6, 0), asm.StoreMem(asm.RFP, -8, asm.R6, asm.DWord), asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8),
			asm.Mov.Imm(asm.R2, 8), asm.FnTracePrintk.Call()), "", "unknown func bpf_trace_printk#6"},
		{"socket released", ebpf.SchedCLS, lookup(
			jeqz(asm.R0, 2),
			asm.Mov.Reg(asm.R1, asm.R0),
			asm.FnSkRelease.Call(),
		), "", ""},
		{"socket not released", ebpf.SchedCLS, lookup(), "Unreleased reference id=", "Unreleased reference id="},
		{"socket released unchecked", ebpf.SchedCLS, lookup(asm.Mov.Reg(asm.R1, asm.R0), asm.FnSkRelease.Call()),
			"R1 type=sock_common_or_null expected=sock_common", "R1 type=sock_common_or_null expected=sock_common"},
		{"socket released twice", ebpf.SchedCLS, lookup(
			jeqz(asm.R0, 5),
			asm.Mov.Reg(asm.R6, asm.R0),
			asm.Mov.Reg(asm.R1, asm.R0),
			asm.FnSkRelease.Call(),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.FnSkRelease.Call(),
		), "R1 type=scalar expected=sock_common", "R6 !read_ok"},
		{"socket dereferenced", ebpf.SchedCLS, lookup(
			jeqz(asm.R0, 3),
			asm.LoadMem(asm.R2, asm.R0, 0, asm.Word),
			asm.Mov.Reg(asm.R1, asm.R0),
			asm.FnSkRelease.Call(),
		), "R0 invalid mem access", "R0 invalid mem access"},
	} {
		for _, mode := range []struct {
			unpriv bool
			want   string
		}{{false, c.root}, {true, c.unpriv}} {
			p := &loader.Program{Name: "t", Type: c.typ, Insns: c.insns}
			_, err := verifier.Verify(p, nil, &verifier.Options{Unprivileged: mode.unpriv})
			switch {
			case mode.want == "" && err != nil:
				t.Errorf("%s (unprivileged %v): %v", c.name, mode.unpriv, err)
			case mode.want != "" && err == nil:
				t.Errorf("%s (unprivileged %v): accepted, want %q", c.name, mode.unpriv, mode.want)
			case mode.want != "" && !strings.Contains(err.Error(), mode.want):
				t.Errorf("%s (unprivileged %v): got %v, want %q", c.name, mode.unpriv, err, mode.want)
			}
		}
	}
}

// jeqz is "if r == 0 goto pc+off".
func jeqz(r asm.Register, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.JEq.Op(asm.ImmSource), Dst: r, Offset: off}
}
