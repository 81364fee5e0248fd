package emulator

import (
	"strings"
	"testing"
)

var innerTmpl = &MapSpec{Type: MapArray, KeySize: 4, ValueSize: 4, MaxEntries: 2}

func TestOuterMapSlots(t *testing.T) {
	for _, typ := range []MapType{MapArrayOfMaps, MapHashOfMaps} {
		t.Run(typ.String(), func(t *testing.T) {
			m := mustMap(t, MapSpec{Name: "outer", Type: typ, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: innerTmpl})
			om := m.(OuterMap)
			in, err := NewInner(m, u32(1))
			if err != nil {
				t.Fatal(err)
			}
			if in.Spec().Name != "outer[01000000]" {
				t.Errorf("inner map name %q", in.Spec().Name)
			}
			if om.LookupInner(u32(1)) != nil {
				t.Error("empty slot holds a map")
			}
			if err := om.SetInner(u32(1), in); err != nil {
				t.Fatal(err)
			}
			if om.LookupInner(u32(1)) != in {
				t.Error("slot 1 does not hold the map stored there")
			}
			// bpf_map_meta_equal: an inner map of another shape is refused.
			other := mustMap(t, MapSpec{Name: "x", Type: MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 2})
			if err := om.SetInner(u32(0), other); err != EINVAL {
				t.Errorf("SetInner of a mismatched map: %v, want EINVAL", err)
			}
			if err := m.Update(u32(0), u32(0), UpdateAny); err != EINVAL {
				t.Errorf("Update with bytes: %v, want EINVAL", err)
			}
			if m.Lookup(u32(1)) != nil {
				t.Error("Lookup of an outer map returns bytes")
			}
			if es := m.Entries(); len(es) != 1 || es[0].Inner != in || es[0].Value != nil {
				t.Errorf("Entries = %+v", es)
			}
			if err := m.Delete(u32(1)); err != nil {
				t.Fatal(err)
			}
			if err := m.Delete(u32(1)); err != ENOENT {
				t.Errorf("second Delete: %v, want ENOENT", err)
			}
		})
	}
	arr := mustMap(t, MapSpec{Name: "a", Type: MapArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, Inner: innerTmpl}).(OuterMap)
	in, _ := NewInner(arr, u32(2))
	if err := arr.SetInner(u32(2), in); err != E2BIG {
		t.Errorf("array_of_maps index 2 of 2: %v, want E2BIG", err)
	}
	h := mustMap(t, MapSpec{Name: "h", Type: MapHashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1, Inner: innerTmpl}).(OuterMap)
	a, _ := NewInner(h, u32(1))
	b, _ := NewInner(h, u32(2))
	if err := h.SetInner(u32(1), a); err != nil {
		t.Fatal(err)
	}
	if err := h.SetInner(u32(2), b); err != E2BIG {
		t.Errorf("hash_of_maps over max_entries: %v, want E2BIG", err)
	}
}

func TestOuterMapSpecErrors(t *testing.T) {
	for _, c := range []struct {
		spec MapSpec
		want string
	}{
		{MapSpec{Name: "o", Type: MapArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1}, "without an inner map template"},
		{MapSpec{Name: "o", Type: MapArrayOfMaps, KeySize: 4, ValueSize: 8, MaxEntries: 1, Inner: innerTmpl}, "value size is 8"},
		{MapSpec{Name: "o", Type: MapArrayOfMaps, KeySize: 8, ValueSize: 4, MaxEntries: 1, Inner: innerTmpl}, "4-byte keys"},
		{MapSpec{Name: "o", Type: MapHashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1,
			Inner: &MapSpec{Type: MapArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1}}, "maps of maps of maps"},
		{MapSpec{Name: "o", Type: MapHashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 1,
			Inner: &MapSpec{Type: MapHash, KeySize: 4, ValueSize: 4}}, "inner map template: map o.inner: max_entries is 0"},
	} {
		_, err := NewMap(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewMap(%+v) = %v, want an error containing %q", c.spec, err, c.want)
		}
	}
}

// The JSON map state of a map of maps: slots list their inner map's
// entries under "inner", and a snapshot gives back what was applied.
func TestStateMapOfMaps(t *testing.T) {
	in := `{
  "maps": {
    "outer": [
      {
        "key": "00000000",
        "inner": [
          {
            "key": "01000000",
            "value": "02000000"
          }
        ]
      },
      {
        "key": "01000000",
        "inner": []
      }
    ]
  }
}
`
	m := mustMap(t, MapSpec{Name: "outer", Type: MapArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, Inner: innerTmpl})
	s, err := ParseState([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply([]Map{m}); err != nil {
		t.Fatal(err)
	}
	inner := m.(OuterMap).LookupInner(u32(0))
	if inner == nil || string(inner.Lookup(u32(1))) != string(u32(2)) {
		t.Fatalf("slot 0 does not hold an inner map with 1 → 2")
	}
	if m.(OuterMap).LookupInner(u32(1)) == nil {
		t.Error("slot 1 (an empty inner map) is empty")
	}
	out, err := Snapshot([]Map{m}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("snapshot:\n%s\nwant:\n%s", out, in)
	}
	for _, c := range []struct{ state, want string }{
		{`{"maps": {"outer": [{"key": "00000000", "value": "01000000"}]}}`, `outer entry 0: array_of_maps slots hold maps, not values`},
		{`{"maps": {"outer": [{"key": "00000000", "inner": [{"key": "00", "value": "00000000"}]}]}}`, `outer[00000000] entry 0: key has 1 bytes, map keys have 4`},
		{`{"maps": {"outer": [{"key": "09000000"}]}}`, `outer entry 0: update: `},
		{`{"maps": {"plain": [{"key": "00000000", "inner": []}]}}`, `"inner" given, but plain is a array, not a map of maps`},
	} {
		plain := mustMap(t, MapSpec{Name: "plain", Type: MapArray, KeySize: 4, ValueSize: 4, MaxEntries: 1})
		fresh := mustMap(t, MapSpec{Name: "outer", Type: MapArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, Inner: innerTmpl})
		s, err := ParseState([]byte(c.state))
		if err == nil {
			err = s.Apply([]Map{fresh, plain})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.state, err, c.want)
		}
	}
}

// lookupInner needs an executor that can hand out map pointers.
func TestLookupInnerNeedsMapPointers(t *testing.T) {
	m := mustMap(t, MapSpec{Name: "outer", Type: MapHashOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 4, Inner: innerTmpl})
	in, _ := NewInner(m, u32(0))
	m.(OuterMap).SetInner(u32(0), in)
	env := NewEnv(HookXDP, []Map{m}, 1)
	if _, err := lookupInner(env, nil, m.(OuterMap), u32(0)); err == nil || !strings.Contains(err.Error(), "cannot hand out inner map pointers") {
		t.Errorf("lookupInner without MapPointerer: %v", err)
	}
	if env.MapAt(0) != m || env.MapAt(1) != nil || env.NumMaps() != 1 {
		t.Error("MapAt/NumMaps before any inner map was handed out")
	}
	if i := env.innerIndex(in); i != 1 || env.innerIndex(in) != 1 || env.MapAt(1) != in || env.NumMaps() != 2 {
		t.Errorf("innerIndex = %d; the same map must keep index 1", i)
	}
}
