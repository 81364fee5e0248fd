package isa

import "fmt"

// Target is a CPP target ID (include/elf/nfp.h: NFP-6xxx numbering).
type Target uint8

const (
	TargetNBI    Target = 1
	TargetVQDR   Target = 2 // "sram" in assembly
	TargetILA    Target = 6
	TargetMU     Target = 7 // "mem": CTM, IMEM, EMEM
	TargetPCIe   Target = 9
	TargetARM    Target = 10
	TargetCrypto Target = 12
	TargetCT     Target = 14 // "ct": CT/XPB
	TargetCLS    Target = 15
)

// CmdDef names one command of a target: action, token and a constraint on
// the length field (Cnt & LenMask == LenFixed). Rows of one (target,
// action, token) are tried in order, so more specific rows come first.
type CmdDef struct {
	Target            Target
	Action, Token     uint8
	LenFixed, LenMask uint8
	Name              string
}

// CmdDefs returns a copy of the command table (for assemblers and tests).
func CmdDefs() []CmdDef { return append([]CmdDef(nil), cmdDefs...) }

// TargetName is the assembly prefix of a CPP target ("mem", "cls", …).
func TargetName(t Target) string { return targetPrefix[t] }

// cmdDefs is the ME 2.8 command set as GNU binutils decodes it, sorted by
// target, action and token.
var cmdDefs = []CmdDef{
	{TargetNBI, 0, 0, 0, 0, "read"},
	{TargetNBI, 1, 0, 0, 0, "write"},
	{TargetNBI, 3, 0, 0, 0, "packet_ready_drop"},
	{TargetNBI, 3, 1, 0, 0, "packet_ready_unicast"},
	{TargetNBI, 3, 2, 0, 0, "packet_ready_multicast_dont_free"},
	{TargetNBI, 3, 3, 0, 0, "packet_ready_multicast_free_on_last"},
	{TargetILA, 0, 0, 0, 0, "read"},
	{TargetILA, 0, 1, 0, 0, "read_check_error"},
	{TargetILA, 1, 0, 0, 0, "write"},
	{TargetILA, 1, 1, 0, 0, "write_check_error"},
	{TargetILA, 2, 0, 0, 0, "read_int"},
	{TargetILA, 3, 0, 0, 7, "write_int"},
	{TargetILA, 3, 0, 3, 7, "write_dma"},
	{TargetMU, 0, 0, 0, 0, "read"},
	{TargetMU, 0, 1, 0, 0, "read_le"},
	{TargetMU, 0, 2, 0, 0, "read_swap"},
	{TargetMU, 0, 3, 0, 0, "read_swap_le"},
	{TargetMU, 1, 0, 0, 0, "write"},
	{TargetMU, 1, 1, 0, 0, "write_le"},
	{TargetMU, 1, 2, 0, 0, "write_swap"},
	{TargetMU, 1, 3, 0, 0, "write_swap_le"},
	{TargetMU, 2, 0, 0, 0, "write8"},
	{TargetMU, 2, 1, 0, 0, "write8_le"},
	{TargetMU, 2, 2, 0, 0, "write8_swap"},
	{TargetMU, 2, 3, 0, 0, "write8_swap_le"},
	{TargetMU, 3, 0, 0, 0, "atomic_read"},
	{TargetMU, 3, 1, 0, 0, "read8"},
	{TargetMU, 3, 2, 0, 0, "compare_write_or_incr/mask_compare_write"},
	{TargetMU, 3, 3, 0, 0, "test_compare_write_or_incr/test_mask_compare_write"},
	{TargetMU, 4, 0, 0, 0, "atomic_write"},
	{TargetMU, 4, 1, 0, 0, "swap"},
	{TargetMU, 4, 2, 0, 0, "atomic_write_imm"},
	{TargetMU, 4, 3, 0, 0, "swap_imm"},
	{TargetMU, 5, 0, 0, 0, "set"},
	{TargetMU, 5, 1, 0, 0, "test_set"},
	{TargetMU, 5, 2, 0, 0, "set_imm"},
	{TargetMU, 5, 3, 0, 0, "test_set_imm"},
	{TargetMU, 6, 0, 0, 0, "clr"},
	{TargetMU, 6, 1, 0, 0, "test_clr"},
	{TargetMU, 6, 2, 0, 0, "clr_imm"},
	{TargetMU, 6, 3, 0, 0, "test_clr_imm"},
	{TargetMU, 7, 0, 0, 4, "add"},
	{TargetMU, 7, 0, 4, 4, "add64"},
	{TargetMU, 7, 1, 0, 4, "test_add"},
	{TargetMU, 7, 1, 4, 4, "test_add64"},
	{TargetMU, 7, 2, 0, 4, "add_imm"},
	{TargetMU, 7, 2, 4, 4, "add64_imm"},
	{TargetMU, 7, 3, 0, 4, "test_add_imm"},
	{TargetMU, 7, 3, 4, 4, "test_add64_imm"},
	{TargetMU, 8, 0, 0, 4, "addsat"},
	{TargetMU, 8, 0, 4, 4, "addsat64"},
	{TargetMU, 8, 1, 0, 4, "test_addsat"},
	{TargetMU, 8, 1, 4, 4, "test_addsat64"},
	{TargetMU, 8, 2, 0, 4, "addsat_imm"},
	{TargetMU, 8, 2, 4, 4, "addsat64_imm"},
	{TargetMU, 8, 3, 0, 4, "test_addsat_imm"},
	{TargetMU, 8, 3, 4, 4, "test_addsat64_imm"},
	{TargetMU, 9, 0, 0, 4, "sub"},
	{TargetMU, 9, 0, 4, 4, "sub64"},
	{TargetMU, 9, 1, 0, 4, "test_sub"},
	{TargetMU, 9, 1, 4, 4, "test_sub64"},
	{TargetMU, 9, 2, 0, 4, "sub_imm"},
	{TargetMU, 9, 2, 4, 4, "sub64_imm"},
	{TargetMU, 9, 3, 0, 4, "test_sub_imm"},
	{TargetMU, 9, 3, 4, 4, "test_sub64_imm"},
	{TargetMU, 10, 0, 0, 4, "subsat"},
	{TargetMU, 10, 0, 4, 4, "subsat64"},
	{TargetMU, 10, 1, 0, 4, "test_subsat"},
	{TargetMU, 10, 1, 4, 4, "test_subsat64"},
	{TargetMU, 10, 2, 0, 4, "subsat_imm"},
	{TargetMU, 10, 2, 4, 4, "subsat64_imm"},
	{TargetMU, 10, 3, 0, 4, "test_subsat_imm"},
	{TargetMU, 10, 3, 4, 4, "test_subsat64_imm"},
	{TargetMU, 11, 0, 0, 0, "ticket_release"},
	{TargetMU, 11, 1, 0, 0, "ticket_release_ind"},
	{TargetMU, 12, 0, 0, 7, "cam128_lookup8/cam384_lookup8"},
	{TargetMU, 12, 0, 1, 7, "cam128_lookup16/cam384_lookup16"},
	{TargetMU, 12, 0, 2, 7, "cam128_lookup24/cam384_lookup24"},
	{TargetMU, 12, 0, 3, 7, "cam128_lookup32/cam384_lookup32"},
	{TargetMU, 12, 0, 4, 7, "cam256_lookup8/cam512_lookup8"},
	{TargetMU, 12, 0, 5, 7, "cam256_lookup16/cam512_lookup16"},
	{TargetMU, 12, 0, 6, 7, "cam256_lookup24/cam512_lookup24"},
	{TargetMU, 12, 0, 7, 7, "cam256_lookup32/cam512_lookup32"},
	{TargetMU, 12, 1, 0, 7, "cam128_lookup8_add/cam384_lookup8_add"},
	{TargetMU, 12, 1, 1, 7, "cam128_lookup16_add/cam384_lookup16_add"},
	{TargetMU, 12, 1, 2, 7, "cam128_lookup24_add/cam384_lookup24_add"},
	{TargetMU, 12, 1, 3, 7, "cam128_lookup32_add/cam384_lookup32_add"},
	{TargetMU, 12, 1, 4, 7, "cam256_lookup8_add/cam512_lookup8_add"},
	{TargetMU, 12, 1, 5, 7, "cam256_lookup16_add/cam512_lookup16_add"},
	{TargetMU, 12, 1, 6, 7, "cam256_lookup24_add/cam512_lookup24_add"},
	{TargetMU, 12, 1, 7, 7, "cam256_lookup32_add/cam512_lookup32_add"},
	{TargetMU, 12, 2, 0, 7, "tcam128_lookup8/tcam384_lookup8"},
	{TargetMU, 12, 2, 1, 7, "tcam128_lookup16/tcam384_lookup16"},
	{TargetMU, 12, 2, 2, 7, "tcam128_lookup24/tcam384_lookup24"},
	{TargetMU, 12, 2, 3, 7, "tcam128_lookup32/tcam384_lookup32"},
	{TargetMU, 12, 2, 4, 7, "tcam256_lookup8/tcam512_lookup8"},
	{TargetMU, 12, 2, 5, 7, "tcam256_lookup16/tcam512_lookup16"},
	{TargetMU, 12, 2, 6, 7, "tcam256_lookup24/tcam512_lookup24"},
	{TargetMU, 12, 2, 7, 7, "tcam256_lookup32/tcam512_lookup32"},
	{TargetMU, 12, 3, 0, 7, "lock128/lock384"},
	{TargetMU, 12, 3, 2, 7, "cam128_lookup24_add_inc/cam384_lookup24_add_inc"},
	{TargetMU, 12, 3, 4, 7, "lock256/lock512"},
	{TargetMU, 12, 3, 6, 7, "cam256_lookup24_add_inc/cam512_lookup24_add_inc"},
	{TargetMU, 13, 0, 0, 7, "microq128_get"},
	{TargetMU, 13, 0, 4, 7, "microq256_get"},
	{TargetMU, 13, 1, 0, 7, "microq128_pop"},
	{TargetMU, 13, 1, 4, 7, "microq256_pop"},
	{TargetMU, 13, 2, 0, 7, "microq128_put"},
	{TargetMU, 13, 2, 4, 7, "microq256_put"},
	{TargetMU, 14, 0, 0, 7, "queue128_lock"},
	{TargetMU, 14, 0, 4, 7, "queue256_lock"},
	{TargetMU, 14, 1, 0, 7, "queue128_unlock"},
	{TargetMU, 14, 1, 4, 7, "queue256_unlock"},
	{TargetMU, 15, 0, 0, 0, "xor"},
	{TargetMU, 15, 1, 0, 0, "test_xor"},
	{TargetMU, 15, 2, 0, 0, "xor_imm"},
	{TargetMU, 15, 3, 0, 0, "test_xor_imm"},
	{TargetMU, 16, 0, 0, 0, "ctm.packet_wait_packet_status/emem.rd_qdesc/imem.stats_log"},
	{TargetMU, 16, 1, 0, 0, "ctm.packet_read_packet_status/emem.wr_qdesc/imem.stats_log_sat"},
	{TargetMU, 16, 2, 0, 0, "emem.push_qdesc/imem.stats_log_event"},
	{TargetMU, 16, 3, 0, 0, "imem.stats_log_sat_event"},
	{TargetMU, 17, 0, 0, 0, "ctm.packet_alloc/emem.enqueue/imem.stats_push"},
	{TargetMU, 17, 1, 0, 0, "ctm.packet_credit_get/emem.enqueue_tail/imem.stats_push_clear"},
	{TargetMU, 17, 2, 0, 0, "ctm.packet_alloc_poll/emem.dequeue"},
	{TargetMU, 17, 3, 0, 0, "ctm.packet_add_thread"},
	{TargetMU, 18, 0, 0, 0, "ctm.packet_free/emem.read_queue/imem.lb_write_desc"},
	{TargetMU, 18, 1, 0, 0, "ctm.packet_free_and_signal/emem.read_queue_ring/imem.lb_read_desc"},
	{TargetMU, 18, 2, 0, 0, "ctm.packet_free_and_return_pointer/emem.write_queue"},
	{TargetMU, 18, 3, 0, 0, "ctm.packet_return_pointer/emem.write_queue_ring"},
	{TargetMU, 19, 0, 0, 0, "ctm.packet_complete_drop/emem.add_tail/imem.lb_write_idtable"},
	{TargetMU, 19, 1, 0, 0, "ctm.packet_complete_unicast/emem.qadd_thread/imem.lb_read_idtable"},
	{TargetMU, 19, 2, 0, 0, "ctm.packet_complete_multicast/emem.qadd_work"},
	{TargetMU, 19, 3, 0, 0, "ctm.packet_complete_multicast_free/emem.qadd_work_imm"},
	{TargetMU, 20, 0, 0, 0, "ctm.pe_dma_to_memory_packet/emem.put/imem.lb_bucket_write_local"},
	{TargetMU, 20, 1, 0, 0, "ctm.pe_dma_to_memory_packet_swap/imem.lb_bucket_write_dcache"},
	{TargetMU, 20, 2, 0, 0, "ctm.pe_dma_to_memory_packet_free/emem.journal"},
	{TargetMU, 20, 3, 0, 0, "ctm.pe_dma_to_memory_packet_free_swap"},
	{TargetMU, 21, 0, 0, 0, "ctm.pe_dma_to_memory_indirect/emem.get/imem.lb_bucket_read_local"},
	{TargetMU, 21, 1, 0, 0, "ctm.pe_dma_to_memory_indirect_swap/emem.get_eop/imem.lb_bucket_read_dcache"},
	{TargetMU, 21, 2, 0, 0, "ctm.pe_dma_to_memory_indirect_free/emem.get_freely"},
	{TargetMU, 21, 3, 0, 0, "ctm.pe_dma_to_memory_indirect_free_swap"},
	{TargetMU, 22, 0, 0, 0, "ctm.pe_dma_to_memory_buffer/emem.pop/imem.lb_lookup_bundleid"},
	{TargetMU, 22, 1, 0, 0, "ctm.pe_dma_to_memory_buffer_le/emem.pop_eop/imem.lb_lookup_dcache"},
	{TargetMU, 22, 2, 0, 0, "ctm.pe_dma_to_memory_buffer_swap/emem.pop_freely/imem.lb_lookup_idtable"},
	{TargetMU, 22, 3, 0, 0, "ctm.pe_dma_to_memory_buffer_le_swap"},
	{TargetMU, 23, 0, 0, 0, "ctm.pe_dma_from_memory_buffer/emem.fast_journal/imem.lb_push_stats_local"},
	{TargetMU, 23, 1, 0, 0, "ctm.pe_dma_from_memory_buffer_le/emem.fast_journal_sig/imem.lb_push_stats_dcache"},
	{TargetMU, 23, 2, 0, 0, "ctm.pe_dma_from_memory_buffer_swap/imem.lb_push_stats_local_clr"},
	{TargetMU, 23, 3, 0, 0, "ctm.pe_dma_from_memory_buffer_le_swap/imem.lb_push_stats_dcache_clr"},
	{TargetMU, 26, 0, 0, 0, "emem.lookup/imem.lookup"},
	{TargetMU, 28, 0, 0, 0, "read32"},
	{TargetMU, 28, 1, 0, 0, "read32_le"},
	{TargetMU, 28, 2, 0, 0, "read32_swap"},
	{TargetMU, 28, 3, 0, 0, "read32_swap_le"},
	{TargetMU, 29, 1, 0, 0, "cam_lookup_add_lock"},
	{TargetMU, 29, 2, 0, 0, "cam_lookup_add_extend"},
	{TargetMU, 29, 3, 0, 0, "cam_lookup_add_inc"},
	{TargetMU, 30, 2, 0, 0, "meter"},
	{TargetMU, 31, 0, 0, 0, "write32"},
	{TargetMU, 31, 1, 0, 0, "write32_le"},
	{TargetMU, 31, 2, 0, 0, "write32_swap"},
	{TargetMU, 31, 3, 0, 0, "write32_swap_le"},
	{TargetPCIe, 0, 0, 0, 0, "read"},
	{TargetPCIe, 0, 1, 0, 0, "read_rid"},
	{TargetPCIe, 1, 0, 0, 0, "write"},
	{TargetPCIe, 1, 1, 0, 0, "write_rid"},
	{TargetPCIe, 1, 2, 0, 0, "write_vdm"},
	{TargetPCIe, 2, 0, 0, 0, "read_int"},
	{TargetPCIe, 3, 0, 0, 0, "write_int"},
	{TargetARM, 0, 0, 0, 0, "read"},
	{TargetARM, 1, 0, 0, 0, "write"},
	{TargetCrypto, 0, 0, 0, 0, "read"},
	{TargetCrypto, 1, 0, 0, 0, "write"},
	{TargetCrypto, 2, 0, 0, 0, "write_fifo"},
	{TargetCT, 0, 0, 0, 0, "xpb_read"},
	{TargetCT, 0, 1, 0, 0, "ring_get"},
	{TargetCT, 0, 2, 0, 0, "interthread_signal"},
	{TargetCT, 1, 0, 0, 0, "xpb_write"},
	{TargetCT, 1, 1, 0, 0, "ring_put"},
	{TargetCT, 1, 2, 0, 0, "ctnn_write"},
	{TargetCT, 2, 0, 0, 0, "reflect_read_none"},
	{TargetCT, 2, 1, 0, 0, "reflect_read_sig_init"},
	{TargetCT, 2, 2, 0, 0, "reflect_read_sig_remote"},
	{TargetCT, 2, 3, 0, 0, "reflect_read_sig_both"},
	{TargetCT, 3, 0, 0, 0, "reflect_write_none"},
	{TargetCT, 3, 1, 0, 0, "reflect_write_sig_init"},
	{TargetCT, 3, 2, 0, 0, "reflect_write_sig_remote"},
	{TargetCT, 3, 3, 0, 0, "reflect_write_sig_both"},
	{TargetCLS, 0, 0, 0, 0, "read"},
	{TargetCLS, 0, 1, 0, 0, "read_le"},
	{TargetCLS, 0, 2, 0, 0, "swap/test_compare_write"},
	{TargetCLS, 0, 3, 0, 0, "xor"},
	{TargetCLS, 1, 0, 0, 0, "write"},
	{TargetCLS, 1, 1, 0, 0, "write_le"},
	{TargetCLS, 1, 2, 0, 0, "write8_be"},
	{TargetCLS, 1, 3, 0, 0, "write8_le"},
	{TargetCLS, 2, 0, 0, 0, "set"},
	{TargetCLS, 2, 1, 0, 0, "clr"},
	{TargetCLS, 2, 2, 0, 0, "test_set"},
	{TargetCLS, 2, 3, 0, 0, "test_clr"},
	{TargetCLS, 3, 0, 0, 0, "set_imm"},
	{TargetCLS, 3, 1, 0, 0, "clr_imm"},
	{TargetCLS, 3, 2, 0, 0, "test_set_imm"},
	{TargetCLS, 3, 3, 0, 0, "test_clr_imm"},
	{TargetCLS, 4, 0, 0, 0, "add"},
	{TargetCLS, 4, 1, 0, 0, "add64"},
	{TargetCLS, 4, 2, 0, 0, "addsat"},
	{TargetCLS, 5, 0, 0, 0, "add_imm"},
	{TargetCLS, 5, 1, 0, 0, "add64_imm"},
	{TargetCLS, 5, 2, 0, 0, "addsat_imm"},
	{TargetCLS, 6, 0, 0, 0, "sub"},
	{TargetCLS, 6, 1, 0, 0, "sub64"},
	{TargetCLS, 6, 2, 0, 0, "subsat"},
	{TargetCLS, 7, 0, 0, 0, "sub_imm"},
	{TargetCLS, 7, 1, 0, 0, "sub64_imm"},
	{TargetCLS, 7, 2, 0, 0, "subsat_imm"},
	{TargetCLS, 8, 0, 0, 0, "queue_lock"},
	{TargetCLS, 8, 1, 0, 0, "queue_unlock"},
	{TargetCLS, 8, 2, 0, 0, "hash_mask"},
	{TargetCLS, 8, 3, 0, 0, "hash_mask_clear"},
	{TargetCLS, 9, 0, 0, 0, "get"},
	{TargetCLS, 9, 1, 0, 0, "pop"},
	{TargetCLS, 9, 2, 0, 0, "get_safe"},
	{TargetCLS, 9, 3, 0, 0, "pop_safe"},
	{TargetCLS, 10, 0, 0, 0, "ring_put"},
	{TargetCLS, 10, 2, 0, 0, "ring_journal"},
	{TargetCLS, 11, 0, 0, 0, "cam_lookup32"},
	{TargetCLS, 11, 1, 0, 0, "cam_lookup32_add"},
	{TargetCLS, 11, 2, 0, 0, "cam_lookup24"},
	{TargetCLS, 11, 3, 0, 0, "cam_lookup24_add"},
	{TargetCLS, 12, 0, 0, 0, "cam_lookup8"},
	{TargetCLS, 12, 1, 0, 0, "cam_lookup8_add"},
	{TargetCLS, 12, 2, 0, 0, "cam_lookup16"},
	{TargetCLS, 12, 3, 0, 0, "cam_lookup16_add"},
	{TargetCLS, 13, 0, 0, 0, "tcam_lookup32"},
	{TargetCLS, 13, 1, 0, 0, "tcam_lookup24"},
	{TargetCLS, 13, 2, 0, 0, "tcam_lookup16"},
	{TargetCLS, 13, 3, 0, 0, "tcam_lookup8"},
	{TargetCLS, 14, 0, 0, 0, "reflect_write_sig_local"},
	{TargetCLS, 14, 1, 0, 0, "reflect_write_sig_remote"},
	{TargetCLS, 14, 2, 0, 0, "reflect_write_sig_both"},
	{TargetCLS, 15, 0, 0, 0, "reflect_read_sig_remote"},
	{TargetCLS, 15, 1, 0, 0, "reflect_read_sig_local"},
	{TargetCLS, 15, 2, 0, 0, "reflect_read_sig_both"},
	{TargetCLS, 16, 1, 0, 0, "cam_lookup32_add_lock"},
	{TargetCLS, 16, 2, 0, 0, "cam_lookup24_add_inc"},
	{TargetCLS, 16, 3, 0, 0, "cam_lookup32_add_extend"},
	{TargetCLS, 17, 0, 0, 0, "meter"},
	{TargetCLS, 17, 2, 0, 0, "statistic"},
	{TargetCLS, 17, 3, 0, 0, "statistic_imm"},
	{TargetCLS, 20, 0, 0, 0, "test_add"},
	{TargetCLS, 20, 1, 0, 0, "test_add64"},
	{TargetCLS, 20, 2, 0, 0, "test_addsat"},
	{TargetCLS, 21, 0, 0, 0, "test_add_imm"},
	{TargetCLS, 21, 1, 0, 0, "test_add64_imm"},
	{TargetCLS, 21, 2, 0, 0, "test_addsat_imm"},
	{TargetCLS, 22, 0, 0, 0, "test_sub"},
	{TargetCLS, 22, 1, 0, 0, "test_sub64"},
	{TargetCLS, 22, 2, 0, 0, "test_subsat"},
	{TargetCLS, 23, 0, 0, 0, "test_sub_imm"},
	{TargetCLS, 23, 1, 0, 0, "test_sub64_imm"},
	{TargetCLS, 23, 2, 0, 0, "test_subsat_imm"},
	{TargetCLS, 24, 0, 0, 0, "ring_read"},
	{TargetCLS, 24, 1, 0, 0, "ring_write"},
	{TargetCLS, 24, 2, 0, 0, "ring_ordered_lock"},
	{TargetCLS, 24, 3, 0, 0, "ring_ordered_unlock"},
	{TargetCLS, 25, 0, 0, 0, "ring_workq_add_thread"},
	{TargetCLS, 25, 1, 0, 0, "ring_workq_add_work"},
}

// targetPrefix is the assembly prefix of each target ("mem[", "cls[", …).
var targetPrefix = map[Target]string{
	TargetILA: "ila", TargetNBI: "nbi", TargetPCIe: "pcie", TargetCrypto: "crypto",
	TargetARM: "arm", TargetCT: "ct", TargetVQDR: "sram", TargetMU: "mem", TargetCLS: "cls",
}

// smallTargetCode is the 3-bit target code of tgt_cmd values with bits 6:5
// clear (two action bits); other targets use the upper bits.
var smallTargetCode = [8]Target{0: TargetILA, 1: TargetNBI, 3: TargetPCIe, 5: TargetCrypto, 6: TargetARM, 7: TargetCT}

// SplitTgtCmd decodes a command's 7-bit tgt_cmd into CPP target and action;
// ok is false for codes that name no target.
func SplitTgtCmd(tc uint8) (t Target, action uint8, ok bool) {
	if tc>>5&3 == 0 {
		t = smallTargetCode[tc>>2&7]
		return t, tc & 3, t != 0
	}
	switch tc >> 4 & 7 {
	case 3:
		return TargetVQDR, tc & 0xf, true
	case 4, 5:
		return TargetMU, tc & 0x1f, true
	case 6, 7:
		return TargetCLS, tc & 0x1f, true
	}
	return 0, 0, false
}

// joinTgtCmd is the inverse of SplitTgtCmd.
func joinTgtCmd(t Target, action uint8) (uint8, error) {
	switch t {
	case TargetVQDR:
		if action < 16 {
			return 0x30 | action, nil
		}
	case TargetMU:
		if action < 32 {
			return 0x40 | action, nil
		}
	case TargetCLS:
		if action < 32 {
			return 0x60 | action, nil
		}
	default:
		for code, st := range smallTargetCode {
			if st == t && st != 0 && action < 4 {
				return uint8(code<<2) | action, nil
			}
		}
	}
	return 0, fmt.Errorf("target %d has no action %d", t, action)
}

// CmdName returns the mnemonic of a command ("" if GNU knows none).
func (i CmdInstr) CmdName() (target Target, name string) {
	t, act, ok := SplitTgtCmd(i.TgtCmd)
	if !ok {
		return 0, ""
	}
	tok, cnt := i.Token, i.Cnt
	if i.Mode == ModeImmAddrD {
		tok = 0
	}
	for _, d := range cmdDefs {
		if d.Target == t && d.Action == act && d.Token == tok && cnt&d.LenMask == d.LenFixed {
			return t, d.Name
		}
	}
	return t, ""
}

// Cmd builds a command by target and mnemonic, e.g.
// Cmd(TargetMU, "read32_swap", 0, GPRA(2), Imm(0), Mode32, 2, CtxSwapWait):
// the transfer registers start at xfer, a and b are the A-field and B-field
// address operands (Mode40BA puts the high part in b), count is the length
// as assembly prints it (length field + 1). Sig is 1 unless CtxNoSwap.
func Cmd(t Target, name string, xfer int, a, b Operand, mode AddrMode, count int, ctx CtxSwap) CmdInstr {
	in := CmdInstr{Mode: mode, Ctx: ctx}
	if ctx != CtxNoSwap {
		in.Sig = 1
	}
	var def *CmdDef
	for k := range cmdDefs {
		if cmdDefs[k].Target == t && cmdDefs[k].Name == name {
			def = &cmdDefs[k]
			break
		}
	}
	if def == nil {
		in.err = fmt.Errorf("target %s has no command %q", targetPrefix[t], name)
		return in
	}
	if count < 1 || count > 8 {
		in.err = fmt.Errorf("%s: count %d out of range 1..8", name, count)
		return in
	}
	in.Cnt = uint8(count - 1)
	if in.Cnt&def.LenMask != def.LenFixed {
		in.err = fmt.Errorf("%s: count %d does not select this command (length field & 0x%x must be 0x%x)", name, count, def.LenMask, def.LenFixed)
		return in
	}
	// The first matching row for this (action, token, length) must be ours,
	// or the word would decode as another command.
	in.Token = def.Token
	var err error
	in.TgtCmd, err = joinTgtCmd(t, def.Action)
	if err != nil {
		in.err = err
		return in
	}
	if _, got := in.CmdName(); got != name {
		in.err = fmt.Errorf("%s: count %d decodes as %q", name, count, got)
		return in
	}
	if xfer < 0 || xfer > 63 {
		in.err = fmt.Errorf("transfer register %d out of range 0..63", xfer)
		return in
	}
	in.Xfer = uint8(xfer)
	if srcType(a) != "" && srcType(a) == srcType(b) {
		in.err = fmt.Errorf("two %s address operands", srcType(a))
		return in
	}
	if a.isBank(BankB) || b.isBank(BankA) {
		in.err = fmt.Errorf("address operands %v, %v: the A field reads bank A and the B field bank B (commands cannot swap)", a, b)
		return in
	}
	var e1, e2 error
	var lmA, lmB bool
	in.A, lmA, _, e1 = src8(a, false)
	in.B, lmB, _, e2 = src8(b, false)
	if e := firstErr(e1, e2); e != nil {
		in.err = e
		return in
	}
	if lmA || lmB {
		in.err = fmt.Errorf("commands cannot use *l$index2/3 (no LM-extension bit)")
	}
	return in
}
