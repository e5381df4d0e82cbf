/**
 * Layers as values: each builder returns a plain, JSON-serializable description (LayerSpec)
 * that `sequential` assembles into a model. BinaryConnect is a per-layer option of `dense`
 * and `conv2d` (as larq's quantizers): `binarize` "det" | "stoch" | "none", `H`, `clip`,
 * `lrScale`; a layer that does not set them takes the model's defaults.
 *
 *   bc.layers.dense({ units: 1024, binarize: "stoch" })   // a binary layer (paper section 2.3)
 *   bc.layers.dense({ units: 10, binarize: "none" })      // a real-valued layer in the same model
 */
import { checkKnownKeys } from "./knownKeys.js";
import { OptionError } from "../core/errors.js";
import type { BatchNormSpecOptions, BinaryOptions, LayerSpec } from "../nn/architecture.js";
import type { Pair } from "../kernels/contract.js";
import { BATCH_NORM_KEYS, checkBatchNormOptions } from "../nn/batchNorm.js";
import { checkBinarization } from "../nn/binarization.js";

export type { BatchNormSpecOptions, BinaryOptions, LayerSpec } from "../nn/architecture.js";

const pair = (v: number | readonly [number, number], what: string): Pair => {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= 0))
    throw new OptionError(`${what} must be a non-negative integer or a pair of them, found ${JSON.stringify(v)}`);
  return p;
};

/** Checks that an options object has only known keys (a typo is an error, not a default). */
function known<T extends object>(layer: string, opts: T, keys: readonly string[]): T {
  checkKnownKeys(layer, opts, keys, ["slot"]); // slot: the engine's own (a layer's random stream)
  return opts;
}

const BINARY_KEYS = ["binarize", "H", "clip", "lrScale", "slot"] as const;

function binaryPart(o: BinaryOptions): BinaryOptions {
  const out: BinaryOptions = {};
  for (const key of BINARY_KEYS) if (o[key] !== undefined) (out as Record<string, unknown>)[key] = o[key];
  if (o.binarize !== undefined) checkBinarization(o.binarize, "binarize");
  return out;
}

export interface DenseOptions extends BinaryOptions {
  /** Output units (the last dense layer's are the classes). */
  units: number;
}

/** A fully connected layer, y = x . Wb (no bias: batch norm follows). */
export function dense(opts: DenseOptions): LayerSpec {
  known("dense", opts, ["units", ...BINARY_KEYS]);
  if (!(Number.isInteger(opts.units) && opts.units >= 1))
    throw new OptionError(
      `dense: units must be an integer >= 1, found ${JSON.stringify(opts.units)}`,
      "units is the layer's number of outputs, e.g. bc.layers.dense({ units: 1024 })",
    );
  return { kind: "dense", units: opts.units, ...binaryPart(opts) };
}

export interface Conv2dOptions extends BinaryOptions {
  filters: number;
  /** Kernel size (3 or [3, 3]). */
  kernelSize: number | readonly [number, number];
  /** Default 1. */
  strides?: number | readonly [number, number];
  /** "same" (default: floor(k / 2) zeros each side, the paper's), "valid" (none) or explicit rows/columns. */
  padding?: "same" | "valid" | number | readonly [number, number];
}

/** A 2-D convolution on NHWC images, filters [kh, kw, Cin, filters] (no bias). */
export function conv2d(opts: Conv2dOptions): LayerSpec {
  known("conv2d", opts, ["filters", "kernelSize", "strides", "padding", ...BINARY_KEYS]);
  if (!(Number.isInteger(opts.filters) && opts.filters >= 1))
    throw new OptionError(`conv2d: filters must be an integer >= 1, found ${JSON.stringify(opts.filters)}`);
  const kernel = pair(opts.kernelSize, "conv2d: kernelSize");
  if (kernel[0] < 1 || kernel[1] < 1)
    throw new OptionError(`conv2d: kernelSize must be >= 1, found ${JSON.stringify(opts.kernelSize)}`);
  const stride = pair(opts.strides ?? 1, "conv2d: strides");
  const padding = opts.padding ?? "same";
  const pad: Pair =
    padding === "same"
      ? [Math.floor(kernel[0] / 2), Math.floor(kernel[1] / 2)]
      : padding === "valid"
        ? [0, 0]
        : pair(padding, "conv2d: padding");
  return { kind: "conv", filters: opts.filters, kernel, stride, pad, ...binaryPart(opts) };
}

/** Max pooling over `poolSize` windows (default stride: the window, no padding). */
export function maxPooling2d(
  opts: { poolSize?: number | readonly [number, number]; strides?: number | readonly [number, number] } = {},
): LayerSpec {
  known("maxPooling2d", opts, ["poolSize", "strides"]);
  const window = pair(opts.poolSize ?? 2, "maxPooling2d: poolSize");
  return { kind: "maxpool", window, stride: pair(opts.strides ?? window, "maxPooling2d: strides") };
}

/**
 * Batch normalization over the last axis (channels). variant "authors" (the default, the
 * paper's code: eps added to the std, a moving average of the std) or "standard" (Ioffe &
 * Szegedy: eps inside the square root, a moving average of the variance).
 */
export function batchNorm(opts: BatchNormSpecOptions = {}): LayerSpec {
  known("batchNorm", opts, BATCH_NORM_KEYS);
  checkBatchNormOptions(opts, "batchNorm");
  return { kind: "batchnorm", ...opts };
}

export function relu(): LayerSpec {
  return { kind: "relu" };
}

/** Inverted dropout with probability `rate` of dropping a unit, during training only. */
export function dropout(opts: { rate: number; slot?: number }): LayerSpec {
  if (typeof opts !== "object" || opts === null)
    throw new OptionError(
      `dropout: expected { rate }, found ${JSON.stringify(opts) ?? String(opts)}`,
      "e.g. bc.layers.dropout({ rate: 0.5 })",
    );
  known("dropout", opts, ["rate", "slot"]);
  if (!(opts.rate >= 0 && opts.rate < 1))
    throw new OptionError(`dropout: rate must be in [0, 1), found ${JSON.stringify(opts.rate)}`);
  return { kind: "dropout", p: opts.rate, ...(opts.slot !== undefined ? { slot: opts.slot } : {}) };
}

/** [H, W, C] images to [H W C] feature vectors (NHWC order). */
export function flatten(): LayerSpec {
  return { kind: "flatten" };
}
