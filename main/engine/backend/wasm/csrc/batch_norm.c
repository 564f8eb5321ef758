/*
 * Batch normalisation (Ioffe & Szegedy 2015, Algorithm 1 and its backward pass) over channels-last
 * rows: the per-channel reductions of the batch statistics and of the gradient, and the two affine
 * passes that apply them. Reductions accumulate rows in float32 blocks of BLOCK rows and the blocks
 * in float64, so sums over 100k rows keep ~1e-7 relative error. Each thread sums its own rows into
 * its own float64 totals (batch-norm kernels in TypeScript add the two halves).
 */
#include "common.h"

#define BLOCK 64

static void zero_f32(float *p, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(p + i, wasm_f32x4_splat(0.f));
  for (; i < n; ++i) p[i] = 0.f;
}

static void flush_block(const float *tmp, double *acc, int C) {
  for (int c = 0; c < C; ++c) acc[c] += (double)tmp[c];
}

/* y = x * scale[c] + shift[c]: BN's normalise-scale-shift folded into one affine map per channel. */
EXPORT(channel_affine)
void channel_affine(const float *x, int P, int C, const float *scale, const float *shift, float *y) {
  for (int p = 0; p < P; ++p) {
    const float *row = x + (size_t)p * C;
    float *out = y + (size_t)p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4)
      wasm_v128_store(out + c, F32X4_MADD(wasm_v128_load(row + c), wasm_v128_load(scale + c), wasm_v128_load(shift + c)));
    for (; c < C; ++c) out[c] = row[c] * scale[c] + shift[c];
  }
}

/*
 * y = max(x * scale[c] + shift[c], 0): BN and the ReLU after it in one pass (NaN stays NaN). x's
 * rows are xs floats apart (xs > C: the first C channels of a wider buffer); y is [P, C].
 */
EXPORT(channel_affine_relu)
void channel_affine_relu(const float *x, int P, int C, int xs, const float *scale, const float *shift, float *y) {
  v128_t zero = wasm_f32x4_splat(0.f);
  for (int p = 0; p < P; ++p) {
    const float *row = x + (size_t)p * xs;
    float *out = y + (size_t)p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = F32X4_MADD(wasm_v128_load(row + c), wasm_v128_load(scale + c), wasm_v128_load(shift + c));
      wasm_v128_store(out + c, wasm_v128_bitselect(v, wasm_v128_and(v, wasm_f32x4_gt(v, zero)), wasm_f32x4_ne(v, v)));
    }
    for (; c < C; ++c) {
      float v = row[c] * scale[c] + shift[c];
      out[c] = v > 0.f ? v : (v != v ? v : 0.f);
    }
  }
}

/* dy where r > 0, else 0: the gradient through the ReLU whose output is r. */
static inline v128_t relu_masked(v128_t dy, v128_t r) {
  return wasm_v128_and(dy, wasm_f32x4_gt(r, wasm_f32x4_splat(0.f)));
}

/* dx = a[c] * dy + b[c] * x + k[c]: BN's input gradient once the reductions are known. */
EXPORT(bn_grad_dx)
void bn_grad_dx(const float *dy, const float *x, int P, int C, const float *a, const float *b, const float *k, float *dx) {
  for (int p = 0; p < P; ++p) {
    const float *g = dy + (size_t)p * C;
    const float *row = x + (size_t)p * C;
    float *out = dx + (size_t)p * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t v = F32X4_MADD(wasm_v128_load(g + c), wasm_v128_load(a + c), wasm_v128_load(k + c));
      wasm_v128_store(out + c, F32X4_MADD(wasm_v128_load(row + c), wasm_v128_load(b + c), v));
    }
    for (; c < C; ++c) out[c] = a[c] * g[c] + b[c] * row[c] + k[c];
  }
}

/* BN's batch statistics (Ioffe & Szegedy 2015, Alg. 1) take two passes, the mean and then squared
 * deviations from it, which avoids the cancellation of E[x^2] - E[x]^2. */

/* acc[c] += sum over rows of x[p][c]; rows xs floats apart. */
EXPORT(col_sum)
void col_sum(const float *x, int P, int C, int xs, float *tmp, double *acc) {
  for (int p0 = 0; p0 < P; p0 += BLOCK) {
    int p1 = p0 + BLOCK < P ? p0 + BLOCK : P;
    zero_f32(tmp, C);
    for (int p = p0; p < p1; ++p) {
      const float *row = x + (size_t)p * xs;
      int c = 0;
      for (; c + 4 <= C; c += 4) wasm_v128_store(tmp + c, wasm_f32x4_add(wasm_v128_load(tmp + c), wasm_v128_load(row + c)));
      for (; c < C; ++c) tmp[c] += row[c];
    }
    flush_block(tmp, acc, C);
  }
}

/* acc[c] += sum over rows of (x[p][c] - mean[c])^2; rows xs floats apart. */
EXPORT(col_sqdev)
void col_sqdev(const float *x, int P, int C, int xs, const float *mean, float *tmp, double *acc) {
  for (int p0 = 0; p0 < P; p0 += BLOCK) {
    int p1 = p0 + BLOCK < P ? p0 + BLOCK : P;
    zero_f32(tmp, C);
    for (int p = p0; p < p1; ++p) {
      const float *row = x + (size_t)p * xs;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
        wasm_v128_store(tmp + c, F32X4_MADD(d, d, wasm_v128_load(tmp + c)));
      }
      for (; c < C; ++c) {
        float d = row[c] - mean[c];
        tmp[c] += d * d;
      }
    }
    flush_block(tmp, acc, C);
  }
}

/*
 * bn_grad_dx for the gradient of a BN followed by a ReLU with output r: dy is first masked where
 * r <= 0 (col_grad_sums_relu gives the matching reductions). x's and dx's rows are xs floats apart
 * (dy's and r's: C); with acc, dx += instead of dx = (a dense block adds each layer's input
 * gradient into the gradient of its shared feature buffer).
 */
EXPORT(bn_grad_dx_relu)
void bn_grad_dx_relu(const float *dy, const float *r, const float *x, int P, int C, int xs, const float *a, const float *b, const float *k, float *dx, int acc) {
  for (int p = 0; p < P; ++p) {
    const float *g = dy + (size_t)p * C;
    const float *rr = r + (size_t)p * C;
    const float *row = x + (size_t)p * xs;
    float *out = dx + (size_t)p * xs;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      v128_t gv = relu_masked(wasm_v128_load(g + c), wasm_v128_load(rr + c));
      v128_t v = F32X4_MADD(gv, wasm_v128_load(a + c), wasm_v128_load(k + c));
      v = F32X4_MADD(wasm_v128_load(row + c), wasm_v128_load(b + c), v);
      wasm_v128_store(out + c, acc ? wasm_f32x4_add(wasm_v128_load(out + c), v) : v);
    }
    for (; c < C; ++c) {
      float v = a[c] * (rr[c] > 0.f ? g[c] : 0.f) + b[c] * row[c] + k[c];
      out[c] = acc ? out[c] + v : v;
    }
  }
}

/* col_grad_sums of dy masked where the ReLU output r <= 0; x's rows xs floats apart. */
EXPORT(col_grad_sums_relu)
void col_grad_sums_relu(const float *dy, const float *r, const float *x, int P, int C, int xs, const float *mean, float *tmp, double *acc) {
  float *t1 = tmp, *t2 = tmp + C;
  for (int p0 = 0; p0 < P; p0 += BLOCK) {
    int p1 = p0 + BLOCK < P ? p0 + BLOCK : P;
    zero_f32(tmp, 2 * C);
    for (int p = p0; p < p1; ++p) {
      const float *g = dy + (size_t)p * C;
      const float *rr = r + (size_t)p * C;
      const float *row = x + (size_t)p * xs;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t gv = relu_masked(wasm_v128_load(g + c), wasm_v128_load(rr + c));
        v128_t d = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
        wasm_v128_store(t1 + c, wasm_f32x4_add(wasm_v128_load(t1 + c), gv));
        wasm_v128_store(t2 + c, F32X4_MADD(gv, d, wasm_v128_load(t2 + c)));
      }
      for (; c < C; ++c) {
        float gs = rr[c] > 0.f ? g[c] : 0.f;
        t1[c] += gs;
        t2[c] += gs * (row[c] - mean[c]);
      }
    }
    flush_block(t1, acc, C);
    flush_block(t2, acc + C, C);
  }
}

/* acc[c] += sum dy[p][c]; acc[C + c] += sum dy[p][c] * (x[p][c] - mean[c]). tmp: 2C floats. */
EXPORT(col_grad_sums)
void col_grad_sums(const float *dy, const float *x, int P, int C, const float *mean, float *tmp, double *acc) {
  float *t1 = tmp, *t2 = tmp + C;
  for (int p0 = 0; p0 < P; p0 += BLOCK) {
    int p1 = p0 + BLOCK < P ? p0 + BLOCK : P;
    zero_f32(tmp, 2 * C);
    for (int p = p0; p < p1; ++p) {
      const float *g = dy + (size_t)p * C;
      const float *row = x + (size_t)p * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t gv = wasm_v128_load(g + c);
        v128_t d = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
        wasm_v128_store(t1 + c, wasm_f32x4_add(wasm_v128_load(t1 + c), gv));
        wasm_v128_store(t2 + c, F32X4_MADD(gv, d, wasm_v128_load(t2 + c)));
      }
      for (; c < C; ++c) {
        t1[c] += g[c];
        t2[c] += g[c] * (row[c] - mean[c]);
      }
    }
    flush_block(t1, acc, C);
    flush_block(t2, acc + C, C);
  }
}
