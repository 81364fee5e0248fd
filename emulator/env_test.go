package emulator

import (
	"bytes"
	"strings"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	h := mustMap(t, MapSpec{Name: "h", Type: MapHash, KeySize: 4, ValueSize: 2, MaxEntries: 4})
	a := mustMap(t, MapSpec{Name: "a", Type: MapArray, KeySize: 4, ValueSize: 2, MaxEntries: 4})
	st, err := ParseState([]byte(`{"maps": {"h": [{"key": "02000000", "value": "beef"}, {"key": "01000000", "value": "0x0102"}], "a": [{"key": "03000000", "value": "ffff"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Apply([]Map{h, a}); err != nil {
		t.Fatal(err)
	}
	out, err := Snapshot([]Map{h, a}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "maps": {
    "a": [
      {
        "key": "03000000",
        "value": "ffff"
      }
    ],
    "h": [
      {
        "key": "01000000",
        "value": "0102"
      },
      {
        "key": "02000000",
        "value": "beef"
      }
    ]
  }
}
`
	if string(out) != want {
		t.Errorf("snapshot:\n%s\nwant:\n%s", out, want)
	}
	for _, c := range []struct{ json, want string }{
		{`{"maps": {"nope": []}}`, `no map named "nope" (the program has: a, h)`},
		{`{"maps": {"h": [{"key": "01", "value": "0000"}]}}`, "h entry 0: key has 1 bytes, map keys have 4"},
		{`{"maps": {"h": [{"key": "zz000000", "value": "0000"}]}}`, "h entry 0: key:"},
		{`{"mapz": {}}`, "unknown field"},
	} {
		st, err := ParseState([]byte(c.json))
		if err == nil {
			err = st.Apply([]Map{h, a})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.json, err, c.want)
		}
	}
}

func TestCsumDiff(t *testing.T) {
	// Linux selftest csum_diff_test (prog_tests/test_csum_diff.c) values.
	cases := []struct {
		name     string
		from, to []byte
		seed     uint32
		want     uint32
	}{
		// push: 0xdeadbeefdeadbeef, 8 bytes, seed 0 → 0x3b3b
		{"push", nil, []byte{0xef, 0xbe, 0xad, 0xde, 0xef, 0xbe, 0xad, 0xde}, 0, 0x3b3b},
		// the oracle's probe: to = 12 34 56 78 → the kernel returns 0xac68
		{"probe", nil, []byte{0x12, 0x34, 0x56, 0x78}, 0, 0xac68},
	}
	for _, c := range cases {
		v, err := CsumDiff(c.from, c.to, c.seed)
		if err != nil || v != c.want {
			t.Errorf("%s: %#x, %v; want %#x", c.name, v, err, c.want)
		}
	}
	// Diffing a buffer against itself changes nothing: one's complement zero.
	to := cases[0].to
	if v, _ := CsumDiff(to, to, 0); v != 0xffff && v != 0 {
		t.Errorf("self diff %#x", v)
	}
	// Pulling what was pushed gives the seed back.
	if v, _ := CsumDiff(to, nil, 0x3b3b); v != 0 && v != 0xffff {
		t.Errorf("pull after push: %#x", v)
	}
	if _, err := CsumDiff([]byte{1, 2, 3}, nil, 0); err != EINVAL {
		t.Errorf("size not a multiple of 4: %v", err)
	}
	if _, err := CsumDiff(make([]byte, 256), make([]byte, 260), 0); err != EINVAL {
		t.Errorf("more than 512 bytes: %v", err)
	}
}

func TestCsumReplace(t *testing.T) {
	// An IPv4 header with a correct checksum; change TTL 64→63 and check
	// that l3_csum_replace keeps the header summing to 0xffff.
	hdr := []byte{0x45, 0, 0, 0x54, 0, 0, 0x40, 0, 0x40, 0x01, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	sum := ipsum(hdr)
	hdr[10], hdr[11] = byte(^sum>>8), byte(^sum)
	if ipsum(hdr) != 0xffff {
		t.Fatal("test header checksum")
	}
	old := uint32(hdr[8]) | uint32(hdr[9])<<8
	hdr[8] = 63
	nw := uint32(hdr[8]) | uint32(hdr[9])<<8
	csumReplace2(hdr[10:12], uint16(old), uint16(nw))
	if ipsum(hdr) != 0xffff {
		t.Errorf("after csum_replace2: sum %#x", ipsum(hdr))
	}
	// The same with a 4-byte field (the source address).
	old = uint32(hdr[12]) | uint32(hdr[13])<<8 | uint32(hdr[14])<<16 | uint32(hdr[15])<<24
	hdr[15] = 77
	nw = uint32(hdr[12]) | uint32(hdr[13])<<8 | uint32(hdr[14])<<16 | uint32(hdr[15])<<24
	csumReplace4(hdr[10:12], old, nw)
	if ipsum(hdr) != 0xffff {
		t.Errorf("after csum_replace4: sum %#x", ipsum(hdr))
	}
}

// ipsum is the one's complement sum of big-endian 16-bit words (RFC 1071).
func ipsum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func TestActionNames(t *testing.T) {
	cases := []struct {
		h    Hook
		ret  uint64
		want string
	}{
		{HookXDP, 0, "XDP_ABORTED"}, {HookXDP, 2, "XDP_PASS"}, {HookXDP, 4, "XDP_REDIRECT"},
		{HookXDP, 0x100000002, "XDP_PASS"}, {HookXDP, 9, "XDP_UNKNOWN(9)"},
		{HookTC, 0xffffffff, "TC_ACT_UNSPEC"}, {HookTC, 2, "TC_ACT_SHOT"}, {HookTC, 7, "TC_ACT_REDIRECT"},
		{HookTC, 99, "TC_ACT_UNKNOWN(99)"}, {HookNone, 1, ""},
	}
	for _, c := range cases {
		if got := ActionName(c.h, c.ret); got != c.want {
			t.Errorf("%s %d: %q, want %q", c.h, c.ret, got, c.want)
		}
	}
}

func TestPacketAdjust(t *testing.T) {
	p := NewPacket(make([]byte, 60))
	if err := p.AdjustMeta(-8); err != nil || len(p.MetaBytes()) != 8 {
		t.Fatalf("meta: %v", err)
	}
	if err := p.AdjustMeta(-2); err != EACCES {
		t.Errorf("meta of 10 bytes (not a multiple of 4): %v", err)
	}
	if err := p.AdjustMeta(-220); err != EINVAL {
		t.Errorf("meta past the headroom: %v", err)
	}
	copy(p.MetaBytes(), "metadata")
	if err := p.AdjustHead(-14); err != nil || p.Len() != 74 || string(p.MetaBytes()) != "metadata" {
		t.Errorf("head with meta: %v len %d meta %q", err, p.Len(), p.MetaBytes())
	}
	if err := p.AdjustTail(-61); err != EINVAL {
		t.Errorf("tail below 14 bytes: %v", err)
	}
}

// TestPacketResetClearsHeadroom: whatever a program wrote in front of the
// frame (after growing it with adjust_head or adjust_meta, then shrinking
// it back) is gone after Reset; a Packet made by hand is cleared whole.
func TestPacketResetClearsHeadroom(t *testing.T) {
	frame := []byte("0123456789abcdefghij")
	for _, grow := range []func(*Packet) error{
		func(p *Packet) error { return p.AdjustHead(-100) },
		func(p *Packet) error { return p.AdjustMeta(-100) },
	} {
		p := NewPacket(frame)
		if err := grow(p); err != nil {
			t.Fatal(err)
		}
		for i := p.Meta; i < XDPHeadroom; i++ {
			p.Buf[i] = 0xaa
		}
		if err := p.AdjustHead(int32(XDPHeadroom - p.Data)); err != nil {
			t.Fatal(err)
		}
		p.Reset(frame)
		if i := bytes.IndexByte(p.Buf[:XDPHeadroom], 0xaa); i >= 0 {
			t.Errorf("byte %d of the headroom survives Reset", i)
		}
	}
	p := &Packet{Buf: bytes.Repeat([]byte{0xaa}, 4096), Meta: XDPHeadroom, Data: XDPHeadroom, End: XDPHeadroom}
	p.Reset(frame)
	if i := bytes.IndexByte(p.Buf[:XDPHeadroom], 0xaa); i >= 0 {
		t.Errorf("hand-made packet: byte %d of the headroom survives Reset", i)
	}
}

func TestRandomReproducible(t *testing.T) {
	a, b := NewEnv(HookXDP, nil, 42), NewEnv(HookXDP, nil, 42)
	c := NewEnv(HookXDP, nil, 43)
	same, differ := true, false
	for i := 0; i < 10; i++ {
		x, y, z := a.Random(), b.Random(), c.Random()
		same = same && x == y
		differ = differ || x != z
	}
	if !same || !differ {
		t.Errorf("same seed same sequence: %v; other seed differs: %v", same, differ)
	}
}

// flatMemory is a Memory over one buffer at address 0x1000, for helper tests.
type flatMemory struct{ buf []byte }

func (f *flatMemory) Bytes(addr, n uint64, write bool) ([]byte, error) {
	if addr < 0x1000 || addr-0x1000+n > uint64(len(f.buf)) {
		return nil, EFAULT
	}
	return f.buf[addr-0x1000 : addr-0x1000+n], nil
}
func (f *flatMemory) ValueAddr(int, []byte) uint64 { return 0 }
func (f *flatMemory) MapIndex(uint64) (int, error) { return 0, EINVAL }

func TestFibLookupEmptyFIB(t *testing.T) {
	h := KernelHelpers()[FnFibLookup]
	mem := &flatMemory{buf: make([]byte, 64)}
	call := func(family byte, size, flags uint64) int64 {
		mem.buf[0] = family
		r, err := h.Fn(NewEnv(HookXDP, nil, 0), mem, &[5]uint64{0, 0x1000, size, flags})
		if err != nil {
			t.Fatal(err)
		}
		return int64(r)
	}
	if r := call(2, 64, 0); r != 4 {
		t.Errorf("IPv4 lookup: %d, want BPF_FIB_LKUP_RET_NOT_FWDED (4)", r)
	}
	if r := call(10, 64, 1); r != 4 {
		t.Errorf("IPv6 direct lookup: %d", r)
	}
	if r := call(2, 32, 0); r != -22 {
		t.Errorf("short params: %d, want -EINVAL", r)
	}
	if r := call(2, 64, 1<<10); r != -22 {
		t.Errorf("unknown flag: %d, want -EINVAL", r)
	}
	if r := call(7, 64, 0); r != -97 {
		t.Errorf("family 7: %d, want -EAFNOSUPPORT", r)
	}
}
