/* The weight gradient of a channels-last convolution (Conv2DBackpropFilter). */
#include "common.h"

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
        s00 = F32X4_MADD(x0, d0, s00);
        s01 = F32X4_MADD(x1, d0, s01);
        s10 = F32X4_MADD(x0, d1, s10);
        s11 = F32X4_MADD(x1, d1, s11);
        s20 = F32X4_MADD(x0, d2, s20);
        s21 = F32X4_MADD(x1, d2, s21);
        s30 = F32X4_MADD(x0, d3, s30);
        s31 = F32X4_MADD(x1, d3, s31);
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
      for (int i = 0; i < count; ++i, xp += xs, dp += ds) s = F32X4_MADD(wasm_v128_load(xp), wasm_v128_load32_splat(dp), s);
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
