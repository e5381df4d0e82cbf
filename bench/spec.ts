import { counterUniform, streamKey } from "../src/core/rng.js";
import { glorotLrScale } from "../src/nn/param.js";

/**
 * The benchmarked network, the same for our engine and every peer: the BinaryConnect MNIST
 * MLP (Courbariaux et al. 2015, section 3.1; the authors' mnist.py), as src/nn/mlp.ts builds
 * it, trained on one fixed batch. Per hidden layer: z = x . Wb (no bias: batch norm follows),
 * batch norm, ReLU; the output layer is Dense + batch norm. Batch norm is the "standard"
 * variant ((z - mean) / sqrt(var + eps), running variance unbiased): the one PyTorch and
 * tfjs provide natively. Wb = +H where W >= 0, else -H (deterministic binarization), with the
 * straight-through gradient dC/dW := dC/dWb. Loss: square hinge, mean over batch x classes.
 * Update: Adam (Lasagne's form, as in the kernel contract) on every parameter; W's step is
 * scaled by the Glorot factor (wLrScale) and W is then clipped to [-H, H] (paper 2.4).
 * No dropout.
 */
/** The training hyperparameters every benchmarked network shares (MLP and CNN specs). */
export interface StepHyperparams {
  readonly classes: number;
  readonly batch: number;
  /** Binary weight magnitude: Wb in {-H, +H}; W is clipped to [-H, H] after each update. */
  readonly H: number;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly adamEps: number;
  readonly bnEps: number;
  /** Running statistics: running += momentum * (batch statistic - running). */
  readonly bnMomentum: number;
}

export interface MlpSpec extends StepHyperparams {
  readonly inputs: number;
  readonly hidden: readonly number[];
}

/**
 * The hyperparameters the MLP and the CNN share: H = 1, the learning rate the benchmarks start
 * from, Adam's defaults and Lasagne's batch-norm epsilon.
 */
export const SHARED_HYPERPARAMS = {
  H: 1,
  lr: 0.003,
  beta1: 0.9,
  beta2: 0.999,
  adamEps: 1e-8,
  bnEps: 1e-4,
} as const satisfies Partial<StepHyperparams>;

export const MLP_SPEC: MlpSpec = {
  inputs: 784,
  hidden: [1024, 1024, 1024],
  classes: 10,
  batch: 200,
  ...SHARED_HYPERPARAMS,
  bnMomentum: 0.15,
};

/** [fanIn, fanOut] of each dense layer. */
export function layerShapes(spec: MlpSpec): Array<[number, number]> {
  const sizes = [spec.inputs, ...spec.hidden, spec.classes];
  return sizes.slice(1).map((out, i) => [sizes[i], out]);
}

/** The BinaryConnect learning-rate scale of W (authors' W_LR_scale, "Glorot"). */
export function wLrScale(fanIn: number, fanOut: number): number {
  return glorotLrScale(fanIn, fanOut);
}

/** Floating-point operations of one matrix product M x K x N. */
export function matmulFlops(m: number, k: number, n: number): number {
  return 2 * m * k * n;
}

/**
 * The common start: every peer that accepts it trains from the same weights on the same
 * batch, so their losses can be compared step by step.
 */
export interface InitialState {
  /** Per layer, W as [fanIn, fanOut] row-major, uniform in (-H, H) and never exactly 0. */
  readonly weights: Float32Array[];
  /** Inputs [batch, inputs], uniform in [0, 1) (like MNIST pixels scaled to [0, 1]). */
  readonly x: Float32Array;
  /** Class labels [batch] as floats (0..classes-1). */
  readonly labels: Float32Array;
  /** Hinge targets [batch, classes]: +1 for the label, -1 elsewhere. */
  readonly targets: Float32Array;
}

/** Deterministic start from `seed` (batch-norm gamma 1, beta 0, running mean 0, running variance 1). */
export function initialState(spec: MlpSpec, seed: number): InitialState {
  const uniform = (stream: number, n: number, f: (u: number) => number): Float32Array => {
    const key = streamKey(seed, stream);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f(counterUniform(key, i));
    return out;
  };
  // u = k / 2^24, so 2u - 1 + 2^-24 lies in (-1, 1), symmetric, and is never 0.
  const weights = layerShapes(spec).map(([k, n], l) => uniform(l + 1, k * n, (u) => (2 * u - 1 + 2 ** -24) * spec.H));
  const x = uniform(100, spec.batch * spec.inputs, (u) => u);
  const labels = uniform(101, spec.batch, (u) => Math.floor(u * spec.classes));
  const targets = new Float32Array(spec.batch * spec.classes).fill(-1);
  labels.forEach((label, m) => {
    targets[m * spec.classes + label] = 1;
  });
  return { weights, x, labels, targets };
}

/** Lasagne's Adam step size at (1-based) step t: lr sqrt(1 - b2^t) / (1 - b1^t). */
export function adamStepSize(spec: { lr: number; beta1: number; beta2: number }, t: number): number {
  return (spec.lr * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t);
}
