/* Copies of column ranges (Concat, SplitV) and an in-place sum. */
#include "common.h"

/*
 * For each of `rows` rows, copies `n` floats from src[row * src_cols + src_off] to
 * dst[row * dst_cols + dst_off]. Concatenation and splitting along any axis reduce to this, with
 * rows = product of the outer dims and the columns = the axis times the inner dims.
 */
EXPORT(copy_cols)
void copy_cols(const float *src, int rows, int src_cols, int src_off, int n, float *dst, int dst_cols, int dst_off) {
  for (int r = 0; r < rows; ++r) {
    const float *s = src + (size_t)r * src_cols + src_off;
    float *d = dst + (size_t)r * dst_cols + dst_off;
    int c = 0;
    for (; c + 16 <= n; c += 16) {
      v128_t a = wasm_v128_load(s + c), b = wasm_v128_load(s + c + 4);
      v128_t e = wasm_v128_load(s + c + 8), f = wasm_v128_load(s + c + 12);
      wasm_v128_store(d + c, a);
      wasm_v128_store(d + c + 4, b);
      wasm_v128_store(d + c + 8, e);
      wasm_v128_store(d + c + 12, f);
    }
    for (; c + 4 <= n; c += 4) wasm_v128_store(d + c, wasm_v128_load(s + c));
    for (; c < n; ++c) d[c] = s[c];
  }
}

/* dst += src over n floats: sums the partial weight gradients of K-chunked backward convs. */
EXPORT(add_into)
void add_into(float *dst, const float *src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i), wasm_v128_load(src + i)));
  for (; i < n; ++i) dst[i] += src[i];
}
