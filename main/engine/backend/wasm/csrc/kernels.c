/*
 * SIMD128 kernels for training DenseNets on tfjs-backend-wasm.
 *
 * This module imports tfjs-backend-wasm's own linear memory, so every pointer below is a byte
 * offset into tfjs' heap and the kernels read and write tensors in place, with no copies. For that
 * to be safe the module must own nothing in that memory: no data segments, no globals in memory,
 * and no shadow-stack use (no address-taken locals, no arrays on the stack, no libc). build.sh
 * checks the built module for a __stack_pointer use and for data segments.
 *
 * Layouts are TF.js' channels-last: an activation is [P, C] with P = N*H*W rows of C channels.
 * Reductions accumulate rows in float32 blocks of BLOCK rows and the blocks in float64, so sums
 * over 100k rows keep ~1e-7 relative error.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define BLOCK 64

typedef __SIZE_TYPE__ size_t;

/* --- per-channel sums ------------------------------------------------------------------------- */

static void zero_f32(float *p, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(p + i, wasm_f32x4_splat(0.f));
  for (; i < n; ++i) p[i] = 0.f;
}

static void zero_f64(double *p, int n) {
  for (int i = 0; i < n; ++i) p[i] = 0.0;
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
      wasm_v128_store(out + c, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(row + c), wasm_v128_load(scale + c)),
                                              wasm_v128_load(shift + c)));
    for (; c < C; ++c) out[c] = row[c] * scale[c] + shift[c];
  }
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
      v128_t v = wasm_f32x4_mul(wasm_v128_load(g + c), wasm_v128_load(a + c));
      v = wasm_f32x4_add(v, wasm_f32x4_mul(wasm_v128_load(row + c), wasm_v128_load(b + c)));
      wasm_v128_store(out + c, wasm_f32x4_add(v, wasm_v128_load(k + c)));
    }
    for (; c < C; ++c) out[c] = a[c] * g[c] + b[c] * row[c] + k[c];
  }
}

/* --- ReLU ------------------------------------------------------------------------------------- */

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

/* --- layout changes ---------------------------------------------------------------------------- */

/* dst[c][b][a] = src[a][b][c]: swaps the outer and inner axes of [A, B, C], in 8x8 tiles. */
EXPORT(permute_210)
void permute_210(const float *src, int A, int B, int C, float *dst) {
  for (int b = 0; b < B; ++b) {
    const float *s = src + (size_t)b * C;
    float *d = dst + (size_t)b * A;
    size_t s_stride = (size_t)B * C; /* from a to a+1 in src */
    size_t d_stride = (size_t)B * A; /* from c to c+1 in dst */
    for (int a0 = 0; a0 < A; a0 += 8) {
      int a1 = a0 + 8 < A ? a0 + 8 : A;
      for (int c0 = 0; c0 < C; c0 += 8) {
        int c1 = c0 + 8 < C ? c0 + 8 : C;
        for (int c = c0; c < c1; ++c)
          for (int a = a0; a < a1; ++a) d[c * d_stride + a] = s[a * s_stride + c];
      }
    }
  }
}

/* dst[b][a][:] = src[a][b][:]: swaps the two outer axes of [A, B, C], moving rows of C floats. */
EXPORT(permute_102)
void permute_102(const float *src, int A, int B, int C, float *dst) {
  for (int a = 0; a < A; ++a) {
    for (int b = 0; b < B; ++b) {
      const float *s = src + ((size_t)a * B + b) * C;
      float *d = dst + ((size_t)b * A + a) * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) wasm_v128_store(d + c, wasm_v128_load(s + c));
      for (; c < C; ++c) d[c] = s[c];
    }
  }
}

/* dst[i][j][o][c] = w[KH-1-i][KW-1-j][c][o]: the filter of the transposed convolution that gives dx. */
EXPORT(rot180_swap)
void rot180_swap(const float *w, int KH, int KW, int CI, int CO, float *dst) {
  for (int i = 0; i < KH; ++i)
    for (int j = 0; j < KW; ++j) {
      const float *s = w + ((size_t)(KH - 1 - i) * KW + (KW - 1 - j)) * CI * CO;
      float *d = dst + ((size_t)i * KW + j) * CO * CI;
      for (int c = 0; c < CI; ++c)
        for (int o = 0; o < CO; ++o) d[o * CI + c] = s[c * CO + o];
    }
}

/* Spreads dy [N,H,W,C] over a zeroed [N,HD,WD,C] at every sh-th row and sw-th column (strided dx). */
EXPORT(dilate)
void dilate(const float *src, int N, int H, int W, int C, int sh, int sw, int HD, int WD, float *dst) {
  size_t total = (size_t)N * HD * WD * C;
  for (size_t i = 0; i < total; ++i) dst[i] = 0.f;
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h)
      for (int w = 0; w < W; ++w) {
        const float *sp = src + (((size_t)n * H + h) * W + w) * C;
        float *dp = dst + (((size_t)n * HD + (size_t)h * sh) * WD + (size_t)w * sw) * C;
        for (int c = 0; c < C; ++c) dp[c] = sp[c];
      }
}

/* --- elementwise and copies -------------------------------------------------------------------- */

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

/* --- weight gradient of a convolution ---------------------------------------------------------- */

/*
 * accT[co][ci] += sum_{i<count} x[i*xs + ci] * dy[i*ds + co]: the outer products of `count` rows.
 * Vectors run along ci (x rows are contiguous), dy values are broadcast; tiles of 8 ci x 4 co keep
 * eight accumulators in registers while the rows stream.
 */
static void outer_acc(const float *x, int xs, const float *dy, int ds, int count, int CI, int CO, float *accT) {
  int co = 0;
  for (; co + 4 <= CO; co += 4) {
    float *a0 = accT + (size_t)co * CI, *a1 = a0 + CI, *a2 = a1 + CI, *a3 = a2 + CI;
    int ci = 0;
    for (; ci + 8 <= CI; ci += 8) {
      v128_t s00 = wasm_v128_load(a0 + ci), s01 = wasm_v128_load(a0 + ci + 4);
      v128_t s10 = wasm_v128_load(a1 + ci), s11 = wasm_v128_load(a1 + ci + 4);
      v128_t s20 = wasm_v128_load(a2 + ci), s21 = wasm_v128_load(a2 + ci + 4);
      v128_t s30 = wasm_v128_load(a3 + ci), s31 = wasm_v128_load(a3 + ci + 4);
      const float *xp = x + ci;
      const float *dp = dy + co;
      for (int i = 0; i < count; ++i, xp += xs, dp += ds) {
        v128_t x0 = wasm_v128_load(xp), x1 = wasm_v128_load(xp + 4);
        v128_t d0 = wasm_v128_load32_splat(dp), d1 = wasm_v128_load32_splat(dp + 1);
        v128_t d2 = wasm_v128_load32_splat(dp + 2), d3 = wasm_v128_load32_splat(dp + 3);
        s00 = wasm_f32x4_add(s00, wasm_f32x4_mul(x0, d0));
        s01 = wasm_f32x4_add(s01, wasm_f32x4_mul(x1, d0));
        s10 = wasm_f32x4_add(s10, wasm_f32x4_mul(x0, d1));
        s11 = wasm_f32x4_add(s11, wasm_f32x4_mul(x1, d1));
        s20 = wasm_f32x4_add(s20, wasm_f32x4_mul(x0, d2));
        s21 = wasm_f32x4_add(s21, wasm_f32x4_mul(x1, d2));
        s30 = wasm_f32x4_add(s30, wasm_f32x4_mul(x0, d3));
        s31 = wasm_f32x4_add(s31, wasm_f32x4_mul(x1, d3));
      }
      wasm_v128_store(a0 + ci, s00); wasm_v128_store(a0 + ci + 4, s01);
      wasm_v128_store(a1 + ci, s10); wasm_v128_store(a1 + ci + 4, s11);
      wasm_v128_store(a2 + ci, s20); wasm_v128_store(a2 + ci + 4, s21);
      wasm_v128_store(a3 + ci, s30); wasm_v128_store(a3 + ci + 4, s31);
    }
    for (; ci < CI; ++ci) {
      float t0 = a0[ci], t1 = a1[ci], t2 = a2[ci], t3 = a3[ci];
      const float *xp = x + ci;
      const float *dp = dy + co;
      for (int i = 0; i < count; ++i, xp += xs, dp += ds) {
        float xv = *xp;
        t0 += xv * dp[0]; t1 += xv * dp[1]; t2 += xv * dp[2]; t3 += xv * dp[3];
      }
      a0[ci] = t0; a1[ci] = t1; a2[ci] = t2; a3[ci] = t3;
    }
  }
  for (; co < CO; ++co) {
    float *a0 = accT + (size_t)co * CI;
    int ci = 0;
    for (; ci + 4 <= CI; ci += 4) {
      v128_t s = wasm_v128_load(a0 + ci);
      const float *xp = x + ci;
      const float *dp = dy + co;
      for (int i = 0; i < count; ++i, xp += xs, dp += ds) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(xp), wasm_v128_load32_splat(dp)));
      wasm_v128_store(a0 + ci, s);
    }
    for (; ci < CI; ++ci) {
      float t = a0[ci];
      const float *xp = x + ci;
      const float *dp = dy + co;
      for (int i = 0; i < count; ++i, xp += xs, dp += ds) t += *xp * *dp;
      a0[ci] = t;
    }
  }
}

/*
 * Weight gradient of a channels-last convolution, accumulated into dwT[kh][kw][co][ci] (zero it
 * first) for images [n0, n1):
 *   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sh+kh-pt, ow*sw+kw-pl, ci] * dy[n,oh,ow,co]
 * Rows whose input pixel falls in the padding contribute nothing and are skipped. Each call to the
 * micro-kernel covers one output row's run of valid columns, so its rows stay in L1.
 */
EXPORT(conv_dw)
void conv_dw(const float *x, const float *dy, int H, int W, int CI, int HO, int WO, int CO, int KH, int KW, int sh, int sw,
             int pt, int pl, int n0, int n1, float *dwT) {
  for (int kh = 0; kh < KH; ++kh)
    for (int kw = 0; kw < KW; ++kw) {
      float *acc = dwT + ((size_t)kh * KW + kw) * CO * CI;
      /* output columns ow with 0 <= ow*sw + kw - pl < W */
      int ow0 = 0;
      while (ow0 < WO && ow0 * sw + kw - pl < 0) ++ow0;
      int ow1 = WO;
      while (ow1 > ow0 && (ow1 - 1) * sw + kw - pl >= W) --ow1;
      if (ow1 <= ow0) continue;
      for (int n = n0; n < n1; ++n)
        for (int oh = 0; oh < HO; ++oh) {
          int ih = oh * sh + kh - pt;
          if (ih < 0 || ih >= H) continue;
          const float *xr = x + (((size_t)n * H + ih) * W + (ow0 * sw + kw - pl)) * CI;
          const float *dr = dy + (((size_t)n * HO + oh) * WO + ow0) * CO;
          outer_acc(xr, sw * CI, dr, CO, ow1 - ow0, CI, CO, acc);
        }
    }
}

/* --- pooling ----------------------------------------------------------------------------------- */

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

/* --- row-split reductions (each thread sums its rows into its own float64 totals) -------------- */
/* BN's batch statistics (Ioffe & Szegedy 2015, Alg. 1) take two passes, the mean and then squared
 * deviations from it, which avoids the cancellation of E[x^2] - E[x]^2. */

/* acc[c] += sum over rows of x[p][c] */
EXPORT(col_sum)
void col_sum(const float *x, int P, int C, float *tmp, double *acc) {
  for (int p0 = 0; p0 < P; p0 += BLOCK) {
    int p1 = p0 + BLOCK < P ? p0 + BLOCK : P;
    zero_f32(tmp, C);
    for (int p = p0; p < p1; ++p) {
      const float *row = x + (size_t)p * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) wasm_v128_store(tmp + c, wasm_f32x4_add(wasm_v128_load(tmp + c), wasm_v128_load(row + c)));
      for (; c < C; ++c) tmp[c] += row[c];
    }
    flush_block(tmp, acc, C);
  }
}

/* acc[c] += sum over rows of (x[p][c] - mean[c])^2 */
EXPORT(col_sqdev)
void col_sqdev(const float *x, int P, int C, const float *mean, float *tmp, double *acc) {
  for (int p0 = 0; p0 < P; p0 += BLOCK) {
    int p1 = p0 + BLOCK < P ? p0 + BLOCK : P;
    zero_f32(tmp, C);
    for (int p = p0; p < p1; ++p) {
      const float *row = x + (size_t)p * C;
      int c = 0;
      for (; c + 4 <= C; c += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(row + c), wasm_v128_load(mean + c));
        wasm_v128_store(tmp + c, wasm_f32x4_add(wasm_v128_load(tmp + c), wasm_f32x4_mul(d, d)));
      }
      for (; c < C; ++c) {
        float d = row[c] - mean[c];
        tmp[c] += d * d;
      }
    }
    flush_block(tmp, acc, C);
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
        wasm_v128_store(t2 + c, wasm_f32x4_add(wasm_v128_load(t2 + c), wasm_f32x4_mul(gv, d)));
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
