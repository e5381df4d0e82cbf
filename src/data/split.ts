/**
 * The PI-MNIST split and preprocessing of the BinaryConnect paper (docs: "Experiments"):
 *   train      = the first 50,000 official training images
 *   validation = the last 10,000 official training images
 *   test       = the 10,000 official test images
 * Preprocessing: pixels scaled to [0,1] (x / 255), then a per-pixel mean subtracted:
 *   x'[i, p] = x[i, p] / 255 - mean[p],   p = 0..783 (row-major 28 x 28, flattened)
 * Which images `mean` is taken over is `meanFrom` (see MeanFrom).
 */
import { DataFormatError, OptionError, ShapeError } from "../core/errors.js";
import type { Dataset } from "./dataset.js";
import { MNIST_COLS, MNIST_PIXELS, MNIST_ROWS, type MnistData, type MnistSet } from "./mnist.js";

/**
 * The library's dataset type (dataset.ts), re-exported where the paper's splits always named
 * it: the splits are images of shape [28, 28, 1], 10 classes, already preprocessed.
 */
export type { Dataset };

/** The shape of one MNIST example (one channel). */
export const MNIST_SHAPE: readonly number[] = [MNIST_ROWS, MNIST_COLS, 1];

export interface MnistSplits {
  train: Dataset;
  validation: Dataset;
  test: Dataset;
}

/**
 * Which images the per-pixel mean is computed over:
 * - "split" (default): each split its own mean (train over its 50,000, validation over its
 *   10,000, test over its 10,000), as the authors' MNIST script does (docs/REPRODUCTION.md).
 * - "train": the train split's mean (first 50,000 images) for all three splits; no
 *   statistic of the validation or test images is used.
 * - "pylearn2": what the authors' Lasagne code does through pylearn2's
 *   `MNIST(center=True, start, stop)`, which centres before slicing: train and validation
 *   use the mean of all 60,000 official training images, test uses its own mean.
 */
export type MeanFrom = "split" | "train" | "pylearn2";
export const MEAN_FROM_VALUES: readonly MeanFrom[] = ["split", "train", "pylearn2"];

/** Take only the first n examples of a split (after preprocessing; means use the full split). */
export interface SplitLimit {
  train?: number;
  validation?: number;
  test?: number;
}

export interface MnistSplitOptions {
  /** Which images the per-pixel mean comes from. Default "split". */
  meanFrom?: MeanFrom;
  /** Keep only the first n examples of each split (quick tests). Default: all. */
  limit?: SplitLimit;
}

/** Size of the validation split: the last 10,000 official training images. */
export const MNIST_VALIDATION_SIZE = 10_000;

/**
 * The validation split's size for a training set of n images: the last 10,000 (the paper's)
 * when there are more than 10,000; a smaller set in the same layout keeps its last sixth
 * (MNIST's ratio, 10,000 of 60,000), at least one image.
 */
export function mnistValidationSize(n: number): number {
  return n > MNIST_VALIDATION_SIZE ? MNIST_VALIDATION_SIZE : Math.max(1, Math.floor(n / 6));
}

const OPTION_KEYS = ["meanFrom", "limit"];
const LIMIT_KEYS = ["train", "validation", "test"] as const;

/** A contiguous range of images of one raw set. */
interface Range {
  set: MnistSet;
  start: number;
  count: number;
}

/** Per-pixel mean of x / 255 over the images of `r` (accumulated in float64). */
function pixelMean(r: Range): Float64Array {
  const sum = new Float64Array(MNIST_PIXELS);
  const { images } = r.set;
  for (let i = r.start; i < r.start + r.count; i++) {
    const row = i * MNIST_PIXELS;
    for (let p = 0; p < MNIST_PIXELS; p++) sum[p] += images[row + p];
  }
  const scale = 1 / (255 * Math.max(r.count, 1));
  for (let p = 0; p < MNIST_PIXELS; p++) sum[p] *= scale;
  return sum;
}

/** The first `n` images of `r`, scaled to [0,1] with `mean` subtracted; labels as floats. */
function toDataset(r: Range, n: number, mean: Float64Array): Dataset {
  const x = new Float32Array(n * MNIST_PIXELS);
  const y = new Float32Array(n);
  const { images, labels } = r.set;
  for (let i = 0; i < n; i++) {
    const src = (r.start + i) * MNIST_PIXELS;
    const dst = i * MNIST_PIXELS;
    for (let p = 0; p < MNIST_PIXELS; p++) x[dst + p] = images[src + p] / 255 - mean[p];
    y[i] = labels[r.start + i];
  }
  return { x, y, n, features: MNIST_PIXELS, shape: MNIST_SHAPE, classes: 10, preprocessed: true };
}

function checkSet(set: MnistSet, name: string): void {
  if (set.images.length !== set.n * MNIST_PIXELS || set.labels.length !== set.n) {
    throw new ShapeError(
      `MNIST ${name} set: expected ${set.n} x ${MNIST_PIXELS} pixels and ${set.n} labels, found ${set.images.length} pixels and ${set.labels.length} labels`,
    );
  }
}

function validateOptions(options: MnistSplitOptions): void {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new OptionError(`mnistSplits: unknown option "${key}"`, `known options: ${OPTION_KEYS.join(", ")}`);
    }
  }
  if (options.meanFrom !== undefined && !MEAN_FROM_VALUES.includes(options.meanFrom)) {
    throw new OptionError(
      `mnistSplits: expected meanFrom to be one of ${MEAN_FROM_VALUES.join(", ")}, found ${JSON.stringify(options.meanFrom)}`,
    );
  }
  const limit: unknown = options.limit;
  if (limit !== undefined && (typeof limit !== "object" || limit === null)) {
    throw new OptionError(
      `mnistSplits: expected limit to be an object like { train: 1000 }, found ${JSON.stringify(limit)}`,
    );
  }
  for (const key of Object.keys(options.limit ?? {})) {
    if (!(LIMIT_KEYS as readonly string[]).includes(key)) {
      throw new OptionError(`mnistSplits: unknown limit "${key}"`, `known limits: ${LIMIT_KEYS.join(", ")}`);
    }
  }
}

/** The number of examples to keep of a split of `available` examples. */
function limitOf(limit: number | undefined, available: number, name: string): number {
  if (limit === undefined) return available;
  if (!Number.isInteger(limit) || limit < 0 || limit > available) {
    throw new OptionError(
      `mnistSplits: expected limit.${name} (the CLI's --${name === "validation" ? "val" : name}-size) to be an integer in 0..${available}, found ${limit}`,
      `the ${name} split has ${available} examples`,
    );
  }
  return limit;
}

/** The per-pixel means of the three splits for `meanFrom`. */
function splitMeans(
  meanFrom: MeanFrom,
  train: Range,
  validation: Range,
  test: Range,
): [Float64Array, Float64Array, Float64Array] {
  switch (meanFrom) {
    case "split":
      return [pixelMean(train), pixelMean(validation), pixelMean(test)];
    case "train": {
      const m = pixelMean(train);
      return [m, m, m];
    }
    case "pylearn2": {
      const all = pixelMean({ set: train.set, start: 0, count: train.set.n });
      return [all, all, pixelMean(test)];
    }
  }
}

/**
 * The per-pixel mean (of x / 255) that the training split was centred with under `meanFrom`:
 * what a deployed model subtracts from a new image (a single image has no split to take a
 * mean over). "split" and "train": the train split's (first N - 10,000 images); "pylearn2":
 * all official training images'.
 */
export function trainingMean(data: MnistData, meanFrom: MeanFrom): Float64Array {
  checkSet(data.train, "train");
  const nTrain = data.train.n - mnistValidationSize(data.train.n);
  if (nTrain <= 0)
    throw new DataFormatError(`MNIST: expected at least 2 training images (one for validation), found ${data.train.n}`);
  switch (meanFrom) {
    case "split":
    case "train":
      return pixelMean({ set: data.train, start: 0, count: nTrain });
    case "pylearn2":
      return pixelMean({ set: data.train, start: 0, count: data.train.n });
  }
}

/**
 * Splits raw MNIST into the paper's train (first N - 10,000 training images: 50,000 for the
 * official set), validation (last 10,000) and test (all test images), as float32 with pixels
 * in [0,1] minus the per-pixel mean chosen by `meanFrom`. Means are always computed over
 * the full splits; `limit` only truncates the returned datasets.
 */
export function mnistSplits(data: MnistData, options: MnistSplitOptions = {}): MnistSplits {
  validateOptions(options);
  checkSet(data.train, "train");
  checkSet(data.test, "test");
  const validationSize = mnistValidationSize(data.train.n);
  const nTrain = data.train.n - validationSize;
  if (nTrain <= 0) {
    throw new DataFormatError(
      `MNIST: expected at least 2 training images (the last sixth of a small set, or the last ${MNIST_VALIDATION_SIZE} of a large one, are the validation split), found ${data.train.n}`,
      "load the full official training set (60,000 images)",
    );
  }
  const train: Range = { set: data.train, start: 0, count: nTrain };
  const validation: Range = { set: data.train, start: nTrain, count: validationSize };
  const test: Range = { set: data.test, start: 0, count: data.test.n };
  const limit = options.limit ?? {};
  const nKeep = [
    limitOf(limit.train, train.count, "train"),
    limitOf(limit.validation, validation.count, "validation"),
    limitOf(limit.test, test.count, "test"),
  ];
  const [mTrain, mValid, mTest] = splitMeans(options.meanFrom ?? "split", train, validation, test);
  return {
    train: toDataset(train, nKeep[0], mTrain),
    validation: toDataset(validation, nKeep[1], mValid),
    test: toDataset(test, nKeep[2], mTest),
  };
}
