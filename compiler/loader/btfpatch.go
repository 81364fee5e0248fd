package loader

import (
	"debug/elf"
	"errors"
)

// BTF type kinds (include/uapi/linux/btf.h) and the bytes each record
// carries after its 12-byte header: a fixed part plus vlen times a member
// size. A table, not a switch, so the walk below stays one loop.
var btfKindTail = map[uint32]struct{ fixed, perVlen int }{
	1:  {4, 0},  // INT
	2:  {0, 0},  // PTR
	3:  {12, 0}, // ARRAY
	4:  {0, 12}, // STRUCT
	5:  {0, 12}, // UNION
	6:  {0, 8},  // ENUM
	7:  {0, 0},  // FWD
	8:  {0, 0},  // TYPEDEF
	9:  {0, 0},  // VOLATILE
	10: {0, 0},  // CONST
	11: {0, 0},  // RESTRICT
	12: {0, 0},  // FUNC
	13: {0, 8},  // FUNC_PROTO
	14: {4, 0},  // VAR
	15: {0, 12}, // DATASEC
	16: {0, 0},  // FLOAT
	17: {4, 0},  // DECL_TAG
	18: {0, 0},  // TYPE_TAG
	19: {0, 12}, // ENUM64
}

const (
	btfKindPtr     = 2
	btfKindTypedef = 8
)

// untypedefPointers returns a copy of image in which every BTF pointer to
// a typedef points at what the typedef names instead.
//
// cilium/ebpf reads the `values` member of a BTF map-in-map definition
// (an array of pointers to the inner map's struct) without looking
// through typedefs, so `typedef struct {…} inner_t; … __array(values,
// inner_t)` fails to parse ("unsupported value type"). libbpf accepts it.
// The rewrite changes no layout and nothing the loader reports beyond
// that definition, so it is applied only as a retry after that error.
func untypedefPointers(image []byte) ([]byte, error) {
	f, _, _, err := openELF(image)
	if err != nil {
		return nil, err
	}
	sec := f.Section(".BTF")
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Offset+sec.Size > uint64(len(image)) || sec.Size < 24 {
		return nil, errors.New("no usable .BTF section")
	}
	img := append([]byte(nil), image...)
	data := img[sec.Offset : sec.Offset+sec.Size]
	bo := f.ByteOrder
	hdrLen := uint64(bo.Uint32(data[4:]))
	typeOff := uint64(bo.Uint32(data[8:]))
	typeLen := uint64(bo.Uint32(data[12:]))
	start := hdrLen + typeOff
	if start > uint64(len(data)) || typeLen > uint64(len(data))-start {
		return nil, errors.New("BTF type section out of bounds")
	}
	types := data[start : start+typeLen]

	// Walk the records once: type ids start at 1, in order.
	type rec struct {
		kind uint32
		at   int // offset of the record in types
	}
	recs := []rec{{}} // id 0 is void
	for at := 0; at < len(types); {
		if at+12 > len(types) {
			return nil, errors.New("truncated BTF type")
		}
		info := bo.Uint32(types[at+4:])
		kind, vlen := (info>>24)&0x1f, int(info&0xffff)
		tail, ok := btfKindTail[kind]
		if !ok {
			return nil, errors.New("unknown BTF kind")
		}
		recs = append(recs, rec{kind, at})
		at += 12 + tail.fixed + vlen*tail.perVlen
	}
	target := func(id uint32) uint32 { return bo.Uint32(types[recs[id].at+8:]) }
	changed := false
	for _, r := range recs[1:] {
		if r.kind != btfKindPtr {
			continue
		}
		orig := bo.Uint32(types[r.at+8:])
		to := orig
		for hops := 0; int(to) < len(recs) && to != 0 && recs[to].kind == btfKindTypedef && hops < len(recs); hops++ {
			to = target(to)
		}
		if to != orig && int(to) < len(recs) {
			bo.PutUint32(types[r.at+8:], to)
			changed = true
		}
	}
	if !changed {
		return nil, errors.New("no pointer to a typedef")
	}
	return img, nil
}
