/**
 * The dataset type every loader returns and `Model.fit` / `evaluate` / `predict` take: n
 * labelled examples of one shape, in host memory.
 */
import { DataFormatError, OptionError, ShapeError } from "../core/errors.js";
import type { LabeledSet } from "../train/dataset.js";
import { checkKnownKeys } from "../api/knownKeys.js";

export interface Dataset extends LabeledSet {
  /** n examples, row-major, each of `shape` values ([H, W, C] for NHWC images, [F] for feature vectors). */
  readonly x: Float32Array;
  /** The class of each example, 0..classes-1 (as floats, the form the engine uploads). */
  readonly y: Float32Array;
  readonly n: number;
  /** Values per example: the product of `shape`. */
  readonly features: number;
  /** The shape of one example. */
  readonly shape: readonly number[];
  /** The number of classes (labels are 0..classes-1). */
  readonly classes: number;
  /** Optional names of the classes (image folders: the folder names). */
  readonly classNames?: readonly string[];
  /** Optional names of an example's values, one each, distinct (a CSV file's header columns). */
  readonly featureNames?: readonly string[];
  /**
   * True when `x` already went through the preprocessing of the pipeline that produced it (the
   * paper's MNIST / CIFAR-10 / SVHN splits): a model then takes it as it is instead of applying
   * its own preprocessing first.
   */
  readonly preprocessed?: boolean;
}

/** Typed arrays a dataset can be made from. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Uint8Array
  | Uint8ClampedArray
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | readonly number[];

export interface FromArraysOptions {
  /** n x prod(shape) values, row-major. */
  x: NumericArray;
  /** n class labels, integers in 0..classes-1. */
  y: NumericArray;
  /** The shape of one example: [features] or [H, W, C]. */
  shape: readonly number[];
  /** Number of classes (default: the largest label + 1). */
  classes?: number;
  classNames?: readonly string[];
  /** Names of an example's prod(shape) values, distinct (e.g. a CSV file's feature columns). */
  featureNames?: readonly string[];
}

/**
 * A dataset from arrays: `x` (n x prod(shape) values) and `y` (n labels). Checks that the sizes
 * agree and that every label is an integer in 0..classes-1 (a ShapeError / OptionError naming
 * the first bad one otherwise).
 */
export function fromArrays(opts: FromArraysOptions): Dataset {
  if (typeof opts !== "object" || opts === null)
    throw new OptionError(`dataset: fromArrays takes { x, y, shape }, found ${describeValue(opts)}`);
  checkKnownKeys("dataset: fromArrays", opts, ["x", "y", "shape", "classes", "classNames", "featureNames"]);
  for (const key of ["x", "y", "shape"] as const)
    if (opts[key] === undefined || opts[key] === null || typeof opts[key] !== "object")
      throw new ShapeError(
        `dataset: fromArrays needs ${key}, found ${describeValue(opts[key])}`,
        "x: n x prod(shape) values; y: n labels; shape: one example's shape, [features] or [H, W, C]",
      );
  const shape = [...opts.shape];
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`dataset: expected shape to be positive integers ([features] or [H, W, C]), found [${shape}]`);
  }
  const features = shape.reduce((a, b) => a * b, 1);
  const n = opts.y.length;
  if (opts.x.length !== n * features) {
    throw new ShapeError(
      `dataset: ${n} labels of examples of shape [${shape}] need ${n * features} values in x, found ${opts.x.length}`,
      "x holds the examples one after another, row-major; y one label per example",
    );
  }
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const label = Number(opts.y[i]);
    if (!Number.isInteger(label) || label < 0)
      throw new OptionError(
        `dataset: example ${i}'s label is ${label}; expected an integer class index >= 0`,
        "labels are class indices 0, 1, 2, ...; map names or other codes to indices first (parseCsv does this for a CSV)",
      );
    if (label > maxLabel) maxLabel = label;
  }
  const classes = opts.classes ?? maxLabel + 1;
  if (!Number.isInteger(classes) || classes < 1)
    throw new OptionError(`dataset: classes must be an integer >= 1, found ${classes}`);
  if (maxLabel >= classes) {
    const i = Array.prototype.findIndex.call(opts.y, (v: number) => Number(v) >= classes);
    throw new OptionError(
      `dataset: example ${i}'s label is ${Number(opts.y[i])}, outside the ${classes} classes 0..${classes - 1}`,
      "pass the right classes, or fix the labels",
    );
  }
  if (opts.classNames && opts.classNames.length !== classes) {
    throw new OptionError(`dataset: ${opts.classNames.length} class names for ${classes} classes`);
  }
  checkFeatureNames(opts.featureNames, features);
  const x = asFloat32(opts.x, "dataset: x");
  checkFinite(x, features);
  return {
    x,
    y: Float32Array.from(opts.y as ArrayLike<number>),
    n,
    features,
    shape,
    classes,
    ...(opts.classNames ? { classNames: [...opts.classNames] } : {}),
    ...(opts.featureNames ? { featureNames: [...opts.featureNames] } : {}),
  };
}

/** Feature names, where given, are `features` distinct strings (an OptionError otherwise). */
function checkFeatureNames(names: readonly string[] | undefined, features: number): void {
  if (names === undefined) return;
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string") || new Set(names).size !== names.length)
    throw new OptionError(
      `dataset: expected featureNames to be distinct strings, found ${JSON.stringify(names)?.slice(0, 200)}`,
    );
  if (names.length !== features)
    throw new OptionError(`dataset: ${names.length} feature names for examples of ${features} values`);
}

/** Examples [start, start + count) of a dataset (views, no copy). */
export function sliceDataset(d: Dataset, start: number, count: number): Dataset {
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= d.n)) {
    throw new OptionError(`dataset: cannot take examples ${start}..${start + count - 1} of ${d.n}`);
  }
  const f = d.features;
  const example = d.example;
  return {
    ...d,
    x: example ? d.x : d.x.subarray(start * f, (start + count) * f),
    y: d.y.subarray(start, start + count),
    n: count,
    ...(example ? { example: (i: number, out: Float32Array, offset: number) => example(start + i, out, offset) } : {}),
  };
}

/**
 * Values as float32: a Float32Array as it is, another numeric typed array (raw pixels as a
 * Uint8Array, ...) or an array of numbers converted; anything else a ShapeError.
 */
export function asFloat32(x: unknown, what: string): Float32Array {
  if (x instanceof Float32Array) return x;
  const numericView = ArrayBuffer.isView(x) && !(x instanceof DataView) && !isBigIntArray(x);
  if (numericView || (Array.isArray(x) && x.every((v) => typeof v === "number")))
    return Float32Array.from(x as ArrayLike<number>);
  throw new ShapeError(
    `${what}: expected a Float32Array, another numeric typed array or an array of numbers, found ${describeValue(x)}`,
  );
}

const isBigIntArray = (x: unknown) => x instanceof BigInt64Array || x instanceof BigUint64Array;

/** What a value is, for an error message. */
export function describeValue(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return `an array of ${x.length} values, not all numbers`;
  if (typeof x === "object") {
    const name = (x as object).constructor?.name;
    const keys = Object.keys(x).slice(0, 8);
    return name && name !== "Object" ? `a ${name}` : `an object with keys {${keys.join(", ")}}`;
  }
  return `a ${typeof x} (${String(x).slice(0, 40)})`;
}

/** A DataFormatError (naming `what`) at the first value of x that is NaN or infinite (training on it would give a NaN loss). */
export function checkFinite(x: Float32Array, features: number, what = "dataset"): void {
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) continue;
    throw new DataFormatError(
      `${what}: value ${i} of x (example ${Math.floor(i / features)}, value ${i % features} of it) is ${x[i]}; expected finite numbers`,
      "replace missing or infinite values (e.g. by the feature's mean over the training set) before making the dataset",
    );
  }
}

/**
 * The set a model's fit / evaluate / predict was given, checked to be a Dataset (fromArrays, a
 * loader, a pipeline: n, features, shape, x, y) and its x and y as float32; a ShapeError
 * naming what was found otherwise.
 */
export function checkDataset(data: unknown, what: string): Dataset {
  const d = data as Partial<Dataset> | null;
  const missing =
    d === null || typeof d !== "object"
      ? ["n", "features", "shape", "x", "y"]
      : (["n", "features", "shape", "x", "y"] as const).filter((k) => d[k] === undefined);
  if (missing.length > 0)
    throw new ShapeError(
      `${what}: expected a Dataset (n, features, shape, x, y), found ${describeValue(data)} without ${missing.join(", ")}`,
      "make one with bc.data.fromArrays({ x, y, shape }), or load one (bc.data.loadMnist, loadCsv, loadImageFolder, ...)",
    );
  const set = d as Dataset;
  if (!(Number.isInteger(set.n) && set.n >= 0 && Number.isInteger(set.features) && set.features >= 1))
    throw new ShapeError(
      `${what}: a Dataset's n and features are integers, found n ${set.n}, features ${set.features}`,
    );
  const x = set.example ? set.x : asFloat32(set.x, `${what}: x`);
  const y = asFloat32(set.y, `${what}: y`);
  return x === set.x && y === set.y ? set : { ...set, x, y };
}
