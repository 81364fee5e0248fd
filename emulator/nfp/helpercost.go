package nfp

// What the published cycle model leaves out, made explicit: a firmware
// helper call costs nothing there, so a program that calls the firmware
// looks cheaper than one that inlines. The extended figure
// (PacketResult.ExtCycles, ExtDRAMCycles) adds, per helper call, an
// ESTIMATE of the helper's own path derived from the CoreNIC firmware in
// the shared corpora (binutils-nfp/nic_AMDA0097-0001_2x40-wpi1.nffw), and
// DRAM engine cycles for every atomic on DRAM (the paper measured
// add_imm's, 3.2198 cycles; add, set, clr, xor are charged the same).
//
// Derivation of map_lookup_elem (helper 1). The firmware's capability
// symbol _abi_bpf_capabilities (section .ememdata2.i24) holds the TLVs
// FUNC {id 1, address 0xc9}, ADJUST_HEAD, MAPS, RANDOM, QUEUE_SELECT,
// ADJUST_TAIL: only the lookup is a firmware helper here, at word .201 of
// the BPF microengines' code (.text.i32.me0, identical on i33–i36). Walking
// it (nfpcc objdump -M ctx4) along the common path — a key of K 32-bit
// words, found as the bucket's first entry — and charging each word by the
// published model's rules (1 per ALU word, branches 1/3/4, br and rtn 4,
// slots of taken deferred branches not counted; a blocking DRAM access,
// ctx_swap or sig_done + ctx_arb, max(3, 25 − cycles since the previous
// command)):
//
//	.201–.212  map table entry: bound check, read32 of the 6-word descriptor    11 + 14
//	.213–.234  key size, LM pointer to the key, jump into the CRC table          25
//	.38+…–.197 crc_be over the key: 4 per word but the last, tail 11, rtn 4      15 + 4(K−1)
//	.240–.254  bucket address, test_add64 lock, ctx_arb wait, br_bclr taken      12 + 1 + 24 + 3
//	.264–.289  first entry's map id, blt (4), read32_swap of the stored key,
//	           ctx_arb wait (24), jump into the compare table                   52
//	.294–.330  the key compared word by word (alu + bne, 2 per word), loop exit  2K + 5
//	.331–.345  value address, sub_imm unlock, br                                 18
//	.454       rtn[B5], defer[3]                                                 4
//
// in all 180 + 6K cycles (186 for a 4-byte key), and DRAM engine work of
// two reads (the descriptor, the stored key: 2 × 4.0525) and two atomics
// (lock, unlock: 2 × 3.2198), 14.545 cycles. A miss, a collision or a key
// over 16 words costs more (CAM lookup, further entries): the figure is a
// lower bound of the firmware's path, as the model's own figures are of
// the hardware (measured/model 0.91–1.02).
//
// map_update_elem (2) and map_delete_elem (3) are not in this firmware's
// capability table (the Linux driver calls them only on firmware that
// advertises them); their estimate extrapolates the lookup: the same
// search, then for an update a blocking write32 of the value (25) and for a
// delete the entry's unlink, a write and an atomic (25 + 3); DRAM work one
// more write (charged at the read32 rate) and for a delete one more atomic.
// perf_event_output (25) has no code in this firmware: it is not charged,
// and ExtDerived says so.

// Helper cost constants (see above).
const (
	lookupBase     = 180 // cycles of map_lookup_elem besides the key
	lookupPerWord  = 6   // cycles per 32-bit key word
	updateExtra    = 25  // blocking write of the value
	deleteExtra    = 28  // unlink: write and atomic
	lookupDRAMCost = 2*dramRead32 + 2*dramAddImm
)

// HelperCost is the estimated cost of one firmware helper call: cycles
// on the microengine, DRAM engine cycles per NIC, and whether the figure is
// derived from firmware code (false: no code to derive it from, charged 0).
func HelperCost(id uint32, keySize uint32) (cycles int64, dram float64, derived bool) {
	k := int64(keySize+3) / 4
	if k == 0 {
		k = 1
	}
	look := lookupBase + lookupPerWord*k
	switch id {
	case fwMapLookup:
		return look, lookupDRAMCost, true
	case fwMapUpdate:
		return look + updateExtra, lookupDRAMCost + dramRead32, true
	case fwMapDelete:
		return look + deleteExtra, lookupDRAMCost + dramRead32 + dramAddImm, true
	}
	return 0, 0, false
}
