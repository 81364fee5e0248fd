package lift

// helperArgCount is the number of arguments (r1…) of the eBPF helpers XDP
// and tc programs use, from the helper prototypes in the kernel's
// include/uapi/linux/bpf.h (trace_printk is
// variadic: it gets all five). A call passes only these, so the IR does not
// carry dead registers into calls; unknown helpers get all five.
var helperArgCount = map[int64]int{
	1:   2, // map_lookup_elem(map, key)
	2:   4, // map_update_elem(map, key, value, flags)
	3:   2, // map_delete_elem(map, key)
	4:   3, // probe_read(dst, size, src)
	5:   0, // ktime_get_ns()
	6:   5, // trace_printk(fmt, fmt_size, a, b, c)
	7:   0, // get_prandom_u32()
	8:   0, // get_smp_processor_id()
	9:   5, // skb_store_bytes(skb, off, from, len, flags)
	10:  5, // l3_csum_replace(skb, off, from, to, size)
	11:  5, // l4_csum_replace(skb, off, from, to, flags)
	12:  3, // tail_call(ctx, prog_array, index)
	13:  3, // clone_redirect(skb, ifindex, flags)
	14:  0, // get_current_pid_tgid()
	17:  1, // get_cgroup_classid(skb)
	18:  3, // skb_vlan_push(skb, proto, tci)
	19:  1, // skb_vlan_pop(skb)
	20:  4, // skb_get_tunnel_key(skb, key, size, flags)
	21:  4, // skb_set_tunnel_key(skb, key, size, flags)
	23:  2, // redirect(ifindex, flags)
	24:  1, // get_route_realm(skb)
	25:  5, // perf_event_output(ctx, map, flags, data, size)
	26:  4, // skb_load_bytes(skb, off, to, len)
	28:  5, // csum_diff(from, from_size, to, to_size, seed)
	31:  3, // skb_change_proto(skb, proto, flags)
	32:  2, // skb_change_type(skb, type)
	33:  3, // skb_under_cgroup(skb, map, index)
	34:  1, // get_hash_recalc(skb)
	38:  3, // skb_change_tail(skb, len, flags)
	39:  2, // skb_pull_data(skb, len)
	40:  2, // csum_update(skb, csum)
	43:  3, // skb_change_head(skb, len, flags)
	44:  2, // xdp_adjust_head(xdp, delta)
	48:  2, // set_hash(skb, hash)
	50:  4, // skb_adjust_room(skb, len_diff, mode, flags)
	51:  3, // redirect_map(map, key, flags)
	54:  2, // xdp_adjust_meta(xdp, delta)
	65:  2, // xdp_adjust_tail(xdp, delta)
	69:  4, // fib_lookup(ctx, params, plen, flags)
	87:  3, // map_push_elem(map, value, flags)
	88:  2, // map_pop_elem(map, value)
	89:  2, // map_peek_elem(map, value)
	93:  1, // spin_lock(lock)
	94:  1, // spin_unlock(lock)
	118: 0, // jiffies64()
	125: 0, // ktime_get_boot_ns()
	130: 4, // ringbuf_output(ringbuf, data, size, flags)
	131: 3, // ringbuf_reserve(ringbuf, size, flags)
	132: 2, // ringbuf_submit(data, flags)
	133: 2, // ringbuf_discard(data, flags)
	135: 2, // csum_level(skb, level)
	152: 4, // redirect_neigh(ifindex, params, plen, flags)
	155: 2, // redirect_peer(ifindex, flags)
	160: 0, // ktime_get_coarse_ns()
	163: 5, // check_mtu(ctx, ifindex, mtu_len, len_diff, flags)
	164: 4, // for_each_map_elem(map, callback, callback_ctx, flags)
	177: 4, // trace_vprintk(fmt, fmt_size, data, data_len)
	181: 4, // loop(nr_loops, callback, callback_ctx, flags)
	188: 1, // xdp_get_buff_len(xdp)
	189: 4, // xdp_load_bytes(xdp, off, buf, len)
	190: 4, // xdp_store_bytes(xdp, off, buf, len)
	195: 3, // map_lookup_percpu_elem(map, key, cpu)
}

func helperArgs(id int64) int {
	if n, ok := helperArgCount[id]; ok {
		return n
	}
	return 5
}
