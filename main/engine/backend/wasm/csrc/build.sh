#!/bin/sh
# Builds the kernel families (*.c, one family a file) into one wasm module per runtime flavour; every
# module imports tfjs-backend-wasm's memory:
#   kernels.wasm                  single-threaded SIMD binary (plain memory)
#   kernels-shared.wasm           threaded SIMD binary (shared memory, needs atomics)
#   kernels-relaxed.wasm          as kernels.wasm, with relaxed SIMD (fused multiply-add)
#   kernels-relaxed-shared.wasm   as kernels-shared.wasm, with relaxed SIMD
# The relaxed builds run where the runtime has relaxed SIMD (Node >= 22, Electron; Node 20 with
# --experimental-wasm-relaxed-simd); the plain ones everywhere else (simd.ts picks).
# Needs Debian's clang-16 (relaxed SIMD's final opcodes) and lld: apt-get install -y clang-16 lld-16
# (and wabt for the check below). CC overrides the compiler.
set -eu
cd "$(dirname "$0")"
OUT=..
CC=${CC:-clang-16}
SRC="batch_norm.c conv_dw.c copy.c layout.c pool.c relu.c"
CFLAGS="--target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin -ffp-contract=off"
LDFLAGS="-Wl,--no-entry -Wl,--import-memory -Wl,--max-memory=4294967296 -Wl,-z,stack-size=0 -Wl,--strip-all"
SHARED="-matomics -mbulk-memory -Wl,--shared-memory"
$CC $CFLAGS $LDFLAGS -o $OUT/kernels.wasm $SRC
$CC $CFLAGS $SHARED $LDFLAGS -o $OUT/kernels-shared.wasm $SRC
$CC $CFLAGS -mrelaxed-simd $LDFLAGS -o $OUT/kernels-relaxed.wasm $SRC
$CC $CFLAGS -mrelaxed-simd $SHARED $LDFLAGS -o $OUT/kernels-relaxed-shared.wasm $SRC
if command -v wasm-objdump >/dev/null 2>&1; then
  for f in $OUT/kernels.wasm $OUT/kernels-shared.wasm; do
    # The module shares tfjs' heap: it must not write its own data or move a stack pointer in it.
    # wabt 1.0.32 cannot disassemble relaxed SIMD: the relaxed builds are checked on clang's assembly.
    if wasm-objdump -x "$f" | grep -q '^Data\['; then echo "$f has data segments" >&2; exit 1; fi
    if wasm-objdump -d "$f" | grep -q 'global.set'; then echo "$f writes a global (shadow stack?)" >&2; exit 1; fi
  done
  for f in $OUT/kernels-relaxed.wasm $OUT/kernels-relaxed-shared.wasm; do
    if wasm-objdump -h "$f" | grep -q ' Data '; then echo "$f has data segments" >&2; exit 1; fi
  done
fi
for c in $SRC; do
  if $CC $CFLAGS -mrelaxed-simd -S -o - "$c" | grep -q 'global.set'; then echo "$c moves the shadow stack" >&2; exit 1; fi
done
ls -l $OUT/kernels*.wasm
