import { NHW_WGSL } from "./common.js";

/**
 * conv2dBackwardInput as an implicit matrix product (gemm.ts), gathering per input position:
 *   dx[N H W, Cin] = A . B,  A[m, k] = dy[n, (r + ph - ki)/sh, (c + pw - kj)/sw, co] when both
 *   quotients are exact and inside [0, Ho) x [0, Wo) (else 0), B[k, ci] = w[ki, kj, ci, co],
 *   m = (n, r, c), k = (ki, kj, co) row-major. Float32 sums (the reference: float64).
 */
export const conv2dBackwardInputLoaders = (): string => `${NHW_WGSL}
fn loadA(m: u32, k: u32) -> f32 {
  if (m >= P.M || k >= P.K) { return 0.0; }
  let o = nhw(m, P.H, P.W); // (n, r, c)
  let tap = k / P.Co;
  let co = k % P.Co;
  let ti = i32(o.y + P.ph) - i32(tap / P.kw);
  let tj = i32(o.z + P.pw) - i32(tap % P.kw);
  if (ti < 0 || tj < 0) { return 0.0; }
  let i = u32(ti) / P.sh;
  let j = u32(tj) / P.sw;
  if (i * P.sh != u32(ti) || j * P.sw != u32(tj) || i >= P.Ho || j >= P.Wo) { return 0.0; }
  return dy[((o.x * P.Ho + i) * P.Wo + j) * P.Co + co];
}
fn loadB(k: u32, n: u32) -> f32 {
  if (k >= P.K || n >= P.N) { return 0.0; }
  let tap = k / P.Co;
  return w[(tap * P.C + n) * P.Co + k % P.Co];
}`;
