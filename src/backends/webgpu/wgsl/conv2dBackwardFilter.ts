import { IM2COL_WGSL } from "./conv2d.js";

/**
 * conv2dBackwardFilter as an implicit matrix product (gemm.ts):
 *   dw[kh kw Cin, Cout] = im2col(x)^T . dy[N Ho Wo, Cout]
 * (A[m, k] = im2col(x)[k, m]: m = (ki, kj, ci), k = (n, i, j)). Float32 sums.
 */
export const conv2dBackwardFilterLoaders = (): string => `${IM2COL_WGSL}
fn loadA(m: u32, k: u32) -> f32 {
  if (m < P.M && k < P.K) { return im2col(k, m); }
  return 0.0;
}
fn loadB(k: u32, n: u32) -> f32 {
  if (k < P.K && n < P.N) { return dy[k * P.N + n]; }
  return 0.0;
}`;
