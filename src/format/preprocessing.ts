/**
 * Input preprocessing as data, as a model file holds it (docs/FORMAT.md, "Preprocessing"):
 * the steps fitted on the training set, applied in order to each example of the model's input
 * shape (row-major; images NHWC) before the first layer. Pure TypeScript, no Node API: the
 * decoder and the inference engine (src/infer, browsers too) read it; src/data/preprocessing.ts
 * fits it. The arithmetic of each step is in preprocessSteps.ts.
 * - scale:        x' = x * factor                                  (e.g. pixels / 255)
 * - subtractMean: x'[k] = x[k] - mean[k]                           (the per-pixel mean of the training set)
 * - gcn:          global contrast normalization (pylearn2's): x -= mean(x);
 *                 x /= sqrt(sqrtBias + sum x^2 (or the variance with useStd)) / scale  (a divisor < minDivisor -> 1)
 * - zca:          x' = (x - mean) P                                (ZCA whitening fitted on the training set)
 * - lcn:          LeCun local contrast normalization per image and channel (kernel x kernel Gaussian, zero padding)
 */
import { ShapeError } from "../core/errors.js";
import { LIMITS } from "./bcnet.js";
import { shapeText, type ImageShape } from "./shapes.js";

export type PreprocessStep =
  | { readonly kind: "scale"; readonly factor: number }
  | { readonly kind: "subtractMean"; readonly mean: Float32Array }
  | {
      readonly kind: "gcn";
      readonly scale: number;
      readonly sqrtBias: number;
      readonly minDivisor: number;
      readonly useStd: boolean;
    }
  | { readonly kind: "zca"; readonly mean: Float32Array; readonly P: Float32Array }
  | { readonly kind: "lcn"; readonly kernel: number; readonly sigma: number; readonly threshold: number };

/** A fitted preprocessing: the input shape it applies to and its steps in order. */
export interface Preprocessing {
  readonly shape: readonly number[];
  readonly steps: readonly PreprocessStep[];
}

export type PreprocessKind = PreprocessStep["kind"];

/** The step kinds of the preprocessing table (format version 3), by their number in the file. */
export const PREPROCESS_KINDS: readonly PreprocessKind[] = ["scale", "subtractMean", "gcn", "zca", "lcn"];
/** Bytes of one entry of the preprocessing table (format version 3). */
export const PREPROCESS_ENTRY_BYTES = 32;

/** The shape a model's preprocessing applies to: its input image [height, width, channels], or [inputs] for a feature vector. */
export function preprocessingShape(inputs: number, image: ImageShape | undefined): number[] {
  return image ? [image.height, image.width, image.channels] : [inputs];
}

/** x' = x * inputScale - mean: what format versions 1 and 2 hold, and the engines' fast path. */
export interface ScaleMean {
  readonly inputScale: number;
  readonly mean: Float32Array;
}

/**
 * The steps as one x * inputScale - mean when they are [scale][, subtractMean] (either may be
 * missing: factor 1, mean 0), else null. The engines compute that form fused (in float64,
 * rounded once to float32, as format versions 1 and 2 define it); the steps one at a time in
 * float32 (preprocessSteps.ts) may differ from it in the last bit.
 */
export function scaleMeanOf(p: Preprocessing, inputs: number): ScaleMean | null {
  const s = p.steps;
  let i = 0,
    inputScale = 1,
    mean: Float32Array | null = null;
  if (s[i]?.kind === "scale") inputScale = (s[i++] as Extract<PreprocessStep, { kind: "scale" }>).factor;
  if (s[i]?.kind === "subtractMean") mean = (s[i++] as Extract<PreprocessStep, { kind: "subtractMean" }>).mean;
  return i === s.length ? { inputScale, mean: mean ?? new Float32Array(inputs) } : null;
}

/** True when the steps are exactly [scale, subtractMean]: what format versions 1 and 2 can hold (with the factor as float32). */
export function isScaleThenMean(p: Preprocessing): boolean {
  return (
    p.steps.length === 2 &&
    p.steps[0].kind === "scale" &&
    p.steps[1].kind === "subtractMean" &&
    Number.isFinite(Math.fround(p.steps[0].factor))
  );
}

/** The float32 arrays a step stores, in file order: subtractMean its mean [inputs]; zca its mean [inputs] and P [inputs x inputs]. */
export function stepArrays(step: PreprocessStep): Float32Array[] {
  return step.kind === "subtractMean" ? [step.mean] : step.kind === "zca" ? [step.mean, step.P] : [];
}

/** The lengths of those arrays for a model of `inputs` values per example. */
export function stepArrayLengths(kind: PreprocessKind, inputs: number): number[] {
  return kind === "subtractMean" ? [inputs] : kind === "zca" ? [inputs, inputs * inputs] : [];
}

/**
 * Checks a preprocessing against a model's input (the writer with ShapeError, the reader with
 * ModelFormatError through `fail`, which must throw): at most LIMITS.steps steps, the shape
 * the model's input, finite parameters, arrays of the right lengths, ZCA on at most
 * LIMITS.zcaFeatures values, LCN on an image with an odd kernel of 1..31 and sigma > 0.
 */
export function checkPreprocessing(
  p: Preprocessing,
  inputs: number,
  image: ImageShape | undefined,
  fail: (what: string) => never,
): void {
  const want = preprocessingShape(inputs, image);
  if (!Array.isArray(p.shape) || p.shape.length !== want.length || p.shape.some((v, i) => v !== want[i])) {
    fail(
      `the preprocessing applies to examples of shape [${String(p.shape)}], the model's input is [${want}]${image ? ` (the ${shapeText(image)} image)` : ""}`,
    );
  }
  if (!Array.isArray(p.steps) || p.steps.length > LIMITS.steps)
    fail(`${p.steps?.length} preprocessing steps; the format allows at most ${LIMITS.steps}`);
  p.steps.forEach((step, i) => {
    const at = `preprocessing step ${i} (${String(step?.kind)})`;
    const finite = (v: number, what: string) => {
      if (typeof v !== "number" || !Number.isFinite(v)) fail(`${at}: ${what} is ${v}; expected a finite number`);
    };
    const length = (a: Float32Array, n: number, what: string) => {
      if (!(a instanceof Float32Array) || a.length !== n)
        fail(`${at}: ${what} has ${a instanceof Float32Array ? a.length : "no"} float32 values; expected ${n}`);
      const bad = a.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) fail(`${at}: value ${bad} of ${what} is ${a[bad]}; expected finite numbers`);
    };
    switch (step?.kind) {
      case "scale":
        finite(step.factor, "the factor");
        return;
      case "subtractMean":
        length(step.mean, inputs, "the mean");
        return;
      case "gcn":
        finite(step.scale, "the scale");
        if (!(step.scale > 0)) fail(`${at}: scale ${step.scale}; expected > 0 (it divides the norm)`);
        finite(step.sqrtBias, "sqrtBias");
        finite(step.minDivisor, "minDivisor");
        if (typeof step.useStd !== "boolean") fail(`${at}: useStd is ${String(step.useStd)}; expected true or false`);
        return;
      case "zca":
        if (inputs > LIMITS.zcaFeatures)
          fail(`${at}: whitening ${inputs} values; the format allows at most ${LIMITS.zcaFeatures}`);
        length(step.mean, inputs, "the mean");
        length(step.P, inputs * inputs, "P");
        return;
      case "lcn":
        if (!image) fail(`${at} needs an input image, but the model's input is ${inputs} features`);
        if (!Number.isInteger(step.kernel) || step.kernel < 1 || step.kernel >= LIMITS.window || step.kernel % 2 !== 1)
          fail(`${at}: kernel ${step.kernel}; expected an odd side 1..${LIMITS.window - 1}`);
        finite(step.sigma, "sigma");
        if (!(step.sigma > 0)) fail(`${at}: sigma ${step.sigma}; expected > 0`);
        finite(step.threshold, "the threshold");
        return;
      default:
        fail(`${at}: unknown step kind; expected one of ${PREPROCESS_KINDS.join(", ")}`);
    }
  });
}

/** The floats the preprocessing stores (its arrays). */
export function preprocessingFloats(p: Preprocessing): number {
  return p.steps.reduce((s, step) => s + stepArrays(step).reduce((t, a) => t + a.length, 0), 0);
}

/** "x * 0.00392157 - mean[784]" for the scale-and-mean case, else the steps: "gcn (scale 55) -> zca (3072x3072)". */
export function describePreprocessing(p: Preprocessing): string {
  if (p.steps.length === 0) return "none (the inputs as they are)";
  const n = (v: number) => `${Number(v.toPrecision(6))}`;
  return p.steps
    .map((s) => {
      switch (s.kind) {
        case "scale":
          return `x * ${n(s.factor)}`;
        case "subtractMean":
          return `- mean[${s.mean.length}]`;
        case "gcn":
          return `gcn (scale ${n(s.scale)}, sqrtBias ${n(s.sqrtBias)}, minDivisor ${n(s.minDivisor)}${s.useStd ? ", std" : ""})`;
        case "zca":
          return `zca (mean[${s.mean.length}], P ${s.mean.length}x${s.mean.length})`;
        case "lcn":
          return `lcn (${s.kernel}x${s.kernel}, sigma ${n(s.sigma)}, threshold ${n(s.threshold)})`;
        default:
          return unknownStep(s);
      }
    })
    .join(" -> ");
}

/**
 * One entry of the preprocessing table (format version 3), 32 bytes:
 *   0  u32 kind (1 scale, 2 subtractMean, 3 gcn, 4 zca, 5 lcn)
 *   4  u32 gcn: useStd (0 or 1); lcn: the kernel side (odd); otherwise 0
 *   8  f64 scale: factor; gcn: scale; lcn: sigma; otherwise 0
 *   16 f64 gcn: sqrtBias; lcn: threshold; otherwise 0
 *   24 f64 gcn: minDivisor; otherwise 0
 * The step's arrays are in the preprocessing section (stepArrayLengths). Fields a kind does not
 * use must be 0; `fail` must throw.
 */
export type StepHead =
  | Exclude<PreprocessStep, { kind: "subtractMean" } | { kind: "zca" }>
  | { readonly kind: "subtractMean" }
  | { readonly kind: "zca" };

export function readStepEntry(view: DataView, at: number, index: number, fail: (what: string) => never): StepHead {
  const code = view.getUint32(at, true),
    word = view.getUint32(at + 4, true);
  const f64 = (o: number) => view.getFloat64(at + o, true);
  const [a, b, c] = [f64(8), f64(16), f64(24)];
  if (code < 1 || code > PREPROCESS_KINDS.length)
    fail(
      `preprocessing step ${index} has kind ${code}; version 3 knows 1 (scale), 2 (subtractMean), 3 (gcn), 4 (zca) and 5 (lcn)`,
    );
  const kind = PREPROCESS_KINDS[code - 1];
  const unused = (words: number[], floats: number[]) => {
    if (words.some((w) => w !== 0) || floats.some((f) => !Object.is(f, 0)))
      fail(`preprocessing step ${index} (${kind}): fields its kind does not use are not zero`);
  };
  switch (kind) {
    case "scale":
      unused([word], [b, c]);
      return { kind, factor: a };
    case "subtractMean":
    case "zca":
      unused([word], [a, b, c]);
      return { kind };
    case "gcn":
      if (word > 1) fail(`preprocessing step ${index} (gcn): useStd is ${word}; expected 0 or 1`);
      return { kind, scale: a, sqrtBias: b, minDivisor: c, useStd: word === 1 };
    case "lcn":
      unused([], [c]);
      return { kind, kernel: word, sigma: a, threshold: b };
  }
}

/** Fails at compile time when a switch over step kinds misses one. */
export function unknownStep(step: never): never {
  throw new ShapeError(
    `unknown preprocessing step ${JSON.stringify((step as { kind?: unknown }).kind)}; expected one of ${PREPROCESS_KINDS.join(", ")}`,
  );
}

/** Writes an entry (the inverse of readStepEntry; the step was checked by checkPreprocessing). */
export function writeStepEntry(view: DataView, at: number, step: PreprocessStep): void {
  view.setUint32(at, PREPROCESS_KINDS.indexOf(step.kind) + 1, true);
  const f64 = (o: number, v: number) => view.setFloat64(at + o, v, true);
  switch (step.kind) {
    case "scale":
      f64(8, step.factor);
      return;
    case "gcn":
      view.setUint32(at + 4, step.useStd ? 1 : 0, true);
      f64(8, step.scale);
      f64(16, step.sqrtBias);
      f64(24, step.minDivisor);
      return;
    case "lcn":
      view.setUint32(at + 4, step.kernel, true);
      f64(8, step.sigma);
      f64(16, step.threshold);
      return;
    default:
      return;
  }
}

/** The values per example of a shape (its product). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
