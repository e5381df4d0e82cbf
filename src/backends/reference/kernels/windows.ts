import type { ConvDims } from "../../../kernels/convDims.js";

/**
 * Calls visit(n, i, j, p) for each position (n, i, j) of an NHWC tensor [N, H, W, C], in
 * row-major order; p = (n H + i) W + j is the position's index (its values start at p C).
 */
export function forEachPosition(
  N: number,
  H: number,
  W: number,
  visit: (n: number, i: number, j: number, p: number) => void,
): void {
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) visit(n, i, j, (n * H + i) * W + j);
    }
  }
}

/**
 * Calls visit(xAt, wAt) for each tap (ki, kj) of the window of convolution output (n, i, j),
 * in (ki, kj) order, whose input position (r, c) = (i sh - ph + ki, j sw - pw + kj) lies inside
 * the input (padding positions contribute 0, so they are skipped): xAt = ((n H + r) W + c) C
 * is where x[n,r,c,:] starts, wAt = (ki kw + kj) C Co where w[ki,kj,:,:] starts.
 */
export function forEachTap(
  d: ConvDims,
  n: number,
  i: number,
  j: number,
  visit: (xAt: number, wAt: number) => void,
): void {
  for (let ki = 0; ki < d.kh; ki++) {
    const r = i * d.sh - d.ph + ki; // input row
    if (r < 0 || r >= d.H) continue;
    for (let kj = 0; kj < d.kw; kj++) {
      const c = j * d.sw - d.pw + kj; // input column
      if (c < 0 || c >= d.W) continue;
      visit(((n * d.H + r) * d.W + c) * d.C, (ki * d.kw + kj) * d.C * d.Co);
    }
  }
}
