package diff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/nfpcc/nfpcc/compiler"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/isa/image"
	"github.com/nfpcc/nfpcc/passes"
)

// arrayMaps are the ARRAY maps of arrayLookupProgram: value sizes that are
// and are not powers of two (strides 4, 16, 64, 8), max_entries below and
// above an inline immediate (5, 300) and a single entry.
var arrayMaps = []*loader.Map{
	{Name: "a4", Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 5},
	{Name: "a12", Type: ebpf.Array, KeySize: 4, ValueSize: 12, MaxEntries: 300},
	{Name: "a48", Type: ebpf.Array, KeySize: 4, ValueSize: 48, MaxEntries: 3},
	{Name: "a8", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1},
}

// arrayLookupProgram looks ARRAY values up with keys in and out of range —
// packet bits the verifier bounds above max_entries (checked at run
// time), constants in and out of range, a key stored by a 64-bit store, a
// key stored on two paths — and adds to their counters with every form:
// 32- and 64-bit, constants up to 0xffff and above, -1, packet bytes and
// halves (bounded to 16 bits: add_imm) and whole words (blocking add), at
// the first, middle and last word of a value; it also loads and stores the
// other words. Which lookups found a value is written into the packet.
func arrayLookupProgram() asm.Instructions {
	// lookup calls bpf_map_lookup_elem(map m, fp+off); label names its
	// first instruction.
	lookup := func(label string, m int, off int16) asm.Instructions {
		return asm.Instructions{
			asm.LoadMapPtr(asm.R1, m).WithSymbol(label),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, int32(off)),
			asm.FnMapLookupElem.Call(),
		}
	}
	add := func(size asm.Size, off int16, r asm.Register) asm.Instruction {
		return atOffset(asm.StoreXAdd(asm.R0, r, size), off)
	}
	// mark writes v to packet byte at; label names its first instruction.
	mark := func(label string, at int16, v int32) asm.Instructions {
		return asm.Instructions{asm.Mov.Imm(asm.R1, v).WithSymbol(label), asm.StoreMem(asm.R6, at, asm.R1, asm.Byte)}
	}
	var code asm.Instructions
	for _, is := range []asm.Instructions{
		{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
			asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
			asm.Mov.Reg(asm.R1, asm.R2),
			asm.Add.Imm(asm.R1, 48),
			asm.JGT.Reg(asm.R1, asm.R3, "short"),
			asm.Mov.Reg(asm.R6, asm.R2),
			// a4[byte 14 & 7]: 5..7 are out of range
			asm.LoadMem(asm.R1, asm.R6, 14, asm.Byte),
			asm.And.Imm(asm.R1, 7),
			asm.StoreMem(asm.RFP, -4, asm.R1, asm.Word),
		},
		lookup("", 0, -4),
		{
			asm.JEq.Imm(asm.R0, 0, "a4miss"),
			asm.Mov.Imm(asm.R1, 1),
			add(asm.Word, 0, asm.R1),
		},
		mark("", 0, 0x11),
		{asm.Ja.Label("a12")},
		mark("a4miss", 0, 0xee),
		{
			// a12[word 26 & 0x1ff]: 300..511 are out of range
			asm.LoadMem(asm.R1, asm.R6, 26, asm.Word).WithSymbol("a12"),
			asm.And.Imm(asm.R1, 0x1ff),
			asm.StoreMem(asm.RFP, -8, asm.R1, asm.Word),
		},
		lookup("", 1, -8),
		{
			asm.JEq.Imm(asm.R0, 0, "a12miss"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.Word),
			asm.StoreMem(asm.R6, 1, asm.R1, asm.Word),
			asm.LoadMem(asm.R1, asm.R6, 20, asm.Byte),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.Word),
			asm.StoreMem(asm.R0, 10, asm.R1, asm.Half),
			asm.LoadMem(asm.R1, asm.R6, 22, asm.Byte),
			add(asm.Word, 4, asm.R1),
			asm.Mov.Imm(asm.R1, 0xffff),
			add(asm.Word, 4, asm.R1),
			asm.Ja.Label("a48"),
		},
		mark("a12miss", 5, 0xee),
		{
			// a48[2]: a constant in range
			asm.Mov.Imm(asm.R1, 2).WithSymbol("a48"),
			asm.StoreMem(asm.RFP, -12, asm.R1, asm.Word),
		},
		lookup("", 2, -12),
		{
			asm.JEq.Imm(asm.R0, 0, "a48miss"),
			asm.Mov.Imm(asm.R1, 1),
			add(asm.DWord, 0, asm.R1),
			asm.Mov.Imm(asm.R1, 0x10000),
			add(asm.DWord, 8, asm.R1),
			asm.LoadMem(asm.R1, asm.R6, 23, asm.Byte),
			add(asm.DWord, 8, asm.R1),
			asm.Mov.Imm(asm.R1, -1),
			add(asm.Word, 44, asm.R1),
			asm.LoadMem(asm.R1, asm.R6, 30, asm.Word),
			add(asm.Word, 44, asm.R1),
			asm.LoadMem(asm.R1, asm.R6, 34, asm.Word),
			asm.StoreMem(asm.R0, 16, asm.R1, asm.Word),
			asm.LoadMem(asm.R1, asm.R0, 16, asm.Half),
			asm.StoreMem(asm.R6, 6, asm.R1, asm.Half),
			asm.Ja.Label("a48out"),
		},
		mark("a48miss", 8, 0xee),
		{
			// a48[3]: a constant out of range
			asm.Mov.Imm(asm.R1, 3).WithSymbol("a48out"),
			asm.StoreMem(asm.RFP, -16, asm.R1, asm.Word),
		},
		lookup("", 2, -16),
		{
			asm.JEq.Imm(asm.R0, 0, "a48outmiss"),
			asm.Mov.Imm(asm.R1, 5),
			add(asm.Word, 40, asm.R1),
		},
		mark("", 9, 0x11),
		{asm.Ja.Label("a8")},
		mark("a48outmiss", 9, 0xee),
		{
			// a8[byte 17 & 1] through a 64-bit store: 1 is out of range
			asm.LoadMem(asm.R1, asm.R6, 17, asm.Byte).WithSymbol("a8"),
			asm.And.Imm(asm.R1, 1),
			asm.StoreMem(asm.RFP, -24, asm.R1, asm.DWord),
		},
		lookup("", 3, -24),
		{
			asm.JEq.Imm(asm.R0, 0, "a8miss"),
			asm.LoadMem(asm.R1, asm.R6, 24, asm.Half),
			add(asm.DWord, 0, asm.R1),
		},
		mark("", 10, 0x11),
		{asm.Ja.Label("paths")},
		mark("a8miss", 10, 0xee),
		{
			// a4[1 or 4], stored on two paths: both in range
			asm.LoadMem(asm.R1, asm.R6, 18, asm.Byte).WithSymbol("paths"),
			asm.And.Imm(asm.R1, 1),
			asm.JEq.Imm(asm.R1, 0, "four"),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreMem(asm.RFP, -28, asm.R1, asm.Word),
			asm.Ja.Label("both"),
			asm.Mov.Imm(asm.R1, 4).WithSymbol("four"),
			asm.StoreMem(asm.RFP, -28, asm.R1, asm.Word),
		},
		lookup("both", 0, -28),
		{
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.Mov.Imm(asm.R1, 0x7fff),
			add(asm.Word, 0, asm.R1),
			asm.Mov.Imm(asm.R0, 2).WithSymbol("out"),
			asm.Return(),
			asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
			asm.Return(),
		},
	} {
		code = append(code, is...)
	}
	return code
}

// TestArrayLookup runs arrayLookupProgram at -O0 and -O2, also with 3
// registers, against the reference, and checks that no lookup calls the
// firmware on nfpcc's firmware model (--mcpu=emulator), whose map layout
// the backend knows, and that every lookup does on CoreNIC, whose maps'
// addresses no relocation gives (the image still runs on the model).
func TestArrayLookup(t *testing.T) {
	code := arrayLookupProgram()
	resolve(t, code)
	obj := &loader.Object{Path: "xdp_array.o", Maps: arrayMaps,
		Programs: []*loader.Program{{Name: "xdp_array", Section: "prog", Type: ebpf.XDP, License: "GPL", Insns: code}}}
	for _, lv := range []struct {
		name  string
		level passes.Level
	}{{"-O0", passes.O0}, {"-O2", passes.O2}} {
		for _, mcpu := range []string{"emulator", "corenic"} {
			for _, regs := range []int{0, 3} {
				what := fmt.Sprintf("%s --mcpu=%s, %d registers", lv.name, mcpu, regs)
				imgs, _, err := compiler.Compile(obj, compiler.Options{Regs: regs, Passes: passes.Config{Level: lv.level}, MCPU: mcpu})
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				calls := 0
				for _, r := range imgs[0].Relocs {
					if r.Kind == image.RelocBrHelper {
						calls++
					}
				}
				if want := map[string]int{"emulator": 0, "corenic": 6}[mcpu]; calls != want {
					t.Errorf("%s: %d firmware helper calls, want %d", what, calls, want)
				}
				n := checkProgram(t, "xdp_array", obj, 0, ebpf.XDP, imgs[0])
				t.Logf("%s: %d words, %d packets agree", what, len(imgs[0].Code), n)
				if n < 70 {
					t.Errorf("only %d packets compared (%s)", n, what)
				}
			}
		}
	}
}

// TestGlobalAtomics adds to counters in global data (a map value reached
// by BPF_PSEUDO_MAP_VALUE, whose address is a constant in the image) with
// every form: add_imm of constants and of a packet byte, 32- and 64-bit,
// and the blocking add of a packet word.
func TestGlobalAtomics(t *testing.T) {
	code := packetGuard(40,
		asm.LoadMapValue(asm.R6, 0, 8),
		asm.Mov.Imm(asm.R1, 7),
		atOffset(asm.StoreXAdd(asm.R6, asm.R1, asm.Word), 4),
		asm.LoadMem(asm.R1, asm.R2, 14, asm.Byte),
		atOffset(asm.StoreXAdd(asm.R6, asm.R1, asm.DWord), 8),
		asm.Mov.Imm(asm.R1, 0xffff),
		atOffset(asm.StoreXAdd(asm.R6, asm.R1, asm.DWord), -8),
		asm.LoadMem(asm.R1, asm.R2, 30, asm.Word),
		atOffset(asm.StoreXAdd(asm.R6, asm.R1, asm.Word), 0),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return(),
	)
	resolve(t, code)
	obj := &loader.Object{Path: "xdp_global.o",
		Maps:     []*loader.Map{{Name: ".bss", Type: ebpf.Array, KeySize: 4, ValueSize: 24, MaxEntries: 1}},
		Programs: []*loader.Program{{Name: "xdp_global", Section: "prog", Type: ebpf.XDP, License: "GPL", Insns: code}}}
	// CoreNIC has no global data (nothing relocates its address): the
	// emulator's firmware lays it out.
	imgs, _, err := compiler.Compile(obj, compiler.Options{MCPU: "emulator"})
	if err != nil {
		t.Fatal(err)
	}
	if n := checkProgram(t, "xdp_global", obj, 0, ebpf.XDP, imgs[0]); n < 70 {
		t.Errorf("only %d packets compared", n)
	}
}

// TestMapValueAtomics runs every atomic the NFP's memory engine offers on
// map value words in global data, with packet-derived operands, 32- and
// 64-bit: or (set), and (clr of the complement), xor, their fetch forms
// (test_set, test_clr, test_xor), fetch_add (test_add, test_add64) and
// xchg (swap). The old values each returns are folded into r7, which the
// program writes into the packet, so both the map words and the returned
// values are compared with the interpreter, packet after packet (the
// words carry over).
func TestMapValueAtomics(t *testing.T) {
	type at struct {
		op   asm.AtomicOp
		size asm.Size
		off  int16
	}
	// Each word sees several operations, so an and meets set bits and a
	// fetch returns what the others left.
	ops := []at{
		{asm.OrAtomic, asm.Word, 0}, {asm.AndAtomic, asm.Word, 0}, {asm.XorAtomic, asm.Word, 0},
		{asm.FetchOr, asm.Word, 4}, {asm.FetchAnd, asm.Word, 4}, {asm.FetchXor, asm.Word, 4},
		{asm.FetchAdd, asm.Word, 8}, {asm.Xchg, asm.Word, 8}, {asm.FetchAdd, asm.Word, 8},
		{asm.OrAtomic, asm.DWord, 16}, {asm.AndAtomic, asm.DWord, 16}, {asm.XorAtomic, asm.DWord, 16},
		{asm.FetchOr, asm.DWord, 24}, {asm.FetchAnd, asm.DWord, 24}, {asm.FetchXor, asm.DWord, 24},
		{asm.FetchAdd, asm.DWord, 32}, {asm.Xchg, asm.DWord, 40}, {asm.FetchAdd, asm.DWord, 40},
	}
	code := packetGuard(48,
		asm.LoadMapValue(asm.R6, 0, 0),
		asm.Mov.Imm(asm.R7, 0),
	)
	for i, o := range ops {
		// A packet-derived operand: bytes 14+i.. (a word, or a double
		// word made of two), shifted so that every bit position varies.
		code = append(code, asm.LoadMem(asm.R1, asm.R2, int16(14+i), asm.Word))
		if o.size == asm.DWord {
			code = append(code, asm.LoadMem(asm.R4, asm.R2, int16(20+i), asm.Word),
				asm.LSh.Imm(asm.R4, 32), asm.Or.Reg(asm.R1, asm.R4))
		}
		code = append(code, o.op.Mem(asm.R6, asm.R1, o.size, o.off))
		if o.op != asm.OrAtomic && o.op != asm.AndAtomic && o.op != asm.XorAtomic {
			// The fetch forms return the old value in the source register.
			code = append(code, asm.Mul.Imm(asm.R7, 31), asm.Xor.Reg(asm.R7, asm.R1))
		}
	}
	code = append(code,
		asm.StoreMem(asm.R2, 0, asm.R7, asm.DWord),
		asm.Mov.Imm(asm.R0, 2),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"),
		asm.Return(),
	)
	resolve(t, code)
	obj := &loader.Object{Path: "xdp_atomics.o",
		Maps:     []*loader.Map{{Name: ".bss", Type: ebpf.Array, KeySize: 4, ValueSize: 48, MaxEntries: 1}},
		Programs: []*loader.Program{{Name: "xdp_atomics", Section: "prog", Type: ebpf.XDP, License: "GPL", Insns: code}}}
	imgs, _, err := compiler.Compile(obj, compiler.Options{MCPU: "emulator"})
	if err != nil {
		t.Fatal(err)
	}
	if n := checkProgram(t, "xdp_atomics", obj, 0, ebpf.XDP, imgs[0]); n < 70 {
		t.Errorf("only %d packets compared", n)
	}
	// cmpxchg has no command: refused, by the capability table's rule.
	bad := append(asm.Instructions(nil), code[:6]...)
	bad = append(bad, asm.Mov.Imm(asm.R0, 0), asm.LoadMem(asm.R1, asm.R2, 14, asm.Word),
		asm.CmpXchg.Mem(asm.R6, asm.R1, asm.Word, 0), asm.Mov.Imm(asm.R0, 2), asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"), asm.Return())
	resolve(t, bad)
	obj.Programs[0].Insns = bad
	if _, _, err := compiler.Compile(obj, compiler.Options{MCPU: "emulator"}); err == nil || !strings.Contains(err.Error(), "no compare-and-exchange") {
		t.Errorf("cmpxchg on a map value: %v, want the refusal", err)
	}
}
