#!/usr/bin/env bash
# Builds GNU objdump for the nfp-elf target from Debian's binutils-source
# package, so the isa package's cross-check test can compare nfpcc's
# disassembler with GNU's. Debian's own binutils packages do not include the
# NFP target. The result is cached; a second run does nothing.
#
#   scripts/gnu-objdump.sh            # build into $NFPCC_GNU_CACHE (default ~/.cache/nfpcc/gnu-objdump)
#   NFPCC_GNU_OBJDUMP=$HOME/.cache/nfpcc/gnu-objdump/bin/objdump go test ./isa/
#
# Needs root (or sudo) to apt-get install binutils-source and the build tools.
set -euo pipefail
CACHE="${NFPCC_GNU_CACHE:-$HOME/.cache/nfpcc/gnu-objdump}"
OUT="$CACHE/bin/objdump"
if [ -x "$OUT" ] && "$OUT" --version >/dev/null 2>&1 && "$OUT" --help 2>/dev/null | grep -q elf64-nfp; then
  echo "gnu-objdump: $OUT already built"
  exit 0
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! dpkg -s binutils-source build-essential >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils-source build-essential >/dev/null
fi
TARBALL=$(ls /usr/src/binutils/binutils-*.tar.* 2>/dev/null | head -n1)
if [ -z "$TARBALL" ]; then
  echo "gnu-objdump: no binutils tarball under /usr/src/binutils" >&2
  exit 1
fi
WORK="$CACHE/build"
rm -rf "$WORK"
mkdir -p "$WORK/src" "$WORK/obj" "$CACHE/bin"
tar -xf "$TARBALL" -C "$WORK/src" --strip-components=1
cd "$WORK/obj"
JOBS="${NFPCC_GNU_JOBS:-2}"
"$WORK/src/configure" --target=nfp-elf --disable-nls --disable-werror \
  --disable-gdb --disable-gdbserver --disable-sim --disable-gas --disable-ld \
  --disable-gold --disable-gprof --disable-gprofng --without-zstd \
  --disable-libdecnumber --disable-readline --disable-libctf \
  MAKEINFO=true >"$WORK/configure.log" 2>&1
make -j"$JOBS" MAKEINFO=true all-bfd all-opcodes all-libiberty all-libsframe >"$WORK/make.log" 2>&1
make MAKEINFO=true configure-binutils >>"$WORK/make.log" 2>&1
make -j"$JOBS" -C binutils MAKEINFO=true objdump >>"$WORK/make.log" 2>&1
cp binutils/objdump "$OUT"
rm -rf "$WORK"
echo "gnu-objdump: built $OUT"
