import { elementwiseMain } from "./common.js";
import { WINDOW_ARGMAX_WGSL } from "./maxPool.js";

/**
 * maxPoolBackward, gathering per input position p = (n, r, c, ch) instead of scattering: the
 * windows (i, j) that cover p, in row-major order, add their dy when their argmax is p.
 * That is the reference's order of float32 additions into dx[p], so the result is exact.
 */
export const maxPoolBackwardWgsl = (): string => `${WINDOW_ARGMAX_WGSL}
${elementwiseMain(`  let ch = i % P.C;
  let p = nhw(i / P.C, P.H, P.W);
  let n = p.x;
  let r = p.y;
  let c = p.z;
  // windows i with i sh <= r <= i sh + wh - 1, inside [0, Ho)
  let iLo = select(0u, (r + 1u - P.wh + P.sh - 1u) / P.sh, r + 1u >= P.wh);
  let iHi = min(r / P.sh, P.Ho - 1u);
  let jLo = select(0u, (c + 1u - P.ww + P.sw - 1u) / P.sw, c + 1u >= P.ww);
  let jHi = min(c / P.sw, P.Wo - 1u);
  var acc = 0.0;
  for (var wi = iLo; wi <= iHi; wi++) {
    for (var wj = jLo; wj <= jHi; wj++) {
      if (windowArgmax(n, wi, wj, ch) == i) { acc += dy[((n * P.Ho + wi) * P.Wo + wj) * P.C + ch]; }
    }
  }
  dx[i] = acc;`)}`;
