import { NHW_WGSL } from "./common.js";
import { boundedLoaders } from "./gemm.js";

/**
 * conv2d as an implicit matrix product (gemm.ts): out[N Ho Wo, Cout] = im2col(x) . w, with
 * im2col(x)[m, k] = x[n, i sh - ph + ki, j sw - pw + kj, ci] (0 in the padding) read on the
 * fly, m = (n, i, j) and k = (ki, kj, ci) row-major; w [kh, kw, Cin, Cout] is already [K, Cout].
 * Sums in float32 (the reference: float64).
 */
export const CONV_GEOMETRY = [
  ["H", "u32"],
  ["W", "u32"],
  ["C", "u32"],
  ["kh", "u32"],
  ["kw", "u32"],
  ["Co", "u32"],
  ["Ho", "u32"],
  ["Wo", "u32"],
  ["sh", "u32"],
  ["sw", "u32"],
  ["ph", "u32"],
  ["pw", "u32"],
] as const;

/** x at output position p = (n, i, j) and tap t = (ki, kj, ci) of the filter: 0 in the padding. */
export const IM2COL_WGSL = `${NHW_WGSL}
fn im2col(p: u32, t: u32) -> f32 {
  let o = nhw(p, P.Ho, P.Wo); // (n, i, j)
  let tap = t / P.C;
  let ci = t % P.C;
  let r = i32(o.y * P.sh + tap / P.kw) - i32(P.ph);
  let c = i32(o.z * P.sw + tap % P.kw) - i32(P.pw);
  if (r < 0 || r >= i32(P.H) || c < 0 || c >= i32(P.W)) { return 0.0; }
  return x[((o.x * P.H + u32(r)) * P.W + u32(c)) * P.C + ci];
}`;

export const conv2dLoaders = (): string => IM2COL_WGSL + boundedLoaders("im2col(m, k)", "w[k * P.N + n]");
