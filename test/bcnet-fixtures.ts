import { ShapeError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { fanIn, fanOut, rowBytes, type BcnetLayer, type BcnetModel, type ImageShape } from "../src/format/bcnet.js";
import { chainLayers, type LayerEntry } from "../src/format/chain.js";
import { unknownStep, type PreprocessKind, type PreprocessStep } from "../src/format/preprocessing.js";
import { imageSize } from "../src/format/shapes.js";

/**
 * A random .bcnet model with the given layer sizes ([inputs, ...units]): random sign bits
 * (padding bits 0), scales in [0.5, 1.5) / fan-in, shifts in [-0.5, 0.5), ReLU on hidden
 * layers, preprocessing 1/255 and a random mean in [0, 0.5).
 */
export function randomModel(sizes: number[], seed = 1): BcnetModel {
  const entries = sizes
    .slice(1)
    .map((units, i): LayerEntry => ({ kind: "dense", units, activation: i < sizes.length - 2 ? "relu" : "identity" }));
  return randomNetwork(sizes[0], undefined, entries, seed);
}

/**
 * A random model of any layers on an image (e.g. conv 3x3 pad 1 with 2x2 pooling, then dense):
 * arrays as randomModel's. `entries` as the layer table holds them; shapes follow from `image`.
 */
export function randomImageModel(image: ImageShape, entries: LayerEntry[], seed = 1): BcnetModel {
  return randomNetwork(imageSize(image), image, entries, seed);
}

/** The conv layer entry of the paper's "nC3" (3x3, stride 1, pad 1), optionally with 2x2 max pooling before the batch norm. */
export function c3(filters: number, pool = false): Extract<LayerEntry, { kind: "conv" }> {
  return {
    kind: "conv",
    filters,
    kernel: [3, 3],
    stride: [1, 1],
    pad: [1, 1],
    pool: pool ? { window: [2, 2], stride: [2, 2] } : null,
    activation: "relu",
  };
}

function randomNetwork(inputs: number, image: ImageShape | undefined, entries: LayerEntry[], seed: number): BcnetModel {
  const rng = new Xoshiro128(seed);
  const heads = chainLayers(inputs, image, entries, (what) => {
    throw new ShapeError(`fixture: ${what}`);
  });
  const layers = heads.map((h): BcnetLayer => {
    if (h.kind === "maxpool") return h;
    const k = fanIn(h),
      n = fanOut(h),
      rb = rowBytes(k);
    const bits = new Uint8Array(n * rb);
    for (let u = 0; u < n; u++)
      for (let j = 0; j < k; j++) if (rng.next() < 0.5) bits[u * rb + (j >> 3)] |= 1 << (j & 7);
    return {
      ...h,
      bits,
      scale: Float32Array.from({ length: n }, () => rng.uniform(0.5, 1.5) / Math.sqrt(k)),
      shift: Float32Array.from({ length: n }, () => rng.uniform(-0.5, 0.5)),
    };
  });
  const model: BcnetModel = {
    inputs,
    preprocessing: {
      shape: image ? [image.height, image.width, image.channels] : [inputs],
      steps: [
        { kind: "scale", factor: Math.fround(1 / 255) },
        { kind: "subtractMean", mean: Float32Array.from({ length: inputs }, () => rng.uniform(0, 0.5)) },
      ],
    },
    layers,
    info: { producer: "test", seed },
  };
  return image ? { ...model, image } : model;
}

/** `count` rows of random raw inputs 0..255 (integers, like pixels). */
export function randomPixels(count: number, inputs: number, seed = 2): Uint8Array {
  const rng = new Xoshiro128(seed);
  return Uint8Array.from({ length: count * inputs }, () => Math.floor(rng.next() * 256));
}

/**
 * The model with its preprocessing replaced by steps of the given kinds: scale 1/255, random
 * means in [0, 0.5), GCN with the authors' CIFAR-10 scale (55) and a sqrtBias of 10, a random
 * P in [-1, 1) / sqrt(inputs) for ZCA, a 5x5 LCN with sigma 1.5.
 */
export function withSteps(model: BcnetModel, kinds: readonly PreprocessKind[], seed = 3): BcnetModel {
  const rng = new Xoshiro128(seed),
    F = model.inputs;
  const floats = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
  const steps = kinds.map((kind): PreprocessStep => {
    switch (kind) {
      case "scale":
        return { kind, factor: 1 / 255 };
      case "subtractMean":
        return { kind, mean: floats(F, 0, 0.5) };
      case "gcn":
        return { kind, scale: 55, sqrtBias: 10, minDivisor: 1e-8, useStd: false };
      case "zca":
        return { kind, mean: floats(F, -0.1, 0.1), P: floats(F * F, -1 / Math.sqrt(F), 1 / Math.sqrt(F)) };
      case "lcn":
        return { kind, kernel: 5, sigma: 1.5, threshold: 1e-4 };
      default:
        return unknownStep(kind);
    }
  });
  return { ...model, preprocessing: { shape: model.preprocessing.shape, steps } };
}
