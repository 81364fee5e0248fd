package ebpf

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
)

// HookOf is the hook a program type runs at: XDP, tc (sched_cls,
// sched_act; socket filters share the __sk_buff context), or none.
func HookOf(t loader.ProgType) emulator.Hook {
	switch t {
	case ebpf.XDP:
		return emulator.HookXDP
	case ebpf.SchedCLS, ebpf.SchedACT, ebpf.SocketFilter:
		return emulator.HookTC
	}
	return emulator.HookNone
}

// NewMaps creates the emulator maps of an object, with the initial
// contents of global data sections. The second result marks read-only
// (.rodata) maps. Maps of maps start with every slot empty (fill them with
// emulator.State, see its doc). A map the emulator cannot model is a stand-in that makes programs referring to it fail to
// load, with the reason.
func NewMaps(obj *loader.Object) ([]emulator.Map, []bool, error) {
	maps := make([]emulator.Map, len(obj.Maps))
	ro := make([]bool, len(obj.Maps))
	for i, lm := range obj.Maps {
		m, err := emulator.NewMap(mapSpec(lm))
		if err != nil {
			// Programs that do not use the map still run; those that
			// refer to it are refused when loaded (see mapPointer).
			maps[i], ro[i] = &unavailableMap{spec: emulator.MapSpec{Name: lm.Name, Type: emulator.MapType(lm.Type)}, err: err}, lm.ReadOnly
			continue
		}
		if lm.Contents != nil {
			v := make([]byte, lm.ValueSize)
			copy(v, lm.Contents)
			if err := m.Update(make([]byte, 4), v, emulator.UpdateAny); err != nil {
				return nil, nil, fmt.Errorf("%s: initial contents of %s: %v", obj.Path, lm.Name, err)
			}
		}
		maps[i], ro[i] = m, lm.ReadOnly
	}
	return maps, ro, nil
}

// FromObject prepares a machine for the programs of a loaded object, over
// fresh maps. Program i of the machine is obj.Programs[i]; PROG_ARRAY
// values are such indices. entry is the program that must load (its
// errors fail FromObject); the others load if they can. entry -1 requires
// every program to load.
func FromObject(obj *loader.Object, entry int, opts Options) (*Machine, error) {
	maps, ro, err := NewMaps(obj)
	if err != nil {
		return nil, err
	}
	progs := make([]Prog, len(obj.Programs))
	for i, p := range obj.Programs {
		progs[i] = Prog{Name: p.Name, Hook: HookOf(p.Type), Insns: p.Insns, Optional: entry >= 0 && i != entry}
	}
	return New(progs, maps, ro, opts)
}

// unavailableMap stands for a map the emulator cannot create.
type unavailableMap struct {
	spec emulator.MapSpec
	err  error
}

func (u *unavailableMap) Spec() *emulator.MapSpec             { return &u.spec }
func (u *unavailableMap) Lookup([]byte) []byte                { return nil }
func (u *unavailableMap) Update([]byte, []byte, uint64) error { return emulator.EOPNOTSUPP }
func (u *unavailableMap) Delete([]byte) error                 { return emulator.EOPNOTSUPP }
func (u *unavailableMap) Entries() []emulator.Entry           { return nil }

// mapSpec is the emulator's spec of a loader map, with its inner template.
func mapSpec(lm *loader.Map) emulator.MapSpec {
	s := emulator.MapSpec{
		Name: lm.Name, Type: emulator.MapType(lm.Type), KeySize: lm.KeySize,
		ValueSize: lm.ValueSize, MaxEntries: lm.MaxEntries, Flags: lm.Flags,
	}
	if lm.InnerMap != nil {
		in := mapSpec(lm.InnerMap)
		s.Inner = &in
	}
	return s
}
