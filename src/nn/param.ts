import type { Backend } from "../backends/backend.js";
import type { Tensor } from "../core/tensor.js";

/**
 * A trainable parameter with its gradient and Adam moments.
 * `binary` marks a BinaryConnect weight (paper section 2.4): its Adam step is multiplied by
 * `lrScale` (the Glorot learning-rate scale by default) and the result is clipped to
 * [-clip, clip] (clip = H by default; 0: no clipping).
 */
export interface Param {
  readonly name: string;
  readonly value: Tensor;
  readonly grad: Tensor;
  readonly m: Tensor;
  readonly v: Tensor;
  readonly binary: { readonly lrScale: number; readonly clip: number } | null;
}

/** A parameter of the given shape: its value, gradient and Adam moments (zero-filled). */
export function makeParam(backend: Backend, name: string, shape: number[], binary: Param["binary"]): Param {
  return {
    name,
    binary,
    value: backend.alloc(shape),
    grad: backend.alloc(shape),
    m: backend.alloc(shape),
    v: backend.alloc(shape),
  };
}

/** Frees each parameter's tensors: value, gradient and Adam moments. */
export function disposeParams(backend: Backend, params: readonly Param[]): void {
  for (const p of params) for (const t of [p.value, p.grad, p.m, p.v]) backend.dispose(t);
}

/**
 * The Glorot learning-rate scale of the authors' code: W_LR_scale = 1 / sqrt(1.5 / (fanIn + fanOut)).
 * Example: the MNIST 784->1024 layer gives 1/sqrt(1.5/1808) = 34.7.
 */
export function glorotLrScale(fanIn: number, fanOut: number): number {
  return 1 / Math.sqrt(1.5 / (fanIn + fanOut));
}

/** Bound of Glorot-uniform init (Lasagne's GlorotUniform, gain 1): sqrt(6 / (fanIn + fanOut)). */
export function glorotUniformBound(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

/** The Adam treatment of a binarized layer's weights from its options (null for real weights). */
export function binaryUpdate(
  opts: { binarization: string; H: number; clip?: boolean; lrScale?: "glorot" | number },
  fanIn: number,
  fanOut: number,
): Param["binary"] {
  if (opts.binarization === "none") return null;
  const lrScale = opts.lrScale === undefined || opts.lrScale === "glorot" ? glorotLrScale(fanIn, fanOut) : opts.lrScale;
  return { lrScale, clip: opts.clip === false ? 0 : opts.H };
}
