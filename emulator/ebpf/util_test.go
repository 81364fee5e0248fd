package ebpf

import (
	"bytes"
	"encoding/binary"

	"github.com/cilium/ebpf/asm"
)

// linkForTest resolves symbolic jumps of a cilium/ebpf instruction list
// into offsets, by encoding and decoding it (what the loader's output has).
func linkForTest(insns asm.Instructions) (asm.Instructions, error) {
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		return nil, err
	}
	return asm.AppendInstructions(nil, &buf, binary.LittleEndian, "linux")
}
