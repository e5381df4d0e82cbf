/**
 * The .bcnet model file: a trained BinaryConnect network for inference (docs/FORMAT.md).
 * Pure TypeScript, no Node API: the inference engine (src/infer, browsers too) reads it.
 *
 * The network: inputs x (raw values, e.g. pixels 0..255) are preprocessed as
 *   x'[k] = x[k] * inputScale - mean[k]
 * then each layer l computes, per unit n, with its binary weights w[k][n] in {-1, +1}:
 *   s[n] = sum_k w[k][n] x'[k]              (adds and subtracts only)
 *   y[n] = act(scale[n] * s[n] + shift[n])  act = ReLU (hidden layers) or identity (the last)
 * scale and shift fold H, the dense layer and its batch norm (see fold.ts); the last layer's
 * y are the class scores (argmax = the class).
 */

/** "\x89BCNET\r\n": a non-ASCII first byte and CR LF catch text-mode transfers (as PNG's magic). */
export const BCNET_MAGIC = Uint8Array.of(0x89, 0x42, 0x43, 0x4e, 0x45, 0x54, 0x0d, 0x0a);
/** The format version this code writes and reads. */
export const BCNET_VERSION = 1;
/** Bytes of the fixed header. */
export const HEADER_BYTES = 48;
/** Bytes of one entry of the layer table. */
export const LAYER_ENTRY_BYTES = 16;
/** Every section starts at a multiple of this (typed-array views, SIMD loads). */
export const SECTION_ALIGN = 16;

/** Layer kinds of the layer table (version 1 has one). */
export const LAYER_KIND_BINARY_DENSE = 1;
export const ACTIVATIONS = ["identity", "relu"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Limits the loader enforces before allocating anything (a corrupt header cannot ask for 4 GiB). */
export const LIMITS = { layers: 64, units: 1 << 20, infoBytes: 1 << 16 } as const;

/** One binary dense layer with its folded batch norm. */
export interface BcnetLayer {
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

/** Where the model came from (UTF-8 JSON in the file; shown by `binaryconnect summary`). */
export interface ModelInfo {
  /** The program that wrote the file ("binaryconnect 0.1.0"). */
  readonly producer: string;
  /** Anything else the producer recorded: preset, training mode, epoch, test error, ... */
  readonly [key: string]: unknown;
}

/** A decoded .bcnet model. */
export interface BcnetModel {
  readonly inputs: number;
  /** x' = x * inputScale - mean (the MNIST models: 1/255 and the training split's per-pixel mean). */
  readonly preprocess: { readonly inputScale: number; readonly mean: Float32Array };
  readonly layers: readonly BcnetLayer[];
  readonly info: ModelInfo;
}

/** Bytes of one unit's row of sign bits. */
export function rowBytes(inputs: number): number {
  return Math.ceil(inputs / 8);
}

export function align(n: number): number {
  return Math.ceil(n / SECTION_ALIGN) * SECTION_ALIGN;
}

/** Byte offsets of every section, computed from the header fields alone (docs/FORMAT.md). */
export interface Layout {
  readonly info: number;
  readonly mean: number;
  readonly layers: { scale: number; shift: number; bits: number }[];
  readonly fileBytes: number;
}

export function layoutOf(inputs: number, units: readonly number[], infoBytes: number): Layout {
  let p = align(HEADER_BYTES + units.length * LAYER_ENTRY_BYTES);
  const info = p;
  p = align(p + infoBytes);
  const mean = p;
  p = align(p + 4 * inputs);
  const layers: Layout["layers"] = [];
  let fanIn = inputs;
  for (const u of units) {
    const scale = p;
    const shift = align(scale + 4 * u);
    const bits = align(shift + 4 * u);
    p = align(bits + u * rowBytes(fanIn));
    layers.push({ scale, shift, bits });
    fanIn = u;
  }
  return { info, mean, layers, fileBytes: p };
}

/** Bytes of the float32 weights the model replaces (weights + scale + shift + mean, as float32). */
export function float32Bytes(model: BcnetModel): number {
  return 4 * (model.inputs + model.layers.reduce((s, l) => s + l.inputs * l.units + 2 * l.units, 0));
}

/** The layer sizes, "784-1024-1024-1024-10". */
export function architecture(model: BcnetModel): string {
  return [model.inputs, ...model.layers.map((l) => l.units)].join("-");
}
