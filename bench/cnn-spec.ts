import type { Backend } from "../src/backends/backend.js";
import { counterUniform, streamKey } from "../src/core/rng.js";
import { layerOutputShape, parseArchitecture } from "../src/nn/architecture.js";
import { Network } from "../src/nn/network.js";
import { glorotLrScale } from "../src/nn/param.js";
import { CIFAR10_PAPER_NET, CIFAR10_SMALL_NET, SVHN_SMALL_NET } from "../src/train/presets.js";
import { SHARED_HYPERPARAMS, type StepHyperparams } from "./spec.js";

/**
 * The benchmarked CNN, the same for our engine and the tfjs peer: the paper's CIFAR-10 network
 * (section 3; src/train/presets.ts) on 32x32x3 images, trained on a fixed batch. Every conv and
 * dense layer has binary weights (deterministic: Wb = +H where W >= 0, straight-through
 * gradient) and no bias; max pooling before batch norm + ReLU; the output layer dense + batch
 * norm. Batch norm is the "standard" variant (the one tfjs provides natively), square hinge
 * loss, Adam (Lasagne's form) with the Glorot scale and clip on W (conv fans k k Cin, k k Cout).
 */
/** `batch` is our engine's batch (the paper's). */
export interface CnnSpec extends StepHyperparams {
  readonly architecture: string;
  readonly input: readonly [number, number, number];
}

export const CNN_SPEC: CnnSpec = {
  architecture: CIFAR10_PAPER_NET,
  input: [32, 32, 3],
  classes: 10,
  batch: 50,
  ...SHARED_HYPERPARAMS,
  bnMomentum: 0.1,
};

/** A weight layer of the network: conv (k x k) or dense, with its input and output sizes. */
export interface WeightLayer {
  kind: "conv" | "dense";
  /** conv: [k, k, Cin, Cout]; dense: [in, out]. */
  shape: number[];
  /** conv: the output's spatial size (H x W); dense: 1. */
  positions: number;
  /** Glorot learning-rate scale of W. */
  lrScale: number;
}

/** The weight layers in order, with the output positions each conv computes. */
export function weightLayers(spec: CnnSpec): WeightLayer[] {
  const out: WeightLayer[] = [];
  let dims: number[] = [...spec.input];
  for (const l of parseArchitecture(spec.architecture)) {
    const next = layerOutputShape(l, dims);
    if (l.kind === "conv") {
      const [kh, kw] = l.kernel,
        c = dims[2];
      out.push({
        kind: "conv",
        shape: [kh, kw, c, l.filters],
        positions: next[0] * next[1],
        lrScale: glorotLrScale(kh * kw * c, kh * kw * l.filters),
      });
    } else if (l.kind === "dense") {
      const features = dims[0];
      out.push({ kind: "dense", shape: [features, l.units], positions: 1, lrScale: glorotLrScale(features, l.units) });
    }
    dims = next;
  }
  return out;
}

/** Useful FLOPs of one training step on `batch` images: 2 x MACs for the forward pass, dX and dW (no dX for the first layer). */
export function cnnStepFlops(spec: CnnSpec, batch: number): number {
  return weightLayers(spec).reduce((s, l, i) => {
    const macs = batch * l.positions * l.shape.reduce((a, b) => a * b, 1);
    return s + (i === 0 ? 2 : 3) * 2 * macs;
  }, 0);
}

/** The shared start: weights uniform in (-H, H) (never 0), images uniform in [-1, 1), labels. */
export interface CnnInitialState {
  readonly weights: Float32Array[];
  readonly x: Float32Array;
  readonly labels: Float32Array;
  readonly targets: Float32Array;
  readonly batch: number;
}

export function cnnInitialState(spec: CnnSpec, batch: number, seed: number): CnnInitialState {
  const uniform = (stream: number, n: number, f: (u: number) => number): Float32Array => {
    const key = streamKey(seed, stream);
    return Float32Array.from({ length: n }, (_, i) => f(counterUniform(key, i)));
  };
  const weights = weightLayers(spec).map((l, i) =>
    uniform(
      i + 1,
      l.shape.reduce((a, b) => a * b, 1),
      (u) => (2 * u - 1 + 2 ** -24) * spec.H,
    ),
  );
  const [h, w, c] = spec.input;
  const x = uniform(100, batch * h * w * c, (u) => 2 * u - 1);
  const labels = uniform(101, batch, (u) => Math.floor(u * spec.classes));
  const targets = new Float32Array(batch * spec.classes).fill(-1);
  labels.forEach((label, m) => {
    targets[m * spec.classes + label] = 1;
  });
  return { weights, x, labels, targets, batch };
}

/** Our engine's network of the benchmarked CNN on `backend` (binary det, standard batch norm), its weights set to the shared start's. */
export function createCnnNetwork(backend: Backend, spec: CnnSpec, init: CnnInitialState): Network {
  const net = Network.create(
    backend,
    {
      input: [...spec.input],
      layers: parseArchitecture(spec.architecture),
      binarization: "det",
      H: spec.H,
      batchNorm: { variant: "standard", eps: spec.bnEps, momentum: spec.bnMomentum },
      adam: { beta1: spec.beta1, beta2: spec.beta2, eps: spec.adamEps },
    },
    1,
  );
  for (const [i, l] of net.weighted.entries()) backend.upload(l.W.value, init.weights[i]);
  return net;
}

/**
 * [network, H = W, Cin, Cout] of a network's 3x3, pad 1 layers after the first (whose 27 inputs
 * stay float), at most `count` of them (the architectures of src/train/presets.ts).
 */
function convLayers(network: string, architecture: string, count = Infinity): [string, number, number, number][] {
  return weightLayers({ ...CNN_SPEC, architecture })
    .filter((l) => l.kind === "conv")
    .slice(1, 1 + count)
    .map((l) => [network, Math.sqrt(l.positions), l.shape[2], l.shape[3]]);
}

/** The 3x3, pad 1 layers after the first of svhn-small (its first two), cifar10-small and the paper network, for the per-layer benches. */
export const CONV_BENCH_LAYERS = [
  ...convLayers("svhn-small", SVHN_SMALL_NET, 2),
  ...convLayers("small", CIFAR10_SMALL_NET),
  ...convLayers("paper", CIFAR10_PAPER_NET),
];
