/**
 * LeCun local contrast normalization (Jarrett et al. 2009), as pylearn2's lecun_lcn, which the
 * authors' SVHN preprocessing applies after GCN: per image and channel, with a 7x7 Gaussian
 * filter g (sigma 2, normalized to sum 1) and zero padding at the borders,
 *   mean = g * x;  denom = sqrt(g * x^2);  divisor = max(mean over the image of denom, denom, threshold)
 *   x' = (x - mean) / divisor
 * Note: pylearn2 convolves x^2, not the centred (x - mean)^2 of the paper, and so does this.
 * (pylearn2's LeCunLCN.transform also returns after its first channel - a bug; all channels are
 * normalized here, which is what its documentation describes.)
 */

export interface LcnOptions {
  kernel?: number;
  sigma?: number;
  threshold?: number;
}

/** The normalized 1-D Gaussian; the 2-D filter is its outer product with itself. */
function gaussian1d(k: number, sigma: number): Float64Array {
  const mid = Math.floor(k / 2), g = new Float64Array(k);
  for (let i = 0; i < k; i++) g[i] = Math.exp(-((i - mid) ** 2) / (2 * sigma * sigma));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
}

/** Zero-padded "same" separable convolution of one H x W plane with g (outer) g. */
function blur(src: Float64Array, H: number, W: number, g: Float64Array, tmp: Float64Array, out: Float64Array): void {
  const r = (g.length - 1) / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let t = -r; t <= r; t++) if (x + t >= 0 && x + t < W) s += g[t + r] * src[y * W + x + t];
      tmp[y * W + x] = s;
    }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let t = -r; t <= r; t++) if (y + t >= 0 && y + t < H) s += g[t + r] * tmp[(y + t) * W + x];
      out[y * W + x] = s;
    }
  }
}

/** LCN of one NHWC image (H x W x C floats) at `offset` of `x`, in place. */
export function localContrastNormalize(x: Float32Array, offset: number, H: number, W: number, C: number, opts: LcnOptions = {}): void {
  const { kernel = 7, sigma = 2, threshold = 1e-4 } = opts;
  const g = gaussian1d(kernel, sigma);
  const plane = new Float64Array(H * W), sq = new Float64Array(H * W), tmp = new Float64Array(H * W);
  const mean = new Float64Array(H * W), denom = new Float64Array(H * W);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < H * W; p++) {
      plane[p] = x[offset + p * C + c];
      sq[p] = plane[p] * plane[p];
    }
    blur(plane, H, W, g, tmp, mean);
    blur(sq, H, W, g, tmp, denom);
    let avg = 0;
    for (let p = 0; p < H * W; p++) avg += (denom[p] = Math.sqrt(denom[p]));
    avg /= H * W;
    for (let p = 0; p < H * W; p++) x[offset + p * C + c] = (plane[p] - mean[p]) / Math.max(avg, denom[p], threshold);
  }
}
