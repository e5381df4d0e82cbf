/**
 * The .bcnet model file: a trained BinaryConnect network for inference (docs/FORMAT.md).
 * Pure TypeScript, no Node API: the inference engine (src/infer, browsers too) reads it.
 *
 * The network: inputs x (raw values, e.g. pixels 0..255) are preprocessed (preprocessing.ts:
 * the steps scale, subtractMean, gcn, zca and lcn, in the model's order; versions 1 and 2 hold
 * x'[k] = x[k] * inputScale - mean[k] only), then each layer runs in order. A binary dense layer, per unit n, with w[k][n] in {-1, +1}:
 *   s[n] = sum_k w[k][n] x'[k]              (adds and subtracts only)
 *   y[n] = act(scale[n] * s[n] + shift[n])  act = ReLU (hidden layers) or identity (the last)
 * A binary convolution (NHWC images; version 2) is the same product over each output
 * position's patch, optionally max-pooled before the scale and shift (the paper's
 * conv -> pool -> BN -> ReLU):
 *   s[i,j,f] = sum_{ki,kj,c} w[ki,kj,c][f] x[i sh - ph + ki, j sw - pw + kj, c]   (0 in the padding)
 *   y[i,j,f] = act(scale[f] * max_{window}(s)[i,j,f] + shift[f])
 * A max-pool layer takes the maximum of each window. scale and shift fold H, the layer and its
 * batch norm (fold.ts); the last layer (dense) gives the class scores (argmax = the class).
 */
import { isScaleThenMean, preprocessingFloats, PREPROCESS_ENTRY_BYTES, type Preprocessing } from "./preprocessing.js";
import { convOutputShape, poolOutputShape, type ImageShape, type Pair } from "./shapes.js";

export type { ImageShape, Pair } from "./shapes.js";
export type { PreprocessStep, Preprocessing } from "./preprocessing.js";

/** "\x89BCNET\r\n": a non-ASCII first byte and CR LF catch text-mode transfers (as PNG's magic). */
export const BCNET_MAGIC = Uint8Array.of(0x89, 0x42, 0x43, 0x4e, 0x45, 0x54, 0x0d, 0x0a);
/** The newest format version this code reads and writes (it reads every version in BCNET_VERSIONS). */
export const BCNET_VERSION = 3;
/**
 * The versions this code reads: 1 (dense layers on a feature vector), 2 (+ images, convolutions,
 * max pooling), 3 (+ any preprocessing: a table of steps and their arrays).
 */
export const BCNET_VERSIONS: readonly number[] = [1, 2, 3];
export type BcnetVersion = 1 | 2 | 3;
/** Bytes of the fixed header. */
export const HEADER_BYTES = 48;
/** Bytes of one entry of the layer table, per version. */
export const LAYER_ENTRY_BYTES: Record<BcnetVersion, number> = { 1: 16, 2: 32, 3: 32 };
/** Every section starts at a multiple of this (typed-array views, SIMD loads). */
export const SECTION_ALIGN = 16;

/** Layer kinds of the layer table (version 1 knows the first only). */
export const LAYER_KIND_BINARY_DENSE = 1;
export const LAYER_KIND_BINARY_CONV = 2;
export const LAYER_KIND_MAX_POOL = 3;
export const ACTIVATIONS = ["identity", "relu"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Limits the loader enforces before allocating anything (a corrupt header cannot ask for 4 GiB):
 * layers, units (and inputs, filters, values per image side), info bytes, kernel / window /
 * stride sides (an LCN kernel: below it), the values of any layer's output for one example,
 * preprocessing steps, and the inputs a ZCA whitening takes (its P is that squared).
 * The work per example (cost.ts, docs/FORMAT.md "Compute bounds"): any model may do `freeWork`
 * operations; above that at most `workPerWeight` per weight the file holds, and never more than
 * `work` (the loader's allowLargeCompute lifts these three).
 */
export const LIMITS = {
  layers: 64,
  units: 1 << 20,
  infoBytes: 1 << 16,
  window: 32,
  activations: 1 << 24,
  steps: 16,
  zcaFeatures: 1 << 13,
  freeWork: 2 ** 30,
  workPerWeight: 2 ** 12,
  work: 2 ** 35,
} as const;

/** One binary dense layer with its folded batch norm. */
export interface BcnetDense {
  readonly kind: "dense";
  readonly inputs: number;
  readonly units: number;
  readonly activation: Activation;
  /**
   * The signs of the weights, 1 bit each: unit n's row is bytes [n * rowBytes, (n+1) * rowBytes),
   * rowBytes = ceil(inputs / 8); bit j (least significant first) of the row's byte g is 1 when
   * w[8g + j][n] = +1 and 0 when it is -1. Bits past `inputs` are 0.
   */
  readonly bits: Uint8Array;
  /** Per-unit scale a (H and batch norm folded in), float32 [units]. */
  readonly scale: Float32Array;
  /** Per-unit shift b, float32 [units]. */
  readonly shift: Float32Array;
}

/** Max pooling: window and stride (no padding; outputs floor((size - window) / stride) + 1 per side). */
export interface PoolSpec {
  readonly window: Pair;
  readonly stride: Pair;
}

/**
 * One binary convolution (NHWC) with its folded batch norm, optionally max-pooled between the
 * two. Its bits are those of a dense layer with inputs = kh kw Cin in (ki, kj, c) order: filter
 * f's row is the filter W[:, :, :, f] flattened (the training engine's W [kh, kw, Cin, Cout]).
 */
export interface BcnetConv {
  readonly kind: "conv";
  /** The input image [height, width, channels]. */
  readonly input: ImageShape;
  readonly filters: number;
  readonly kernel: Pair;
  readonly stride: Pair;
  /** Zero padding on each side [rows, cols]: 3x3 with pad 1 keeps the size (the paper's "C3"). */
  readonly pad: Pair;
  /** Max pooling of the sums before scale and shift (conv -> pool -> BN -> ReLU); null: none. */
  readonly pool: PoolSpec | null;
  readonly activation: Activation;
  /** Filter f's row of ceil(kh kw Cin / 8) bytes at f * rowBytes, bits as BcnetDense's. */
  readonly bits: Uint8Array;
  /** Per-filter scale and shift, float32 [filters]. */
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}

/** A max-pooling layer on its own (not right after a convolution). */
export interface BcnetMaxPool extends PoolSpec {
  readonly kind: "maxpool";
  readonly input: ImageShape;
}

export type BcnetLayer = BcnetDense | BcnetConv | BcnetMaxPool;

/** A layer's description without its arrays: what the layer table and the shapes determine. */
export type DenseHead = Omit<BcnetDense, "bits" | "scale" | "shift">;
export type ConvHead = Omit<BcnetConv, "bits" | "scale" | "shift">;
export type LayerHead = DenseHead | ConvHead | BcnetMaxPool;

/** Where the model came from (UTF-8 JSON in the file; shown by `binaryconnect summary`). */
export interface ModelInfo {
  /** The program that wrote the file ("binaryconnect 0.2.0"). */
  readonly producer: string;
  /** Anything else the producer recorded: preset, training mode, epoch, test error, ... */
  readonly [key: string]: unknown;
}

/** A decoded .bcnet model. */
export interface BcnetModel {
  /** Values per example (height * width * channels for images). */
  readonly inputs: number;
  /**
   * The input as an image (rows of `inputs` values are NHWC: height x width x channels);
   * absent for a model of dense layers on a feature vector (format version 1).
   */
  readonly image?: ImageShape;
  /**
   * What prepares a raw input for the first layer, applied in order (the MNIST models: scale
   * 1/255, then subtract the training split's per-pixel mean; CIFAR-10: GCN, ZCA; SVHN: GCN,
   * LCN). Its shape is the input image [height, width, channels], or [inputs] without one.
   */
  readonly preprocessing: Preprocessing;
  readonly layers: readonly BcnetLayer[];
  readonly info: ModelInfo;
}

/**
 * The version a model is written in: the oldest that can hold it, so that older readers keep
 * reading the files they can. 1: dense layers on a feature vector; 2: an input image,
 * convolutions or max pooling; both with the preprocessing [scale, subtractMean] (the factor
 * stored as float32). 3: any other preprocessing.
 */
export function formatVersionOf(model: Pick<BcnetModel, "image" | "layers" | "preprocessing">): BcnetVersion {
  if (!isScaleThenMean(model.preprocessing)) return 3;
  return model.image || model.layers.some((l) => l.kind !== "dense") ? 2 : 1;
}

/** Bytes of one unit's row of sign bits. */
export function rowBytes(inputs: number): number {
  return Math.ceil(inputs / 8);
}

/** Inputs of a binary layer's product: a dense layer's inputs, a convolution's patch kh kw Cin. */
export function fanIn(layer: DenseHead | ConvHead): number {
  return layer.kind === "dense" ? layer.inputs : layer.kernel[0] * layer.kernel[1] * layer.input.channels;
}

/** Units of a binary layer: a dense layer's units, a convolution's filters. */
export function fanOut(layer: DenseHead | ConvHead): number {
  return layer.kind === "dense" ? layer.units : layer.filters;
}

/** The image a convolution (after its pooling) or a max-pool layer outputs. */
export function imageOutput(layer: ConvHead | BcnetMaxPool): ImageShape {
  if (layer.kind === "maxpool") return poolOutputShape(layer.input, layer.window, layer.stride);
  const conv = convOutputShape(layer.input, layer.filters, layer.kernel, layer.stride, layer.pad);
  return layer.pool ? poolOutputShape(conv, layer.pool.window, layer.pool.stride) : conv;
}

/** The number of classes: the last layer's units (the last layer is dense: checked by decode and encode). */
export function classesOf(model: BcnetModel): number {
  const last = model.layers[model.layers.length - 1];
  return last.kind === "dense" ? last.units : 0;
}

export function align(n: number): number {
  return Math.ceil(n / SECTION_ALIGN) * SECTION_ALIGN;
}

/** What one layer stores after the header: scale and shift (`affine` floats each), then `bitBytes` of signs. */
export interface LayerSizes {
  readonly affine: number;
  readonly bitBytes: number;
}

export function layerSizes(layer: LayerHead): LayerSizes {
  if (layer.kind === "maxpool") return { affine: 0, bitBytes: 0 };
  return { affine: fanOut(layer), bitBytes: fanOut(layer) * rowBytes(fanIn(layer)) };
}

/**
 * What the preprocessing stores: entries in the preprocessing table (version 3; 0 before) and
 * the lengths in floats of its arrays, in order (versions 1 and 2: the mean, [inputs]).
 */
export interface PreprocessingSizes {
  readonly steps: number;
  readonly arrays: readonly number[];
}

/** Byte offsets of every section, computed from the header fields alone (docs/FORMAT.md). */
export interface Layout {
  /** The preprocessing table (version 3; with no steps, where the info starts). */
  readonly steps: number;
  readonly info: number;
  /** The preprocessing arrays, in order (versions 1 and 2: the mean). */
  readonly arrays: number[];
  readonly layers: { scale: number; shift: number; bits: number }[];
  readonly fileBytes: number;
}

export function layoutOf(
  version: BcnetVersion,
  inputs: number,
  layers: readonly LayerSizes[],
  infoBytes: number,
  pre: PreprocessingSizes = { steps: 0, arrays: version < 3 ? [inputs] : [] },
): Layout {
  const steps = HEADER_BYTES + layers.length * LAYER_ENTRY_BYTES[version];
  let p = align(steps + pre.steps * PREPROCESS_ENTRY_BYTES);
  const info = p;
  p = align(p + infoBytes);
  const arrays: number[] = [];
  for (const n of pre.arrays) {
    arrays.push(p);
    p = align(p + 4 * n);
  }
  const out: Layout["layers"] = [];
  for (const { affine, bitBytes } of layers) {
    const scale = p;
    const shift = align(scale + 4 * affine);
    const bits = align(shift + 4 * affine);
    p = align(bits + bitBytes);
    out.push({ scale, shift, bits });
  }
  return { steps, info, arrays, layers: out, fileBytes: p };
}

/** Bytes of the float32 weights the model replaces (weights + scale + shift + the preprocessing's arrays, as float32). */
export function float32Bytes(model: BcnetModel): number {
  let floats = preprocessingFloats(model.preprocessing);
  for (const l of model.layers) if (l.kind !== "maxpool") floats += fanIn(l) * fanOut(l) + 2 * fanOut(l);
  return 4 * floats;
}

/**
 * The layers: "784-1024-1024-1024-10" for an MLP; for a network on images, the paper's notation
 * after the input shape, "28x28x1-32C3-MP2-64C3-MP2-256FC-10" (a convolution's pooling follows
 * it; "s2" a stride other than 1, "p0" a padding other than kernel/2 rounded down).
 */
export function architecture(model: BcnetModel): string {
  if (!model.image && model.layers.every((l) => l.kind === "dense"))
    return [model.inputs, ...model.layers.map((l) => (l.kind === "dense" ? l.units : "?"))].join("-");
  const { height, width, channels } = model.image ?? { height: 1, width: 1, channels: model.inputs };
  const parts = [`${height}x${width}x${channels}`];
  const pool = (p: PoolSpec) =>
    `MP${side(p.window)}${p.stride[0] !== p.window[0] || p.stride[1] !== p.window[1] ? `s${side(p.stride)}` : ""}`;
  model.layers.forEach((l, i) => {
    if (l.kind === "dense") parts.push(i === model.layers.length - 1 ? `${l.units}` : `${l.units}FC`);
    else if (l.kind === "maxpool") parts.push(pool(l));
    else {
      const samePad = l.pad[0] === Math.floor(l.kernel[0] / 2) && l.pad[1] === Math.floor(l.kernel[1] / 2);
      parts.push(
        `${l.filters}C${side(l.kernel)}${l.stride[0] !== 1 || l.stride[1] !== 1 ? `s${side(l.stride)}` : ""}${samePad ? "" : `p${side(l.pad)}`}`,
      );
      if (l.pool) parts.push(pool(l.pool));
    }
  });
  return parts.join("-");
}

function side(p: Pair): string {
  return p[0] === p[1] ? `${p[0]}` : `${p[0]}x${p[1]}`;
}
