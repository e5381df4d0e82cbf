import { elementwiseMain, FLOAT_BITS_WGSL, NHW_WGSL } from "./common.js";

/**
 * The window argmax shared by maxPool and maxPoolBackward, on float bits: scanning the window
 * in row-major order, a value replaces the best so far when it is greater, or when it is NaN
 * and the best is not (first maximum wins ties; the first NaN wins). Returns x's flat index.
 * P: H, W, C, Ho, Wo, wh, ww (window), sh, sw (stride).
 */
export const WINDOW_ARGMAX_WGSL = `${FLOAT_BITS_WGSL}${NHW_WGSL}
/** a > b for non-NaN float bits (-0 == +0), without float compares (immune to flush-to-zero). */
fn greaterBits(a: u32, b: u32) -> bool {
  let ma = a & 0x7fffffffu;
  let mb = b & 0x7fffffffu;
  if (ma == 0u && mb == 0u) { return false; }
  let ka = select(a | 0x80000000u, ~a, (a >> 31u) != 0u);
  let kb = select(b | 0x80000000u, ~b, (b >> 31u) != 0u);
  return ka > kb;
}
fn windowArgmax(n: u32, i: u32, j: u32, c: u32) -> u32 {
  var best = 0u;
  var bestBits = 0u;
  for (var di = 0u; di < P.wh; di++) {
    for (var dj = 0u; dj < P.ww; dj++) {
      let at = ((n * P.H + i * P.sh + di) * P.W + j * P.sw + dj) * P.C + c;
      let v = x[at];
      let first = di == 0u && dj == 0u;
      if (first || (!isNaNBits(bestBits) && (isNaNBits(v) || greaterBits(v, bestBits)))) {
        best = at;
        bestBits = v;
      }
    }
  }
  return best;
}`;

/** maxPool: out[n,i,j,c] = x[argmax of its window] (bits copied: NaN and -0 kept). One invocation per output. */
export const maxPoolWgsl = (): string => `${WINDOW_ARGMAX_WGSL}
${elementwiseMain(`  let o = nhw(i / P.C, P.Ho, P.Wo); // (n, row, column) of output i
  out[i] = x[windowArgmax(o.x, o.y, o.z, i % P.C)];`)}`;
