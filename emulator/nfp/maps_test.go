package nfp

import (
	"runtime"
	"strings"
	"testing"

	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/isa/image"
)

// TestMapsForHugeMap: an image whose map table asks for more than the
// emulator's map limit gets an error naming the map (the finding
// image_map_size_panic.nfp: an ARRAY of 2^25 values of 16 MiB panicked in
// makeslice).
func TestMapsForHugeMap(t *testing.T) {
	img := &image.Image{Maps: []image.Map{
		{Name: "small", Type: 2, KeySize: 4, ValueSize: 8, MaxEntries: 4},
		{Name: "count", Type: 2, KeySize: 4, ValueSize: 1 << 24, MaxEntries: 1 << 25},
	}}
	_, err := MapsFor(img)
	if err == nil || !strings.Contains(err.Error(), "map count: ") || !strings.Contains(err.Error(), "562949953421312 bytes") {
		t.Fatalf("MapsFor: %v, want an error naming map count and its size", err)
	}
}

// TestLargeHashWindow: a hash map of 2^24 entries gets its EMEM window
// without memory per entry it does not hold, and its entries stay
// addressable.
func TestLargeHashWindow(t *testing.T) {
	m, err := emulator.NewMap(emulator.MapSpec{Name: "h", Type: emulator.MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 1 << 24})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fm, err := newFWMap(0, m, map[uint64]bool{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{{1, 0, 0, 0}, {2, 0, 0, 0}, {3, 0, 0, 0}} {
		if err := m.Update(k, []byte{k[0], 0, 0, 0, 0, 0, 0, 0x80}, emulator.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	fm.sync()
	if err := m.Delete([]byte{2, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	fm.sync()
	if err := m.Update([]byte{4, 0, 0, 0}, make([]byte, 8), emulator.UpdateAny); err != nil {
		t.Fatal(err)
	}
	fm.sync()
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("a hash map of 2^24 entries holding 3 took %d bytes of window", n)
	}
	// Keys 1 and 3 kept slots 0 and 2, key 4 reuses key 2's slot 1.
	for key, slot := range map[byte]uint64{1: 0, 3: 2, 4: 1} {
		got := fm.region.bytes(slot*fm.stride, 8)
		if want := m.Lookup([]byte{key, 0, 0, 0}); len(got) != 8 || &got[0] != &want[0] {
			t.Errorf("key %d: slot %d does not hold its value", key, slot)
		}
	}
	if fm.region.bytes(3*fm.stride, 8) != nil || fm.region.Size() != 1<<24*8 {
		t.Errorf("slot 3 holds a value, or the window is %d bytes", fm.region.Size())
	}
}
