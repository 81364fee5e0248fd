// xdp_gcc_count: built with GCC's BPF back end (bpf-gcc) rather than
// clang, to keep the loader honest about the other compiler's output: no
// BTF, a 20-byte legacy map definition (struct bpf_map_def), .data and
// .bss globals, and a static function that GCC calls through a
// relocation against the .text section symbol. It counts frames per
// receive-queue bucket and passes them all.
#include <linux/bpf.h>

/* libbpf's struct bpf_map_def: the 20-byte legacy layout. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def counters __attribute__((section("maps"), used)) = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(unsigned int),
	.value_size = sizeof(unsigned long long),
	.max_entries = 4,
};

/* GCC declares helpers by number. */
void *bpf_map_lookup_elem(void *map, const void *key) __attribute__((kernel_helper(1)));

unsigned long long frames;        /* .bss */
unsigned int bucket_of[4] = {3, 2, 1, 0}; /* .data: queue → bucket */

/* bucket maps a receive queue to a counter slot. */
static __attribute__((noinline)) unsigned int bucket(unsigned int queue)
{
	return bucket_of[queue & 3];
}

__attribute__((section("xdp"), used))
int xdp_gcc_count(struct xdp_md *ctx)
{
	unsigned int key = bucket(ctx->rx_queue_index);
	unsigned long long *n = bpf_map_lookup_elem(&counters, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	frames++;
	return XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
