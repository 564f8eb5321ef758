#!/bin/sh
# Builds kernels.c into two wasm modules that import tfjs-backend-wasm's memory:
#   kernels.wasm         for the single-threaded SIMD binary (plain memory)
#   kernels-shared.wasm  for the threaded SIMD binary (shared memory, needs atomics)
# Needs Debian's clang and lld: apt-get install -y clang lld (wabt's wasm-objdump for the check).
set -eu
cd "$(dirname "$0")"
OUT=..
CFLAGS="--target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin -ffp-contract=off"
LDFLAGS="-Wl,--no-entry -Wl,--import-memory -Wl,--max-memory=4294967296 -Wl,-z,stack-size=0 -Wl,--strip-all"
clang $CFLAGS $LDFLAGS -o $OUT/kernels.wasm kernels.c
clang $CFLAGS -matomics -mbulk-memory $LDFLAGS -Wl,--shared-memory -o $OUT/kernels-shared.wasm kernels.c
if command -v wasm-objdump >/dev/null 2>&1; then
  for f in $OUT/kernels.wasm $OUT/kernels-shared.wasm; do
    # The module shares tfjs' heap: it must not write its own data or move a stack pointer in it.
    if wasm-objdump -x "$f" | grep -q '^Data\['; then echo "$f has data segments" >&2; exit 1; fi
    if wasm-objdump -d "$f" | grep -q 'global.set'; then echo "$f writes a global (shadow stack?)" >&2; exit 1; fi
  done
fi
ls -l $OUT/kernels.wasm $OUT/kernels-shared.wasm
