import { ShapeError } from "../core/errors.js";

/** A batch norm at test time: its parameters and running statistics (per unit). */
export interface BatchNormState {
  /** "authors": running std, eps added to it; "standard": running variance, eps inside the sqrt. */
  variant: "authors" | "standard";
  eps: number;
  gamma: ArrayLike<number>;
  beta: ArrayLike<number>;
  runningMean: ArrayLike<number>;
  /** The running std (authors) or variance (standard). */
  runningScale: ArrayLike<number>;
}

/**
 * Folds the weight magnitude H and a test-time batch norm into a per-unit scale and shift
 * (docs: "Deployment facts"). With s = x . sign(W) (so z = x . Wb = H s; no bias before BN):
 *   BN(z) = (z - mean) * r * gamma + beta,  r = 1/(std + eps) (authors) or 1/sqrt(var + eps)
 *         = a' z + b  with  a' = gamma r,  b = beta - a' mean
 *         = a s + b   with  a = H a'.
 * Computed in float64, rounded once to float32.
 */
export function foldBatchNorm(bn: BatchNormState, H: number): { scale: Float32Array; shift: Float32Array } {
  const n = bn.gamma.length;
  for (const [name, a] of [
    ["beta", bn.beta],
    ["runningMean", bn.runningMean],
    ["runningScale", bn.runningScale],
  ] as const) {
    if (a.length !== n) throw new ShapeError(`foldBatchNorm: ${name} has ${a.length} values, gamma ${n}`);
  }
  const scale = new Float32Array(n),
    shift = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    const r = bn.variant === "authors" ? 1 / (bn.runningScale[c] + bn.eps) : 1 / Math.sqrt(bn.runningScale[c] + bn.eps);
    const a = bn.gamma[c] * r;
    scale[c] = H * a;
    shift[c] = bn.beta[c] - a * bn.runningMean[c];
  }
  return { scale, shift };
}
