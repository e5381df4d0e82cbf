/**
 * Building models: from layers (`sequential`), from the paper's notation (`fromArchitecture`),
 * or as the paper's networks with their schedules (presets.ts).
 */
import { checkKnownKeys } from "./knownKeys.js";
import { OptionError } from "../core/errors.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import { parseArchitecture, type LayerSpec } from "../nn/architecture.js";
import { BATCH_NORM_KEYS, checkBatchNormOptions } from "../nn/batchNorm.js";
import { checkBinarization, type Binarization } from "../nn/binarization.js";
import { Model, type ModelOptions } from "./model.js";

export interface SequentialOptions extends ModelOptions {
  /** One example's shape: [features] or [H, W, C] (NHWC images). */
  inputShape: readonly number[];
  layers: LayerSpec[];
  /** The binarization of conv and dense layers that do not set their own (default "det"). */
  binarize?: Binarization;
  /** The binary weights' magnitude of layers that do not set their own (default 1, the authors'). */
  H?: number;
  /** Batch norm's defaults (default: the authors' variant, eps 1e-4, momentum 0.1). */
  batchNorm?: { variant?: BatchNormVariant; eps?: number; momentum?: number };
}

const KEYS = ["inputShape", "layers", "binarize", "H", "batchNorm", "backend", "threads", "simd", "seed"];

/**
 * A model from a list of layers (bc.layers.*), checked at once: shapes flow from the input
 * through every layer, and the last dense layer's units are the classes.
 *
 *   const model = bc.sequential({ inputShape: [784], layers: [
 *     bc.layers.dense({ units: 256 }), bc.layers.batchNorm(), bc.layers.relu(),
 *     bc.layers.dense({ units: 10 }), bc.layers.batchNorm() ] });
 */
export function sequential(opts: SequentialOptions): Model {
  checkKnownKeys("sequential", opts, KEYS);
  if (!Array.isArray(opts.layers) || opts.layers.length === 0)
    throw new OptionError("sequential: layers must be a non-empty array of bc.layers.*");
  const { inputShape, layers, binarize, H, batchNorm, ...modelOptions } = opts;
  if (!Array.isArray(inputShape))
    throw new OptionError(
      `sequential: inputShape must be an array, found ${JSON.stringify(inputShape)}`,
      "one example's shape: [features], e.g. [784], or [height, width, channels], e.g. [32, 32, 3]",
    );
  if (binarize !== undefined) checkBinarization(binarize, "sequential: binarize");
  if (batchNorm !== undefined) {
    if (typeof batchNorm !== "object" || batchNorm === null)
      throw new OptionError(`sequential: batchNorm must be an object, found ${JSON.stringify(batchNorm)}`);
    checkKnownKeys("sequential: batchNorm", batchNorm, BATCH_NORM_KEYS);
    checkBatchNormOptions(batchNorm, "sequential: batchNorm");
  }
  return new Model(
    {
      input: [...inputShape],
      layers: layers.map((l) => ({ ...l })),
      binarization: binarize ?? "det",
      H: H ?? 1,
      batchNorm: {
        variant: batchNorm?.variant ?? "authors",
        eps: batchNorm?.eps ?? 1e-4,
        momentum: batchNorm?.momentum ?? 0.1,
      },
    },
    modelOptions,
  );
}

/** The layers of a network in the paper's notation, e.g. "(2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10" (nn/architecture.ts). */
export function parseNotation(text: string): LayerSpec[] {
  return parseArchitecture(text);
}

/** A model from the paper's notation: `fromArchitecture("(2x16C3)-MP2-128FC-10", { inputShape: [28, 28, 1] })`. */
export function fromArchitecture(text: string, opts: Omit<SequentialOptions, "layers">): Model {
  return sequential({ ...opts, layers: parseArchitecture(text) });
}
