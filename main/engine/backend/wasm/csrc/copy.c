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

/*
 * dst = src[b0 : b0+n1, b1 : b1+h1, b2 : b2+w1, b3 : b3+c1] of a [N, H, W, C] tensor, for output
 * images [i0, i1): rows of c1 floats (one copy per row of w1*c1 when the channels are whole).
 */
EXPORT(slice4d)
void slice4d(const float *src, int H, int W, int C, int b0, int b1, int b2, int b3, int h1, int w1, int c1, int i0, int i1, float *dst) {
  for (int n = i0; n < i1; ++n)
    for (int h = 0; h < h1; ++h) {
      const float *s = src + ((((size_t)(n + b0) * H + h + b1) * W + b2) * C + b3);
      float *d = dst + (((size_t)n * h1 + h) * w1) * c1;
      int rows = c1 == C ? 1 : w1;
      int len = c1 == C ? w1 * C : c1;
      for (int r = 0; r < rows; ++r, s += C, d += c1) {
        int i = 0;
        for (; i + 4 <= len; i += 4) wasm_v128_store(d + i, wasm_v128_load(s + i));
        for (; i < len; ++i) d[i] = s[i];
      }
    }
}
