/**
 * The functions this project's kernel modules export (csrc/*.c, built by csrc/build.sh). Every
 * pointer is a byte offset into tfjs-backend-wasm's heap; every count is an i32.
 */
export interface KernelExports {
  channel_affine(x: number, P: number, C: number, scale: number, shift: number, y: number): void;
  channel_affine_relu(x: number, P: number, C: number, xs: number, scale: number, shift: number, y: number): void;
  bn_grad_dx(dy: number, x: number, P: number, C: number, a: number, b: number, k: number, dx: number): void;
  bn_grad_dx_relu(dy: number, r: number, x: number, P: number, C: number, xs: number, a: number, b: number, k: number, dx: number, acc: number): void;
  col_grad_sums_relu(dy: number, r: number, x: number, P: number, C: number, xs: number, mean: number, tmp: number, acc: number): void;
  relu_grad(dy: number, x: number, n: number, dx: number): void;
  permute_210(src: number, A: number, B: number, C: number, dst: number): void;
  permute_102(src: number, A: number, B: number, C: number, dst: number): void;
  rot180_swap(w: number, KH: number, KW: number, CI: number, CO: number, dst: number): void;
  dilate(src: number, N: number, H: number, W: number, C: number, sh: number, sw: number, HD: number, WD: number, dst: number): void;
  relu(x: number, n: number, y: number): void;
  add_into(dst: number, src: number, n: number): void;
  col_sum(x: number, P: number, C: number, xs: number, tmp: number, acc: number): void;
  col_sqdev(x: number, P: number, C: number, xs: number, mean: number, tmp: number, acc: number): void;
  col_grad_sums(dy: number, x: number, P: number, C: number, mean: number, tmp: number, acc: number): void;
  avg_pool_grad(dy: number, N: number, H: number, W: number, C: number, k: number, HO: number, WO: number, dx: number): void;
  conv_dw(x: number, dy: number, H: number, W: number, CI: number, HO: number, WO: number, CO: number, KH: number, KW: number, sh: number, sw: number, pt: number, pl: number, n0: number, n1: number, dwT: number): void;
  copy_cols(src: number, rows: number, srcCols: number, srcOff: number, n: number, dst: number, dstCols: number, dstOff: number): void;
  max_pool_grad(x: number, dy: number, H: number, W: number, C: number, HO: number, WO: number, KH: number, KW: number, SH: number, SW: number, PT: number, PL: number, n0: number, n1: number, dx: number): void;
  slice4d(src: number, H: number, W: number, C: number, b0: number, b1: number, b2: number, b3: number, h1: number, w1: number, c1: number, i0: number, i1: number, dst: number): void;
}

export type KernelName = keyof KernelExports;

/** Calls export `name` with plain numbers (the generic form the pool and splitter need). */
export function callKernel(k: KernelExports, name: KernelName, args: readonly unknown[]): void {
  (k[name] as (...a: number[]) => void)(...(args as number[]));
}
