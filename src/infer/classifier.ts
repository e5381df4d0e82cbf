import { DataFormatError, OptionError, ShapeError } from "../core/errors.js";
import { classesOf, type BcnetModel } from "../format/bcnet.js";
import { checkModel } from "../format/check.js";
import { decodeBcnet } from "../format/decode.js";
import { scaleMeanOf } from "../format/preprocessing.js";
import { shapeText } from "../format/shapes.js";
import { wasmSimdAvailable } from "./module.js";
import { forwardReference, preprocess } from "./reference.js";
import { CHUNK_ROWS, WasmEngine } from "./wasmEngine.js";

/** "wasm": the SIMD lookup-table kernels; "js": the plain loops of reference.ts (a fallback). */
export type Engine = "wasm" | "js";

export interface ClassifierOptions {
  /** "auto" (default): wasm where WebAssembly SIMD runs, else js. */
  engine?: Engine | "auto";
  /**
   * Bytes only: load a model whose work per example passes the format's compute bounds
   * (decodeBcnet's option; docs/FORMAT.md "Compute bounds"). Default false.
   */
  allowLargeCompute?: boolean;
}

const OPTION_KEYS = ["engine", "allowLargeCompute"];

/** info.classNames when it is one string per class (a file's info is the producer's free JSON: anything else is left out). */
export function classNamesOf(info: BcnetModel["info"], classes: number): readonly string[] | undefined {
  const names = info.classNames;
  return Array.isArray(names) && names.length === classes && names.every((n) => typeof n === "string")
    ? (names as string[])
    : undefined;
}

/** Scores and classes of `count` examples. */
export interface Prediction {
  readonly count: number;
  /** Number of classes (the last layer's units). */
  readonly classes: number;
  /** The class of each example: the first maximum of its scores. */
  readonly labels: Int32Array;
  /** [count, classes] row-major: the network's outputs (batch-normalized logits). */
  readonly scores: Float32Array;
}

/**
 * A .bcnet network ready to classify: multiply-free binary dense and convolutional layers (the
 * lookup-table kernel of wasm/infer/denseLut.ts, WebAssembly SIMD; wasmEngine.ts) in Node.js
 * and browsers. Create with `BinaryClassifier.load(bytes)`. Not thread-safe: one call at a
 * time per instance.
 *
 * `predict` takes raw inputs and applies the model's preprocessing first (on both engines):
 * the steps [scale, subtractMean] (the MNIST models) as one x * inputScale - mean inside the
 * engine (wasm: in the kernels for 8-bit pixels); other steps (GCN, ZCA, LCN: the CIFAR-10 and
 * SVHN models) in JavaScript, a chunk of rows at a time, with training's arithmetic
 * (src/format/preprocessSteps.ts), before the engine runs the layers.
 */
export class BinaryClassifier {
  readonly inputs: number;
  readonly classes: number;
  /** The classes' names in label order, where the model file records them (info.classNames); else undefined. */
  readonly classNames: readonly string[] | undefined;

  /** True when the preprocessing is x * inputScale - mean, computed inside the engine (scaleMeanOf). */
  private readonly folded: boolean;

  private constructor(
    readonly model: BcnetModel,
    readonly engine: Engine,
    private readonly wasm: WasmEngine | null,
  ) {
    this.inputs = model.inputs;
    this.classes = classesOf(model);
    this.classNames = classNamesOf(model.info, this.classes);
    this.folded = scaleMeanOf(model.preprocessing, model.inputs) !== null;
  }

  /**
   * Decodes (when given bytes) and prepares a model. Throws ModelFormatError for a bad file (or
   * one past the compute bounds, unless options.allowLargeCompute), ShapeError for a model
   * object that contradicts itself. A model object is not held to the compute bounds: it is
   * already decoded (decodeBcnet checked it) or built by the caller.
   */
  static async load(
    source: Uint8Array | ArrayBuffer | BcnetModel,
    options: ClassifierOptions = {},
  ): Promise<BinaryClassifier> {
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.includes(key))
        throw new OptionError(
          `BinaryClassifier.load: unknown option "${key}"`,
          `the options are ${OPTION_KEYS.join(" and ")}`,
        );
    }
    if (options.allowLargeCompute !== undefined && typeof options.allowLargeCompute !== "boolean") {
      throw new OptionError(
        `BinaryClassifier.load: allowLargeCompute is ${String(options.allowLargeCompute)}; expected true or false`,
      );
    }
    if (
      !(source instanceof Uint8Array || source instanceof ArrayBuffer) &&
      (typeof source !== "object" || source === null)
    )
      throw new OptionError(
        `BinaryClassifier.load: expected the model file's bytes (a Uint8Array or ArrayBuffer) or a decoded model, found ${typeof source === "string" ? `the string "${String(source).slice(0, 60)}"` : String(source)}`,
        "read the file first: BinaryClassifier.load(readFileSync(path)) in Node.js, or the bytes of (await fetch(url)).arrayBuffer() in a web page",
      );
    const decodeOptions = { allowLargeCompute: options.allowLargeCompute === true };
    const wanted = options.engine ?? "auto";
    if (!["auto", "wasm", "js"].includes(wanted))
      throw new OptionError(
        `BinaryClassifier.load: engine "${wanted}"; expected auto, wasm or js`,
        "leave engine out (auto: WebAssembly where the runtime has SIMD, else plain JavaScript)",
      );
    const model =
      source instanceof Uint8Array
        ? decodeBcnet(source, "model", decodeOptions)
        : source instanceof ArrayBuffer
          ? decodeBcnet(new Uint8Array(source), "model", decodeOptions)
          : source;
    if (!(source instanceof Uint8Array || source instanceof ArrayBuffer)) checkModel(model, "BinaryClassifier.load");
    const engine: Engine = wanted === "auto" ? (wasmSimdAvailable() ? "wasm" : "js") : wanted;
    return new BinaryClassifier(model, engine, engine === "wasm" ? await WasmEngine.create(model) : null);
  }

  /**
   * Classifies raw inputs, `count` rows of `inputs` values (MNIST: 784 pixels 0..255 per image,
   * row-major 28 x 28; an image model: height x width x channels, NHWC, e.g. RGB interleaved),
   * through the model's preprocessing (model.preprocessing) and its layers.
   */
  predict(raw: ArrayLike<number>, count = this.countOf(raw)): Prediction {
    this.checkCount(raw, count);
    if (this.folded) {
      return this.wasm
        ? this.run(raw, count, true)
        : this.finish(forwardReference(this.model, preprocess(this.model, raw, count), count), count);
    }
    // Other steps: a chunk of rows at a time through them (bounded memory), then the layers.
    const scores = new Float32Array(count * this.classes);
    const chunk = this.wasm?.chunk ?? CHUNK_ROWS;
    for (let start = 0; start < count; start += chunk) {
      const rows = Math.min(chunk, count - start);
      const x = preprocess(this.model, raw, rows, start);
      if (this.wasm) this.wasm.forward(x, 0, rows, false, scores.subarray(start * this.classes));
      else scores.set(forwardReference(this.model, x, rows), start * this.classes);
    }
    return this.finish(scores, count);
  }

  /** Classifies rows that are already preprocessed (`preprocess(model, raw, count)`: what predict does first). */
  predictFeatures(features: ArrayLike<number>, count = this.countOf(features)): Prediction {
    this.checkCount(features, count);
    return this.wasm
      ? this.run(features, count, false)
      : this.finish(forwardReference(this.model, features, count), count);
  }

  private run(x: ArrayLike<number>, count: number, raw: boolean): Prediction {
    const scores = new Float32Array(count * this.classes);
    const chunk = this.wasm!.chunk;
    for (let start = 0; start < count; start += chunk) {
      const rows = Math.min(chunk, count - start);
      this.wasm!.forward(x, start, rows, raw, scores);
    }
    return this.finish(scores, count);
  }

  private finish(scores: Float32Array, count: number): Prediction {
    const K = this.classes;
    const labels = new Int32Array(count);
    for (let m = 0; m < count; m++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (scores[m * K + k] > scores[m * K + best]) best = k;
      labels[m] = best;
    }
    return { count, classes: K, labels, scores };
  }

  private countOf(x: ArrayLike<number>): number {
    return Math.floor(x.length / this.inputs);
  }

  private checkCount(x: ArrayLike<number>, count: number): void {
    if (typeof x !== "object" || x === null || typeof x.length !== "number")
      throw new ShapeError(
        `expected the inputs as a typed array or an array of numbers, found ${typeof x === "string" ? "a string" : String(x)}`,
      );
    if (!Number.isInteger(count) || count < 0)
      throw new OptionError(`count must be an integer >= 0 (the examples in the inputs), found ${count}`);
    if (x.length !== count * this.inputs) {
      const expected =
        x.length % this.inputs !== 0 && count === this.countOf(x)
          ? `a multiple of ${this.inputs} input values (${this.inputs} per example)`
          : `${count} x ${this.inputs} = ${count * this.inputs} input values`;
      throw new ShapeError(
        `expected ${expected}, found ${x.length}`,
        this.model.image
          ? `each example is a ${shapeText(this.model.image)} image (height x width x channels), ${this.inputs} values, NHWC order`
          : `each example is ${this.inputs} values (MNIST: 28 x 28 pixels, row-major)`,
      );
    }
    checkFinite(x, count * this.inputs);
  }
}

/**
 * A DataFormatError at the first input that is NaN or infinite (its scores would be NaN, its
 * class meaningless). One multiply-add a value: the sum of x * 0 is 0 unless one is not finite.
 */
function checkFinite(x: ArrayLike<number>, n: number): void {
  let probe = 0;
  for (let i = 0; i < n; i++) probe += x[i] * 0;
  if (probe === 0) return;
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(x[i]))
      throw new DataFormatError(
        `input value ${i} is ${x[i]}; expected finite numbers`,
        "replace missing or infinite values before classifying",
      );
}
