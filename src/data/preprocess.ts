/**
 * The authors' image preprocessing (pylearn2, which their Lasagne scripts load; paper section 3):
 * - global contrast normalization, pylearn2's global_contrast_normalize(X, scale, subtract_mean=True,
 *   use_std=False, sqrt_bias=0, min_divisor=1e-8): per example, x -= mean(x); x /= sqrt(sum x^2) / scale
 *   (a divisor below 1e-8 is replaced by 1). CIFAR-10 uses scale 55, SVHN scale 1.
 * - ZCA whitening, pylearn2's ZCA(filter_bias=0.1) fit on the training set:
 *   mean = mean over examples; C = Xc^T Xc / n + filter_bias I (Xc = X - mean);
 *   C = V diag(l) V^T;  P = V diag(1 / sqrt(l)) V^T;  x' = (x - mean) P.
 * The products run on a backend when one is given (float32, as pylearn2's float32 arrays;
 * sums of the Gram matrix are accumulated in float64 per chunk of rows), else in float64 here.
 */
import type { Backend } from "../backends/backend.js";
import { NumericalError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { gcnRows, zcaRows, type GcnOptions } from "../format/preprocessSteps.js";
import { symmetricEigen } from "./eigh.js";

export type { GcnOptions } from "../format/preprocessSteps.js";

/** Global contrast normalization of the n rows of x (n x features), in place (float64 arithmetic; src/format/preprocessSteps.ts, which inference shares). */
export function globalContrastNormalize(x: Float32Array, n: number, features: number, opts: GcnOptions): void {
  gcnRows(x, n, features, opts);
}

/** A fitted ZCA transform: x' = (x - mean) P. */
export interface Zca {
  features: number;
  filterBias: number;
  mean: Float32Array;
  /** features x features, row-major (symmetric). */
  P: Float32Array;
  /** The eigenvalues of the regularized covariance (ascending), for diagnostics. */
  eigenvalues: Float64Array;
}

export interface ZcaOptions {
  /** Added to the covariance's diagonal (pylearn2's default 0.1). */
  filterBias?: number;
  /** Runs the products (Gram matrix, P, the transform) with its matmul (float32). */
  backend?: Backend;
  /** Progress: a stage name and a fraction. */
  progress?: (stage: string, fraction: number) => void;
}

const ROWS_PER_CHUNK = 2000;

/** Fits ZCA on the n rows of x (n x features). */
export async function fitZca(x: Float32Array, n: number, features: number, opts: ZcaOptions = {}): Promise<Zca> {
  const filterBias = opts.filterBias ?? 0.1;
  const mean64 = new Float64Array(features);
  for (let i = 0; i < n; i++) for (let f = 0; f < features; f++) mean64[f] += x[i * features + f];
  for (let f = 0; f < features; f++) mean64[f] /= n;
  const mean = Float32Array.from(mean64);
  const cov = opts.backend
    ? await gramOnBackend(opts.backend, x, n, features, mean, opts.progress)
    : gramHere(x, n, features, mean);
  for (let i = 0; i < features * features; i++) cov[i] /= n;
  for (let f = 0; f < features; f++) cov[f * features + f] += filterBias;
  const eig = symmetricEigen(cov, features, (done, total) => opts.progress?.("eigendecomposition", done / total));
  const scale = eig.values.map((l) => {
    if (!(l > 0))
      throw new NumericalError(
        `ZCA: eigenvalue ${l} <= 0: the covariance plus filter_bias is not positive definite`,
        "use a filter_bias > 0, and check the data for NaN",
      );
    return 1 / Math.sqrt(l);
  });
  const P = opts.backend
    ? await whiteningOnBackend(opts.backend, eig.vectors, scale, features)
    : whiteningHere(eig.vectors, scale, features);
  return { features, filterBias, mean, P, eigenvalues: Float64Array.from(eig.values).sort() };
}

/** x' = (x - mean) P for the n rows of x; a new array. */
export async function applyZca(
  zca: Zca,
  x: Float32Array,
  n: number,
  opts: Pick<ZcaOptions, "backend" | "progress"> = {},
): Promise<Float32Array> {
  const F = zca.features,
    be = opts.backend;
  if (!be) return zcaRows(x, n, F, zca.mean, zca.P); // float64 sums (src/format/preprocessSteps.ts, which inference shares)
  const out = new Float32Array(n * F),
    P = upload(be, [F, F], zca.P);
  for (let start = 0; start < n; start += ROWS_PER_CHUNK) {
    const rows = Math.min(ROWS_PER_CHUNK, n - start);
    const a = upload(be, [rows, F], centered(x, start, rows, F, zca.mean)),
      o = be.alloc([rows, F]);
    be.run("matmul", { a, b: P, out: o, transA: false, transB: false, accumulate: false });
    out.set(await be.read(o), start * F);
    be.dispose(a);
    be.dispose(o);
    opts.progress?.("whitening", (start + rows) / n);
  }
  be.dispose(P);
  return out;
}

function centered(x: Float32Array, start: number, rows: number, F: number, mean: Float32Array): Float32Array {
  const c = x.slice(start * F, (start + rows) * F);
  for (let i = 0; i < c.length; i++) c[i] -= mean[i % F];
  return c;
}

function upload(be: Backend, shape: number[], data: Float32Array): Tensor {
  const t = be.alloc(shape);
  be.upload(t, data);
  return t;
}

/** Xc^T Xc in float64, here (small problems, tests). */
function gramHere(x: Float32Array, n: number, F: number, mean: Float32Array): Float64Array {
  const g = new Float64Array(F * F),
    c = new Float64Array(F);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < F; f++) c[f] = Math.fround(x[i * F + f] - mean[f]);
    for (let a = 0; a < F; a++) {
      const va = c[a],
        row = a * F;
      for (let b = 0; b <= a; b++) g[row + b] += va * c[b];
    }
  }
  for (let a = 0; a < F; a++) for (let b = 0; b < a; b++) g[b * F + a] = g[a * F + b];
  return g;
}

/** Xc^T Xc with the backend's matmul, chunk by chunk (float32 products, float64 sum of the chunks). */
async function gramOnBackend(
  be: Backend,
  x: Float32Array,
  n: number,
  F: number,
  mean: Float32Array,
  progress?: ZcaOptions["progress"],
): Promise<Float64Array> {
  const g = new Float64Array(F * F),
    out = be.alloc([F, F]);
  for (let start = 0; start < n; start += ROWS_PER_CHUNK) {
    const rows = Math.min(ROWS_PER_CHUNK, n - start);
    const a = upload(be, [rows, F], centered(x, start, rows, F, mean));
    be.run("matmul", { a, b: a, out, transA: true, transB: false, accumulate: false });
    const part = await be.read(out);
    for (let i = 0; i < g.length; i++) g[i] += part[i];
    be.dispose(a);
    progress?.("covariance", (start + rows) / n);
  }
  be.dispose(out);
  return g;
}

/** P = V^T diag(s) V with the eigenvectors as the rows of `vectors`, in float64. */
function whiteningHere(vectors: Float64Array, s: Float64Array, F: number): Float32Array {
  const P = new Float32Array(F * F),
    acc = new Float64Array(F);
  for (let i = 0; i < F; i++) {
    acc.fill(0);
    for (let k = 0; k < F; k++) {
      const w = vectors[k * F + i] * s[k],
        row = k * F;
      for (let j = 0; j < F; j++) acc[j] += w * vectors[row + j];
    }
    P.set(acc, i * F);
  }
  return P;
}

/** The same product with the backend's matmul: P = V^T (diag(s) V). */
async function whiteningOnBackend(
  be: Backend,
  vectors: Float64Array,
  s: Float64Array,
  F: number,
): Promise<Float32Array> {
  const scaled = new Float32Array(F * F);
  for (let k = 0; k < F; k++) for (let j = 0; j < F; j++) scaled[k * F + j] = vectors[k * F + j] * s[k];
  const v = upload(be, [F, F], Float32Array.from(vectors)),
    sv = upload(be, [F, F], scaled),
    out = be.alloc([F, F]);
  be.run("matmul", { a: v, b: sv, out, transA: true, transB: false, accumulate: false });
  const P = await be.read(out);
  for (const t of [v, sv, out]) be.dispose(t);
  return P;
}
