/**
 * The arithmetic of the preprocessing steps (preprocessing.ts), per example, in plain
 * TypeScript without Node APIs: the inference engine (src/infer, browsers too) applies a
 * model's steps with it, and training's src/data (preprocess.ts, lcn.ts, preprocessing.ts)
 * calls the same functions, so a deployed model prepares an input exactly as training did.
 * Examples are float32 rows; sums and divisions run in float64 and are rounded once per value.
 * - gcn (pylearn2's global_contrast_normalize, subtract_mean=True): per example,
 *   x -= mean(x); x /= sqrt(sqrtBias + sum x^2 (useStd: the variance, ddof 1)) / scale,
 *   a divisor below minDivisor replaced by 1;
 * - zca: x' = (x - mean) P (P features x features, row-major), sums in float64;
 * - lcn (pylearn2's lecun_lcn; Jarrett et al. 2009): per image and channel, with a k x k
 *   Gaussian g (the outer product of the normalized 1-D Gaussian with itself) and zero padding,
 *   mean = g * x; denom = sqrt(g * x^2); divisor = max(mean over the image of denom, denom, threshold);
 *   x' = (x - mean) / divisor.
 */
import { ShapeError } from "../core/errors.js";
import { shapeSize, type PreprocessStep, type Preprocessing } from "./preprocessing.js";

export interface GcnOptions {
  scale: number;
  /** Normalize by the standard deviation (ddof 1) instead of the vector norm (pylearn2 default: false). */
  useStd?: boolean;
  sqrtBias?: number;
  minDivisor?: number;
}

/** Global contrast normalization of the n rows of x (n x features), in place (float64 arithmetic). */
export function gcnRows(x: Float32Array, n: number, features: number, opts: GcnOptions): void {
  const { scale, useStd = false, sqrtBias = 0, minDivisor = 1e-8 } = opts;
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * features, (i + 1) * features);
    let sum = 0;
    for (let f = 0; f < features; f++) sum += row[f];
    const mean = sum / features;
    let sq = 0;
    for (let f = 0; f < features; f++) sq += (row[f] - mean) ** 2;
    const ddof = features > 1 ? 1 : 0;
    let divisor = Math.sqrt(sqrtBias + (useStd ? sq / (features - ddof) : sq)) / scale;
    if (divisor < minDivisor) divisor = 1;
    for (let f = 0; f < features; f++) row[f] = (row[f] - mean) / divisor;
  }
}

/**
 * x' = (x - mean) P for the n rows of x (n x features); a new array. Per output j the sum
 * over f runs in ascending f in float64 (c[f] = x[f] - mean[f] in float64), rounded once.
 */
export function zcaRows(
  x: Float32Array,
  n: number,
  features: number,
  mean: Float32Array,
  P: Float32Array,
): Float32Array {
  const F = features,
    out = new Float32Array(n * F);
  const c = new Float64Array(F),
    acc = new Float64Array(F);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) c[f] = x[i * F + f] - mean[f];
    acc.fill(0);
    for (let f = 0; f < F; f++) {
      // row f of P, added to every output: the same order of sums as column by column
      const cf = c[f],
        row = f * F;
      for (let j = 0; j < F; j++) acc[j] += cf * P[row + j];
    }
    out.set(acc, i * F);
  }
  return out;
}

export interface LcnOptions {
  kernel?: number;
  sigma?: number;
  threshold?: number;
}

/** The normalized 1-D Gaussian of `k` taps (k odd); the 2-D filter is its outer product with itself. */
export function gaussian1d(k: number, sigma: number): Float64Array {
  const mid = Math.floor(k / 2),
    g = new Float64Array(k);
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
export function lcnImage(
  x: Float32Array,
  offset: number,
  H: number,
  W: number,
  C: number,
  opts: LcnOptions = {},
): void {
  const { kernel = 7, sigma = 2, threshold = 1e-4 } = opts;
  const g = gaussian1d(kernel, sigma);
  const plane = new Float64Array(H * W),
    sq = new Float64Array(H * W),
    tmp = new Float64Array(H * W);
  const mean = new Float64Array(H * W),
    denom = new Float64Array(H * W);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < H * W; p++) {
      plane[p] = x[offset + p * C + c];
      sq[p] = plane[p] * plane[p];
    }
    blur(plane, H, W, g, tmp, mean);
    blur(sq, H, W, g, tmp, denom);
    let avg = 0;
    for (let p = 0; p < H * W; p++) avg += denom[p] = Math.sqrt(denom[p]);
    avg /= H * W;
    for (let p = 0; p < H * W; p++) x[offset + p * C + c] = (plane[p] - mean[p]) / Math.max(avg, denom[p], threshold);
  }
}

/**
 * One step over the n examples of x (each of `shape`, row-major), in place where it can (zca
 * gives a new array): the result. x * factor and x - mean are float32 operations, rounded per value.
 */
export function applyStepRows(
  step: PreprocessStep,
  x: Float32Array,
  n: number,
  shape: readonly number[],
): Float32Array {
  const features = shapeSize(shape);
  switch (step.kind) {
    case "scale":
      for (let i = 0; i < n * features; i++) x[i] *= step.factor;
      return x;
    case "subtractMean":
      for (let i = 0; i < n; i++) for (let k = 0; k < features; k++) x[i * features + k] -= step.mean[k];
      return x;
    case "gcn":
      gcnRows(x, n, features, step);
      return x;
    case "zca":
      return zcaRows(x, n, features, step.mean, step.P);
    case "lcn": {
      if (shape.length !== 3) throw new ShapeError(`preprocessing: lcn needs images [H, W, C], found shape [${shape}]`);
      const [H, W, C] = shape;
      for (let i = 0; i < n; i++) lcnImage(x, i * features, H, W, C, step);
      return x;
    }
  }
}

/**
 * Examples [start, start + n) of `x` (each of `p.shape` values) through every step: a new
 * float32 array (the input is not changed). The same arithmetic as src/data/preprocessing.ts's
 * applyPreprocessing on float32 input.
 */
export function preprocessRows(p: Preprocessing, x: ArrayLike<number>, n: number, start = 0): Float32Array {
  const features = shapeSize(p.shape);
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(start) || start < 0 || x.length < (start + n) * features) {
    throw new ShapeError(
      `preprocessing: examples ${start}..${start + n - 1} of shape [${p.shape}] need ${(start + n) * features} values, found ${x.length}`,
    );
  }
  let out: Float32Array = new Float32Array(n * features);
  const from = start * features;
  if (ArrayBuffer.isView(x) && !(x instanceof DataView))
    out.set((x as unknown as Float32Array).subarray(from, from + n * features));
  else for (let i = 0; i < out.length; i++) out[i] = x[from + i];
  for (const step of p.steps) out = applyStepRows(step, out, n, p.shape);
  return out;
}
