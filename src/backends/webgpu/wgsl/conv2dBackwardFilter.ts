import { IM2COL_WGSL } from "./conv2d.js";
import { boundedLoaders } from "./gemm.js";

/**
 * conv2dBackwardFilter as an implicit matrix product (gemm.ts):
 *   dw[kh kw Cin, Cout] = im2col(x)^T . dy[N Ho Wo, Cout]
 * (A[m, k] = im2col(x)[k, m]: m = (ki, kj, ci), k = (n, i, j)). Float32 sums.
 */
export const conv2dBackwardFilterLoaders = (): string =>
  IM2COL_WGSL + boundedLoaders("im2col(k, m)", "dy[k * P.N + n]");
