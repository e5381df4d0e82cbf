import { OptionError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { encodeOnnx, type OnnxLayer } from "../src/export/onnx.js";
import { fanIn, fanOut, rowBytes, type BcnetConv, type BcnetLayer, type BcnetModel } from "../src/format/bcnet.js";
import { chainLayers, type LayerEntry } from "../src/format/chain.js";
import { foldBatchNorm, type BatchNormState } from "../src/format/fold.js";
import { unpackSigns } from "../src/format/pack.js";
import type { Preprocessing } from "../src/format/preprocessing.js";
import { convOutputShape, imageSize, type ImageShape } from "../src/format/shapes.js";
import { parseArchitecture, type LayerSpec } from "../src/nn/architecture.js";
import { CIFAR10_SMALL_NET } from "../src/train/presets.js";
import type { InferNetwork } from "./infer-net.js";

/** The benchmarked CNN: cifar10-small's network on 32x32x3 images. */
export const INFER_CNN_ARCHITECTURE = CIFAR10_SMALL_NET;
export const INFER_CNN_IMAGE: ImageShape = { height: 32, width: 32, channels: 3 };
/** Images of the benchmark's batch (the CNN presets' batch size). */
export const INFER_CNN_IMAGES = 50;

/** Multiply-adds of a convolution layer per image: Ho Wo Cin Cout kh kw. */
export function convMacs(l: BcnetConv): number {
  const o = convOutputShape(l.input, l.filters, l.kernel, l.stride, l.pad);
  return o.height * o.width * l.input.channels * l.filters * l.kernel[0] * l.kernel[1];
}

/** A convolution layer's label: input, filters and kernel ("32x32x3 -> 32C3"). */
export function convLabel(l: BcnetConv): string {
  return `${l.input.height}x${l.input.width}x${l.input.channels} -> ${l.filters}C${l.kernel[0]}`;
}

/**
 * The inference benchmark's CNN: cifar10-small's layers with random sign bits, an authors'
 * batch norm with random parameters and running statistics per layer, x / 255 - mean, and 50
 * random RGB images. The .bcnet model (bits, folded batch norm) and the ONNX graph (W = +-1,
 * the same batch norms) are the same network.
 */
export function inferCnnNetwork(): InferNetwork {
  const rng = new Xoshiro128(9);
  const inputs = imageSize(INFER_CNN_IMAGE);
  const heads = chainLayers(inputs, INFER_CNN_IMAGE, entriesOf(parseArchitecture(INFER_CNN_ARCHITECTURE)), (what) => {
    throw new OptionError(`bench CNN: ${what}`);
  });
  const bn: BatchNormState[] = [];
  const layers = heads.map((h): BcnetLayer => {
    if (h.kind === "maxpool") return h;
    const k = fanIn(h),
      n = fanOut(h),
      rb = rowBytes(k);
    const bits = Uint8Array.from({ length: n * rb }, () => Math.floor(rng.next() * 256));
    for (let u = 0; u < n; u++) for (let j = k; j < 8 * rb; j++) bits[u * rb + (j >> 3)] &= ~(1 << (j & 7)); // padding bits 0
    const norm: BatchNormState = {
      variant: "authors",
      eps: 1e-4,
      gamma: Float32Array.from({ length: n }, () => rng.uniform(0.5, 1.5)),
      beta: Float32Array.from({ length: n }, () => rng.uniform(-0.5, 0.5)),
      runningMean: Float32Array.from({ length: n }, () => rng.uniform(-1, 1)),
      runningScale: Float32Array.from({ length: n }, () => Math.sqrt(k) * rng.uniform(0.3, 0.6)),
    };
    bn.push(norm);
    return { ...h, bits, ...foldBatchNorm(norm, 1) };
  });
  const mean = Float32Array.from({ length: inputs }, () => rng.uniform(0.3, 0.6));
  const { height, width, channels } = INFER_CNN_IMAGE;
  const preprocessing: Preprocessing = {
    shape: [height, width, channels],
    steps: [
      { kind: "scale", factor: 1 / 255 },
      { kind: "subtractMean", mean },
    ],
  };
  const model: BcnetModel = { inputs, image: INFER_CNN_IMAGE, preprocessing, layers, info: { producer: "bench" } };
  let b = 0;
  const onnxLayers = layers.map((l): OnnxLayer => {
    if (l.kind === "maxpool") return l;
    const weights = unpackSigns(l.bits, fanIn(l), fanOut(l), 1);
    return { ...l, weights, bn: bn[b++], relu: l.activation === "relu" };
  });
  const onnx = encodeOnnx({
    name: "bench cnn",
    preprocessing,
    image: INFER_CNN_IMAGE,
    layers: onnxLayers,
    info: model.info,
  });
  return {
    model,
    onnx,
    bn,
    pixels: Uint8Array.from({ length: INFER_CNN_IMAGES * inputs }, () => Math.floor(rng.next() * 256)),
  };
}

/** The layer-table entries of parsed layers: a convolution takes the max pooling, batch norm and ReLU after it. */
function entriesOf(specs: readonly LayerSpec[]): LayerEntry[] {
  const entries: LayerEntry[] = [];
  let normalized = true; // the last conv/dense layer has its batch norm already
  for (const s of specs) {
    const last = entries[entries.length - 1];
    if (s.kind === "conv")
      entries.push({
        kind: "conv",
        filters: s.filters,
        kernel: s.kernel,
        stride: s.stride,
        pad: s.pad,
        pool: null,
        activation: "identity",
      });
    else if (s.kind === "dense") entries.push({ kind: "dense", units: s.units, activation: "identity" });
    else if (s.kind === "maxpool" && last?.kind === "conv" && !normalized && !last.pool)
      last.pool = { window: s.window, stride: s.stride };
    else if (s.kind === "maxpool") entries.push({ kind: "maxpool", window: s.window, stride: s.stride });
    else if (s.kind === "relu" && last && last.kind !== "maxpool") last.activation = "relu";
    normalized =
      s.kind === "batchnorm" || s.kind === "relu" ? true : s.kind === "conv" || s.kind === "dense" ? false : normalized;
  }
  return entries;
}
