/**
 * Input preprocessing as data: a list of steps, fitted once on the training set and saved with
 * the model (checkpoints, .bcnet, ONNX), so that training, evaluation, export and prediction
 * all prepare an input the same way. Each step maps one example (the model's input shape,
 * row-major; images NHWC) to the same shape:
 * - scale:        x' = x * factor                                  (e.g. pixels / 255)
 * - subtractMean: x'[k] = x[k] - mean[k]                           (the per-pixel mean of the training set)
 * - gcn:          global contrast normalization (pylearn2's, data/preprocess.ts): x -= mean(x);
 *                 x /= sqrt(sqrtBias + sum x^2 (or the variance with useStd)) / scale  (a divisor < minDivisor -> 1)
 * - zca:          x' = (x - mean) P                                (ZCA whitening fitted on the training set)
 * - lcn:          LeCun local contrast normalization per image and channel (data/lcn.ts)
 * The types and the arithmetic of the steps are in src/format (preprocessing.ts,
 * preprocessSteps.ts): model files hold the steps and the inference engine applies them.
 */
import { OptionError, ShapeError } from "../core/errors.js";
import type { Dataset } from "./dataset.js";
import type { PreprocessStep, Preprocessing } from "../format/preprocessing.js";
import { applyStepRows } from "../format/preprocessSteps.js";
import { fitZca } from "./preprocess.js";
import type { Backend } from "../backends/backend.js";

export type { PreprocessStep, Preprocessing } from "../format/preprocessing.js";

/** What a user asks for before fitting: the fitted steps name what they fit instead of carrying arrays. */
export type PreprocessSpec =
  | { readonly kind: "scale"; readonly factor: number }
  | { readonly kind: "subtractMean" }
  | {
      readonly kind: "gcn";
      readonly scale?: number;
      readonly sqrtBias?: number;
      readonly minDivisor?: number;
      readonly useStd?: boolean;
    }
  | { readonly kind: "zca"; readonly filterBias?: number }
  | { readonly kind: "lcn"; readonly kernel?: number; readonly sigma?: number; readonly threshold?: number };

/** Step builders: `[scale(1 / 255), subtractMean()]` is the paper's MNIST preprocessing. */
export const preprocess = {
  scale: (factor: number): PreprocessSpec => ({ kind: "scale", factor }),
  subtractMean: (): PreprocessSpec => ({ kind: "subtractMean" }),
  gcn: (opts: { scale?: number; sqrtBias?: number; minDivisor?: number; useStd?: boolean } = {}): PreprocessSpec => ({
    kind: "gcn",
    ...opts,
  }),
  zca: (opts: { filterBias?: number } = {}): PreprocessSpec => ({ kind: "zca", ...opts }),
  lcn: (opts: { kernel?: number; sigma?: number; threshold?: number } = {}): PreprocessSpec => ({
    kind: "lcn",
    ...opts,
  }),
};

/**
 * Fits the steps on the training examples in order (each on the output of the ones before it)
 * and returns the fitted preprocessing. The dataset is not changed.
 */
export async function fitPreprocessing(
  specs: readonly PreprocessSpec[],
  train: Dataset,
  opts: { backend?: Backend } = {},
): Promise<Preprocessing> {
  const shape = [...train.shape];
  // a copy: the steps run in place, and the caller's examples must stay as they are
  let x: Float32Array = train.example ? materialize(train) : train.x.slice();
  const steps: PreprocessStep[] = [];
  for (const spec of specs) {
    const step = await fitStep(spec, x, train.n, shape, opts.backend);
    steps.push(step);
    x = await applyStep(step, x, train.n, shape);
  }
  return { shape, steps };
}

/** x (n examples of `p.shape`) through every step; a new array (the input is not changed). */
export async function applyPreprocessing(p: Preprocessing, x: Float32Array, n: number): Promise<Float32Array> {
  const features = p.shape.reduce((a, b) => a * b, 1);
  if (x.length !== n * features)
    throw new ShapeError(
      `preprocessing: ${n} examples of shape [${p.shape}] need ${n * features} values, found ${x.length}`,
    );
  // a copy (the steps run in place), and float32 whatever the caller's array (integer pixels would truncate)
  let out: Float32Array = Float32Array.from(x);
  for (const step of p.steps) out = await applyStep(step, out, n, p.shape);
  return out;
}

/** A dataset with the preprocessing applied to its examples (marked preprocessed). */
export async function preprocessDataset(p: Preprocessing, d: Dataset): Promise<Dataset> {
  if (d.preprocessed) return d;
  checkShape(p, d.shape);
  return { ...d, x: await applyPreprocessing(p, materialize(d), d.n), example: undefined, preprocessed: true };
}

export function checkShape(p: Preprocessing, shape: readonly number[]): void {
  if (shape.length !== p.shape.length || shape.some((v, i) => v !== p.shape[i])) {
    throw new ShapeError(`preprocessing fitted on examples of shape [${p.shape}], given [${shape}]`);
  }
}

/** The examples as one array (a lazily computed set is gathered). */
function materialize(d: Dataset): Float32Array {
  if (!d.example) return d.x;
  const x = new Float32Array(d.n * d.features);
  for (let i = 0; i < d.n; i++) d.example(i, x, i * d.features);
  return x;
}

/** `backend` runs ZCA's large products (the covariance and the whitening matrix) in float32; without one they run here in float64. */
async function fitStep(
  spec: PreprocessSpec,
  x: Float32Array,
  n: number,
  shape: readonly number[],
  backend?: Backend,
): Promise<PreprocessStep> {
  const features = x.length / Math.max(n, 1);
  switch (spec.kind) {
    case "scale":
    case "gcn":
      return settingsStep(spec);
    case "subtractMean": {
      if (n < 1) throw new OptionError("preprocessing: subtractMean needs at least one training example");
      const sum = new Float64Array(features);
      for (let i = 0; i < n; i++) for (let k = 0; k < features; k++) sum[k] += x[i * features + k];
      return { kind: "subtractMean", mean: Float32Array.from(sum, (s) => s / n) };
    }
    case "zca": {
      const zca = await fitZca(x, n, features, { filterBias: spec.filterBias ?? 0.1, ...(backend ? { backend } : {}) });
      return { kind: "zca", mean: zca.mean, P: zca.P };
    }
    case "lcn":
      if (shape.length !== 3)
        throw new OptionError(`preprocessing: lcn needs images [H, W, C], found shape [${shape}]`);
      return settingsStep(spec);
    default:
      throw unknownStep(spec);
  }
}

const STEP_KINDS: readonly string[] = ["scale", "subtractMean", "gcn", "zca", "lcn"];

/** Throws an OptionError (naming `what`) unless `specs` is an array of steps made by bc.preprocess. */
export function checkPreprocessSpecs(specs: unknown, what: string): asserts specs is PreprocessSpec[] {
  if (!Array.isArray(specs))
    throw new OptionError(
      `${what}: preprocess must be an array of steps, found ${JSON.stringify(specs) ?? String(specs)}`,
      "e.g. preprocess: [bc.preprocess.scale(1 / 255), bc.preprocess.subtractMean()]",
    );
  for (const spec of specs)
    if (typeof spec !== "object" || spec === null || !STEP_KINDS.includes((spec as { kind: string }).kind))
      throw unknownStep(spec);
}

type SettingsSpec = Extract<PreprocessSpec, { kind: "scale" | "gcn" | "lcn" }>;

/** The fitted step of a spec that fits nothing from the data (scale, gcn, lcn): its settings, defaults filled in. */
function settingsStep(spec: SettingsSpec): PreprocessStep {
  switch (spec.kind) {
    case "scale":
      if (!Number.isFinite(spec.factor))
        throw new OptionError(`preprocessing: scale factor must be finite, found ${JSON.stringify(spec.factor)}`);
      return { kind: "scale", factor: spec.factor };
    case "gcn":
      return {
        kind: "gcn",
        scale: spec.scale ?? 1,
        sqrtBias: spec.sqrtBias ?? 0,
        minDivisor: spec.minDivisor ?? 1e-8,
        useStd: spec.useStd ?? false,
      };
    case "lcn":
      if (spec.kernel !== undefined && (!Number.isInteger(spec.kernel) || spec.kernel < 1 || spec.kernel % 2 !== 1))
        throw new OptionError(`preprocessing: lcn kernel ${spec.kernel}; expected an odd positive integer`);
      return { kind: "lcn", kernel: spec.kernel ?? 7, sigma: spec.sigma ?? 2, threshold: spec.threshold ?? 1e-4 };
  }
}

function unknownStep(spec: unknown): OptionError {
  const kind = typeof spec === "object" && spec !== null ? (spec as { kind: unknown }).kind : spec;
  return new OptionError(
    `preprocessing: unknown step ${JSON.stringify(kind)}`,
    "build the steps with bc.preprocess: scale, subtractMean, gcn, zca or lcn",
  );
}

/**
 * How `specs` differ from the steps `fitted` was fitted with, or null where they agree: the
 * number of steps, each step's kind, and the settings of the steps that fit nothing from the
 * data (scale, gcn, lcn; zca's filterBias is not kept with the fitted whitening).
 */
export function preprocessDifference(specs: readonly PreprocessSpec[], fitted: Preprocessing): string | null {
  const kinds = (steps: readonly { kind: string }[]) => steps.map((s) => s.kind).join(", ") || "none";
  if (specs.length !== fitted.steps.length || specs.some((spec, i) => spec.kind !== fitted.steps[i].kind))
    return `given [${kinds(specs)}], fitted [${kinds(fitted.steps)}]`;
  for (const [i, spec] of specs.entries()) {
    if (spec.kind !== "scale" && spec.kind !== "gcn" && spec.kind !== "lcn") continue;
    const given = JSON.stringify(settingsStep(spec)),
      had = JSON.stringify(fitted.steps[i]);
    if (given !== had) return `step ${i + 1} given ${given}, fitted ${had}`;
  }
  return null;
}

/** One step over n examples, in place where it can (the array is ours); the arithmetic is src/format/preprocessSteps.ts's, which inference shares. */
export async function applyStep(
  step: PreprocessStep,
  x: Float32Array,
  n: number,
  shape: readonly number[],
): Promise<Float32Array> {
  return applyStepRows(step, x, n, shape);
}
