#!/usr/bin/env bash
# Rebuilds the eBPF objects of testdata/progs from their C sources.
#
# The .o files are committed, so tests never need a compiler; run this
# after editing a .c file. *.c are built with clang-14 (needs clang-14 and
# libbpf-dev), gcc/*.c with GCC's BPF back end (Debian package gcc-bpf).
# Output is deterministic for a given clang version: same source, same bytes.
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-14}
for src in *.c; do
	obj=${src%.c}.o
	"$CLANG" -target bpf -O2 -g -idirafter /usr/include/x86_64-linux-gnu \
		-Wall -Werror -c "$src" -o "$obj"
	echo "built $obj"
done
for src in gcc/*.c; do
	obj=${src%.c}.o
	"${BPF_GCC:-bpf-gcc}" -O2 -I/usr/include -idirafter /usr/include/x86_64-linux-gnu \
		-Wall -Werror -c "$src" -o "$obj"
	echo "built $obj"
done
