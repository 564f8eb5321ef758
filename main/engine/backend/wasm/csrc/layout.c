/* Layout changes the convolution gradients need: axis permutations, the rotated filter, dilation. */
#include "common.h"

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
