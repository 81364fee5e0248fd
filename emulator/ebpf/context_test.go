package ebpf_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/emulator/ebpf"
)

// link encodes and decodes a cilium/ebpf instruction list, resolving its
// symbolic jumps as a loader would.
func link(t *testing.T, insns asm.Instructions) asm.Instructions {
	t.Helper()
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	out, err := asm.AppendInstructions(nil, &buf, binary.LittleEndian, "linux")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func frame(n int) []byte {
	f := make([]byte, n)
	f[12], f[13] = 0x08, 0x00 // IPv4
	for i := 14; i < n; i++ {
		f[i] = byte(i)
	}
	return f
}

func machine(t *testing.T, hook emulator.Hook, insns asm.Instructions, maps ...emulator.Map) *ebpf.Machine {
	t.Helper()
	m, err := ebpf.New([]ebpf.Prog{{Name: "p", Hook: hook, Insns: insns}}, maps, nil, ebpf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestXDPContext(t *testing.T) {
	// r0 = data_end - data
	m := machine(t, emulator.HookXDP, assemble(t, "ldxw %r2, [%r1]\nldxw %r3, [%r1+4]\nmov %r0, %r3\nsub %r0, %r2\nexit"))
	res, err := m.Run(0, ebpf.Input{Packet: frame(60)})
	if err != nil || res.Return != 60 {
		t.Fatalf("length: %v, %v", res, err)
	}
	if res.Action != "XDP_UNKNOWN(60)" {
		t.Errorf("action %q", res.Action)
	}
	// Write the first byte after a bounds check, then pass.
	m = machine(t, emulator.HookXDP, assemble(t, `
ldxw %r2, [%r1]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 1
jgt %r4, %r3, out
stb [%r2], 0xaa
mov %r0, 2
exit
out:
mov %r0, 1
exit`))
	res, err = m.Run(0, ebpf.Input{Packet: frame(60)})
	if err != nil || res.Action != "XDP_PASS" || res.Packet[0] != 0xaa || len(res.Packet) != 60 {
		t.Fatalf("write: %+v, %v", res, err)
	}
	res, err = m.Run(0, ebpf.Input{Packet: nil})
	if err != nil || res.Action != "XDP_DROP" {
		t.Fatalf("empty packet: %+v, %v", res, err)
	}
	// Reading past data_end names the packet region.
	m = machine(t, emulator.HookXDP, assemble(t, "ldxw %r2, [%r1]\nldxb %r0, [%r2+60]\nexit"))
	_, err = m.Run(0, ebpf.Input{Packet: frame(60)})
	if err == nil || !strings.Contains(err.Error(), "pc 1") || !strings.Contains(err.Error(), "packet region") {
		t.Errorf("OOB packet read: %v", err)
	}
	// The context is read-only for XDP.
	m = machine(t, emulator.HookXDP, assemble(t, "stw [%r1+12], 1\nmov %r0, 2\nexit"))
	if _, err = m.Run(0, ebpf.Input{Packet: frame(60)}); err == nil || !strings.Contains(err.Error(), "may not write its context") {
		t.Errorf("ctx write: %v", err)
	}
	// Pointer fields need a 4-byte load.
	m = machine(t, emulator.HookXDP, assemble(t, "ldxh %r0, [%r1]\nexit"))
	if _, err = m.Run(0, ebpf.Input{Packet: frame(60)}); err == nil || !strings.Contains(err.Error(), "4-byte load") {
		t.Errorf("narrow pointer load: %v", err)
	}
	// ingress_ifindex and rx_queue_index come from the input.
	m = machine(t, emulator.HookXDP, assemble(t, "ldxw %r0, [%r1+12]\nldxw %r2, [%r1+16]\nlsh %r0, 8\nor %r0, %r2\nexit"))
	res, err = m.Run(0, ebpf.Input{Packet: frame(60), IngressIfindex: 3, RxQueueIndex: 5})
	if err != nil || res.Return != 0x305 {
		t.Errorf("ifindex/queue: %v %v", res, err)
	}
}

func TestXDPAdjustHeadAndTail(t *testing.T) {
	// adjust_head(ctx, r2) with r6 = ctx; r0 = result << 16 | new length.
	prog := func(call int, delta int) string {
		return strings.NewReplacer("CALL", itoa(call), "DELTA", itoa(delta)).Replace(`
mov %r6, %r1
mov %r2, DELTA
call CALL
mov %r7, %r0
ldxw %r2, [%r6]
ldxw %r3, [%r6+4]
mov %r0, %r3
sub %r0, %r2
lsh %r7, 16
or %r0, %r7
exit`)
	}
	cases := []struct {
		name       string
		call, d    int
		wantRet    int64
		wantLength uint64
	}{
		{"head grows", emulator.FnXdpAdjustHead, -14, 0, 74},
		{"head shrinks", emulator.FnXdpAdjustHead, 20, 0, 40},
		{"head below 14 bytes", emulator.FnXdpAdjustHead, 50, -22, 60},
		{"head past headroom", emulator.FnXdpAdjustHead, -300, -22, 60},
		{"tail shrinks", emulator.FnXdpAdjustTail, -10, 0, 50},
		{"tail grows", emulator.FnXdpAdjustTail, 100, 0, 160},
		{"tail past frame", emulator.FnXdpAdjustTail, 5000, -22, 60},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := machine(t, emulator.HookXDP, assemble(t, prog(c.call, c.d)))
			res, err := m.Run(0, ebpf.Input{Packet: frame(60)})
			if err != nil {
				t.Fatal(err)
			}
			ret := int64(int32(uint32(res.Return>>16&0xffff)<<16) >> 16)
			if ret != c.wantRet || res.Return&0xffff != c.wantLength || uint64(len(res.Packet)) != c.wantLength {
				t.Errorf("ret %d len %d packet %d; want ret %d len %d", ret, res.Return&0xffff, len(res.Packet), c.wantRet, c.wantLength)
			}
		})
	}
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestTCContext(t *testing.T) {
	// r0 = len << 16 | protocol
	m := machine(t, emulator.HookTC, assemble(t, "ldxw %r0, [%r1]\nlsh %r0, 16\nldxw %r2, [%r1+16]\nor %r0, %r2\nexit"))
	res, err := m.Run(0, ebpf.Input{Packet: frame(60)})
	if err != nil || res.Return != 60<<16|0x0008 {
		t.Fatalf("len/protocol: %v, %v", res, err)
	}
	// mark is writable, len is not.
	m = machine(t, emulator.HookTC, assemble(t, "stw [%r1+8], 7\nldxw %r0, [%r1+8]\nexit"))
	if res, err = m.Run(0, ebpf.Input{Packet: frame(60)}); err != nil || res.Return != 7 || res.Action != "TC_ACT_REDIRECT" {
		t.Errorf("mark: %v %v", res, err)
	}
	if len(res.Context) != 1 || res.Context["mark"] != 7 {
		t.Errorf("changed context fields: %v, want mark=7", res.Context)
	}
	// Writing the value the field already had is no change.
	if res, err = m.Run(0, ebpf.Input{Packet: frame(60), Mark: 7}); err != nil || res.Context != nil {
		t.Errorf("unchanged mark: %v %v", res.Context, err)
	}
	m = machine(t, emulator.HookTC, assemble(t, "stw [%r1], 7\nmov %r0, 0\nexit"))
	if _, err = m.Run(0, ebpf.Input{Packet: frame(60)}); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("len write: %v", err)
	}
	// LD_ABS reads big-endian from the packet; out of range ends with r0 = 0.
	m = machine(t, emulator.HookTC, assemble(t, "mov %r6, %r1\nldabsh 12\nexit"))
	if res, err = m.Run(0, ebpf.Input{Packet: frame(60)}); err != nil || res.Return != 0x0800 {
		t.Errorf("ldabsh: %v %v", res, err)
	}
	m = machine(t, emulator.HookTC, assemble(t, "mov %r6, %r1\nmov %r0, 5\nldabsw 58\nmov %r0, 7\nexit"))
	if res, err = m.Run(0, ebpf.Input{Packet: frame(60)}); err != nil || res.Return != 0 || res.Action != "TC_ACT_OK" {
		t.Errorf("ldabsw out of range: %v %v", res, err)
	}
}

func newMap(t *testing.T, spec emulator.MapSpec) emulator.Map {
	t.Helper()
	m, err := emulator.NewMap(spec)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMapHelpers(t *testing.T) {
	// counters[proto]++ with a lookup, or insert 1 with NOEXIST.
	hash := newMap(t, emulator.MapSpec{Name: "counters", Type: emulator.MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 4})
	prog := link(t, asm.Instructions{
		asm.StoreImm(asm.R10, -4, 17, asm.Word),
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "insert"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
		asm.StoreImm(asm.R10, -16, 1, asm.Word).WithSymbol("insert"),
		asm.StoreImm(asm.R10, -12, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, -4),
		asm.Mov.Reg(asm.R3, asm.R10),
		asm.Add.Imm(asm.R3, -16),
		asm.Mov.Imm(asm.R4, emulator.UpdateNoExist),
		asm.FnMapUpdateElem.Call(),
		asm.Return(),
	})
	m := machine(t, emulator.HookXDP, prog, hash)
	for i, want := range []uint64{0, 2, 2} {
		res, err := m.Run(0, ebpf.Input{Packet: frame(60)})
		if err != nil || res.Return != want {
			t.Fatalf("run %d: %v %v, want r0 %d", i, res, err, want)
		}
	}
	st := m.Snapshot()
	m2, err := ebpf.New([]ebpf.Prog{{Name: "p", Hook: emulator.HookXDP, Insns: prog}}, []emulator.Map{newMap(t, *hash.Spec())}, nil, ebpf.Options{SnapshotMaps: true})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := m2.Run(0, ebpf.Input{Packet: frame(60)}); err != nil || res.Maps == nil || len(res.Maps.Maps["counters"]) != 1 {
		t.Errorf("SnapshotMaps: %+v %v", res, err)
	}
	if got := st.Maps["counters"]; len(got) != 1 || got[0].Key != "11000000" || got[0].Value != "0300000000000000" {
		t.Errorf("counters after 3 runs: %+v", got)
	}
}

func TestTailCall(t *testing.T) {
	progs := emulator.MapSpec{Name: "jmp", Type: emulator.MapProgArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}
	jmp := newMap(t, progs)
	caller := link(t, asm.Instructions{
		asm.LoadMapPtr(asm.R2, 0),
		asm.Mov.Imm(asm.R3, 1),
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 1), // fell through
		asm.Return(),
	})
	callee := link(t, asm.Instructions{asm.Mov.Imm(asm.R0, 42), asm.Return()})
	m, err := ebpf.New([]ebpf.Prog{{Name: "caller", Hook: emulator.HookXDP, Insns: caller}, {Name: "callee", Hook: emulator.HookXDP, Insns: callee}},
		[]emulator.Map{jmp}, nil, ebpf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(0, ebpf.Input{Packet: frame(60)})
	if err != nil || res.Return != 1 {
		t.Fatalf("empty prog array must fall through: %v %v", res, err)
	}
	if err := jmp.Update([]byte{1, 0, 0, 0}, []byte{1, 0, 0, 0}, emulator.UpdateAny); err != nil {
		t.Fatal(err)
	}
	res, err = m.Run(0, ebpf.Input{Packet: frame(60)})
	if err != nil || res.Return != 42 {
		t.Fatalf("tail call: %v %v", res, err)
	}
}

func TestGlobalDataAndReadOnly(t *testing.T) {
	data := newMap(t, emulator.MapSpec{Name: ".rodata", Type: emulator.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err := data.Update(make([]byte, 4), []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0); err != nil {
		t.Fatal(err)
	}
	read := link(t, asm.Instructions{
		{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R1, Src: asm.PseudoMapValue, Constant: 0 | 4<<32},
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Word),
		asm.Return(),
	})
	m, err := ebpf.New([]ebpf.Prog{{Name: "p", Insns: read}}, []emulator.Map{data}, []bool{true}, ebpf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(0, ebpf.Input{})
	if err != nil || res.Return != 0x08070605 {
		t.Fatalf("read .rodata+4: %v %v", res, err)
	}
	write := link(t, asm.Instructions{
		{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R1, Src: asm.PseudoMapValue, Constant: 0},
		asm.StoreImm(asm.R1, 0, 1, asm.Word),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	})
	m, err = ebpf.New([]ebpf.Prog{{Name: "p", Insns: write}}, []emulator.Map{data}, []bool{true}, ebpf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = m.Run(0, ebpf.Input{}); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("write to .rodata: %v", err)
	}
}

func TestEventsAndRedirect(t *testing.T) {
	events := newMap(t, emulator.MapSpec{Name: "events", Type: emulator.MapPerfEventArray, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	devs := newMap(t, emulator.MapSpec{Name: "tx_port", Type: emulator.MapDevMap, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	if err := devs.Update([]byte{2, 0, 0, 0}, []byte{7, 0, 0, 0}, 0); err != nil {
		t.Fatal(err)
	}
	prog := link(t, asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.StoreImm(asm.R10, -4, 0x01020304, asm.Word),
		asm.LoadMapPtr(asm.R2, 0),
		asm.LoadImm(asm.R3, 0xffffffff|2<<32, asm.DWord), // current CPU, 2 packet bytes
		asm.Mov.Reg(asm.R4, asm.R10),
		asm.Add.Imm(asm.R4, -4),
		asm.Mov.Imm(asm.R5, 4),
		asm.FnPerfEventOutput.Call(),
		asm.LoadMapPtr(asm.R1, 1),
		asm.Mov.Imm(asm.R2, 2),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRedirectMap.Call(),
		asm.Return(),
	})
	m := machine(t, emulator.HookXDP, prog, events, devs)
	pkt := frame(60)
	pkt[0], pkt[1] = 0xaa, 0xbb
	res, err := m.Run(0, ebpf.Input{Packet: pkt})
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != "XDP_REDIRECT" || res.Redirect == nil || res.Redirect.Map != "tx_port" || res.Redirect.Key != 2 {
		t.Errorf("redirect: %s %+v", res.Action, res.Redirect)
	}
	if len(res.Events) != 1 || hex.EncodeToString(res.Events[0].Data) != "04030201aabb" {
		t.Errorf("events: %+v", res.Events)
	}
}

func TestDeterministicHelpers(t *testing.T) {
	prog := link(t, asm.Instructions{
		asm.FnGetPrandomU32.Call(),
		asm.Mov.Reg(asm.R6, asm.R0),
		asm.FnKtimeGetNs.Call(),
		asm.Add.Reg(asm.R0, asm.R6),
		asm.Return(),
	})
	run := func() []uint64 {
		m, err := ebpf.New([]ebpf.Prog{{Name: "p", Hook: emulator.HookXDP, Insns: prog}}, nil, nil, ebpf.Options{Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for i := 0; i < 3; i++ {
			res, err := m.Run(0, ebpf.Input{Packet: frame(60)})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res.Return)
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("runs differ: %v vs %v", a, b)
		}
	}
	if a[0] == a[1] {
		t.Errorf("random/clock did not advance: %v", a)
	}
}
