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
