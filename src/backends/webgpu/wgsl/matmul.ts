import { boundedLoaders } from "./gemm.js";

/**
 * matmul's operands for the tiled product (gemm.ts): out[M,N] = op(a) . op(b) (+ out),
 *   a: [M,K] (or [K,M] when transA), b: [K,N] (or [N,K] when transB).
 */
export function matmulLoaders(transA: boolean, transB: boolean): string {
  return boundedLoaders(`a[${transA ? "k * P.M + m" : "m * P.K + k"}]`, `b[${transB ? "n * P.K + k" : "k * P.N + n"}]`);
}
