package emulator

import "fmt"

// MapRingBuf is BPF_MAP_TYPE_RINGBUF: no keys or values, a byte buffer of
// MaxEntries bytes that programs fill with records. The emulator's
// consumer drains it at once: every submitted record becomes an Event.
const MapRingBuf MapType = 27

// Ring buffer helpers (enum bpf_func_id).
const (
	FnRingbufOutput  = 130
	FnRingbufReserve = 131
	FnRingbufSubmit  = 132
	FnRingbufDiscard = 133
)

type ringBuf struct{ spec MapSpec }

func (r *ringBuf) Spec() *MapSpec                      { return &r.spec }
func (r *ringBuf) Lookup([]byte) []byte                { return nil }
func (r *ringBuf) Update([]byte, []byte, uint64) error { return EINVAL }
func (r *ringBuf) Delete([]byte) error                 { return EINVAL }
func (r *ringBuf) Entries() []Entry                    { return nil }

// ringRecord is a reservation not yet submitted or discarded.
type ringRecord struct {
	mapName string
	buf     []byte
}

const (
	rbNoWakeup    = 1 // BPF_RB_NO_WAKEUP
	rbForceWakeup = 2 // BPF_RB_FORCE_WAKEUP
	eagain        = Errno(11)
)

func ringArg(e *Env, mem Memory, ptr uint64) (int, Map, error) {
	i, m, err := mapArg(e, mem, ptr)
	if err == nil && m.Spec().Type != MapRingBuf {
		err = fmt.Errorf("ring buffer helper on %s map %s", m.Spec().Type, m.Spec().Name)
	}
	return i, m, err
}

// ringbufOutput copies data into a record at once (-EAGAIN if it could
// never fit the buffer).
func ringbufOutput(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	_, m, err := ringArg(e, mem, a[0])
	if err != nil {
		return 0, err
	}
	if a[3]&^(rbNoWakeup|rbForceWakeup) != 0 {
		return EINVAL.Ret(), nil
	}
	if a[2] > uint64(m.Spec().MaxEntries) {
		return eagain.Ret(), nil
	}
	data, err := mem.Bytes(a[1], a[2], false)
	if err != nil {
		return 0, fmt.Errorf("bpf_ringbuf_output data: %w", err)
	}
	e.Events = append(e.Events, Event{Map: m.Spec().Name, Data: append(HexBytes{}, data...)})
	return 0, nil
}

// ringbufReserve hands the program a zeroed record of size bytes (NULL if
// flags are set or it cannot fit).
func ringbufReserve(e *Env, mem Memory, a *[5]uint64) (uint64, error) {
	i, m, err := ringArg(e, mem, a[0])
	if err != nil {
		return 0, err
	}
	size, flags := a[1], a[2]
	if flags != 0 || size == 0 || size > uint64(m.Spec().MaxEntries) {
		return 0, nil
	}
	buf := make([]byte, size)
	p := mem.ValueAddr(i, buf)
	if e.ringRecords == nil {
		e.ringRecords = map[uint64]ringRecord{}
	}
	e.ringRecords[p] = ringRecord{mapName: m.Spec().Name, buf: buf}
	return p, nil
}

func ringbufCommit(submit bool) HelperFunc {
	return func(e *Env, _ Memory, a *[5]uint64) (uint64, error) {
		rec, ok := e.ringRecords[a[0]]
		if !ok {
			return 0, fmt.Errorf("%#x is not a record from bpf_ringbuf_reserve (or was already submitted)", a[0])
		}
		delete(e.ringRecords, a[0])
		if submit {
			e.Events = append(e.Events, Event{Map: rec.mapName, Data: append(HexBytes{}, rec.buf...)})
		}
		return 0, nil
	}
}
