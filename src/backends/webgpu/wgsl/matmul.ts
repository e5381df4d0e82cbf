/**
 * matmul's operands for the tiled product (gemm.ts): out[M,N] = op(a) . op(b) (+ out),
 *   a: [M,K] (or [K,M] when transA), b: [K,N] (or [N,K] when transB).
 */
export function matmulLoaders(transA: boolean, transB: boolean): string {
  return `
fn loadA(m: u32, k: u32) -> f32 {
  if (m < P.M && k < P.K) { return a[${transA ? "k * P.M + m" : "m * P.K + k"}]; }
  return 0.0;
}
fn loadB(k: u32, n: u32) -> f32 {
  if (k < P.K && n < P.N) { return b[${transB ? "n * P.K + k" : "k * P.N + n"}]; }
  return 0.0;
}`;
}
