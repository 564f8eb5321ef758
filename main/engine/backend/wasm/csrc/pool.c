/* Pooling gradients. */
#include "common.h"

/*
 * Gradient of a non-overlapping k x k average pool with stride k and no padding (DenseNet's
 * transitions): every input pixel of a window receives dy / (k*k). Rows and columns beyond the last
 * full window (odd sizes) get zero, as in the forward pool they were never read.
 */
EXPORT(avg_pool_grad)
void avg_pool_grad(const float *dy, int N, int H, int W, int C, int k, int HO, int WO, float *dx) {
  float scale = 1.f / (float)(k * k);
  v128_t sv = wasm_f32x4_splat(scale);
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h) {
      int oh = h / k;
      for (int w = 0; w < W; ++w) {
        int ow = w / k;
        float *d = dx + (((size_t)n * H + h) * W + w) * C;
        if (oh >= HO || ow >= WO) {
          for (int c = 0; c < C; ++c) d[c] = 0.f;
          continue;
        }
        const float *g = dy + (((size_t)n * HO + oh) * WO + ow) * C;
        int c = 0;
        for (; c + 4 <= C; c += 4) wasm_v128_store(d + c, wasm_f32x4_mul(wasm_v128_load(g + c), sv));
        for (; c < C; ++c) d[c] = g[c] * scale;
      }
    }
}

/*
 * Gradient of a max pool over images [n0, n1): each window's dy goes to its largest input, the first
 * one in row-major window order when several tie (as tfjs' cpu backend picks it; after a ReLU and a
 * zero pad, ties at 0 are common). Vectorised over channels: per window, a pass for the maximum and
 * a pass that adds dy where x equals it and no earlier position already took it. dx must be zeroed
 * for those images; overlapping windows (3x3 stride 2) add up.
 */
EXPORT(max_pool_grad)
void max_pool_grad(const float *x, const float *dy, int H, int W, int C, int HO, int WO, int KH, int KW, int SH, int SW,
                   int PT, int PL, int n0, int n1, float *dx) {
  for (int n = n0; n < n1; ++n)
    for (int oh = 0; oh < HO; ++oh)
      for (int ow = 0; ow < WO; ++ow) {
        int h0 = oh * SH - PT, w0 = ow * SW - PL;
        int kh0 = h0 < 0 ? -h0 : 0, kw0 = w0 < 0 ? -w0 : 0;
        int kh1 = h0 + KH > H ? H - h0 : KH, kw1 = w0 + KW > W ? W - w0 : KW;
        if (kh1 <= kh0 || kw1 <= kw0) continue;
        const float *g = dy + (((size_t)n * HO + oh) * WO + ow) * C;
        int c = 0;
        for (; c + 4 <= C; c += 4) {
          v128_t m = wasm_f32x4_splat(-__builtin_inff());
          for (int kh = kh0; kh < kh1; ++kh)
            for (int kw = kw0; kw < kw1; ++kw)
              m = wasm_f32x4_pmax(m, wasm_v128_load(x + (((size_t)n * H + h0 + kh) * W + w0 + kw) * C + c));
          v128_t gv = wasm_v128_load(g + c);
          v128_t taken = wasm_i32x4_splat(0);
          for (int kh = kh0; kh < kh1; ++kh)
            for (int kw = kw0; kw < kw1; ++kw) {
              size_t at = (((size_t)n * H + h0 + kh) * W + w0 + kw) * C + c;
              v128_t hit = wasm_v128_andnot(wasm_f32x4_eq(wasm_v128_load(x + at), m), taken);
              taken = wasm_v128_or(taken, hit);
              wasm_v128_store(dx + at, wasm_f32x4_add(wasm_v128_load(dx + at), wasm_v128_and(gv, hit)));
            }
        }
        for (; c < C; ++c) {
          float best = -__builtin_inff();
          size_t arg = 0;
          int found = 0;
          for (int kh = kh0; kh < kh1; ++kh)
            for (int kw = kw0; kw < kw1; ++kw) {
              size_t at = (((size_t)n * H + h0 + kh) * W + w0 + kw) * C + c;
              if (!found || x[at] > best) {
                best = x[at];
                arg = at;
                found = 1;
              }
            }
          dx[arg] += g[c];
        }
      }
}
