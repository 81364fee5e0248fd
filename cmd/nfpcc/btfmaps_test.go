package main

import (
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestFormatBTF(t *testing.T) {
	u16 := &btf.Int{Name: "u16", Size: 2}
	s32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	boolT := &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}
	enum := &btf.Enum{Name: "act", Size: 4, Values: []btf.EnumValue{{Name: "PASS", Value: 2}}}
	arr := &btf.Array{Type: u16, Nelems: 2}
	st := &btf.Struct{Name: "s", Size: 12, Members: []btf.Member{
		{Name: "n", Type: s32, Offset: 0},
		{Name: "a", Type: arr, Offset: 32},
		{Name: "on", Type: boolT, Offset: 64},
	}}
	for _, c := range []struct {
		t    btf.Type
		b    []byte
		want string
	}{
		{s32, []byte{0xfe, 0xff, 0xff, 0xff}, "-2"},
		{enum, []byte{2, 0, 0, 0}, "PASS"},
		{enum, []byte{7, 0, 0, 0}, "7"},
		{&btf.Typedef{Name: "t", Type: u16}, []byte{1, 1}, "257"},
		{st, []byte{1, 0, 0, 0, 2, 0, 3, 0, 1, 0, 0, 0}, "{n: 1, a: [2, 3], on: true}"},
		{u16, []byte{1}, ""}, // the wrong size: no typed form
	} {
		if got := formatBTF(c.t, c.b); got != c.want {
			t.Errorf("%v % x: %q, want %q", c.t, c.b, got, c.want)
		}
	}
}

// TestEncodeBTF: what formatBTF prints, encodeBTF reads back (in JSON).
func TestEncodeBTF(t *testing.T) {
	u16 := &btf.Int{Name: "u16", Size: 2}
	s32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	enum := &btf.Enum{Name: "act", Size: 4, Values: []btf.EnumValue{{Name: "PASS", Value: 2}}}
	st := &btf.Struct{Name: "s", Size: 16, Members: []btf.Member{
		{Name: "n", Type: s32, Offset: 0},
		{Name: "a", Type: &btf.Array{Type: u16, Nelems: 2}, Offset: 32},
		{Name: "act", Type: enum, Offset: 64},
		{Name: "mac", Type: &btf.Array{Type: &btf.Int{Name: "u8", Size: 1}, Nelems: 4}, Offset: 96},
	}}
	b, err := encodeBTF(st, []byte(`{"n": -2, "a": [2, 3], "act": "PASS", "mac": "0a:0b:0c:0d"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatBTF(st, b), "{n: -2, a: [2, 3], act: PASS, mac: 0a0b0c0d}"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
	for _, bad := range []string{`{"x": 1}`, `{"n": "x"}`, `{"a": [1, 2, 3]}`, `{"act": "DROP"}`, `{"a": [70000]}`, `[1]`} {
		if _, err := encodeBTF(st, []byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
