/* ReLU and its gradient, elementwise over n floats (both split in 256-float blocks over two threads). */
#include "common.h"

/* y = max(x, 0); NaN stays NaN, as in tfjs' Relu. */
EXPORT(relu)
void relu(const float *x, int n, float *y) {
  int i = 0;
  v128_t zero = wasm_f32x4_splat(0.f);
  for (; i + 4 <= n; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t r = wasm_v128_and(v, wasm_f32x4_gt(v, zero));
    wasm_v128_store(y + i, wasm_v128_bitselect(v, r, wasm_f32x4_ne(v, v)));
  }
  for (; i < n; ++i) {
    float v = x[i];
    y[i] = v > 0.f ? v : (v != v ? v : 0.f);
  }
}

/* dx = dy where x > 0, else 0; a NaN x passes through as NaN, like dy * step(x). */
EXPORT(relu_grad)
void relu_grad(const float *dy, const float *x, int n, float *dx) {
  int i = 0;
  v128_t zero = wasm_f32x4_splat(0.f);
  for (; i + 4 <= n; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t r = wasm_v128_and(wasm_v128_load(dy + i), wasm_f32x4_gt(xv, zero));
    wasm_v128_store(dx + i, wasm_v128_bitselect(xv, r, wasm_f32x4_ne(xv, xv)));
  }
  for (; i < n; ++i) {
    float xv = x[i];
    dx[i] = xv > 0.f ? dy[i] : (xv != xv ? xv : 0.f);
  }
}
