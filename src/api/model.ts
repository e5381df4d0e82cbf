/**
 * The model of the library: a network description (plain data), its weights on a backend, its
 * input preprocessing and its training state. One class for MLPs and CNNs, real and binary
 * layers mixed. Browser-safe: files, run folders and the CLI are reached through src/index.ts.
 *
 *   const model = bc.sequential({ inputShape: [784], layers: [bc.layers.dense({ units: 256 }), ...] });
 *   await model.fit(train, { epochs: 10, validation: 0.1 });
 *   const { labels } = await model.predict(test);
 */
import { checkKnownKeys } from "./knownKeys.js";
import type { Backend } from "../backends/backend.js";
import { BACKEND_NAMES, createBackend, type BackendName } from "../backends/index.js";
import { SIMD_CHOICES, type SimdChoice } from "../backends/wasm/simd.js";
import { MAX_THREADS } from "../backends/wasm/threads.js";
import { DataFormatError, OptionError, ShapeError, UsageError } from "../core/errors.js";
import {
  asFloat32,
  checkDataset,
  checkFinite,
  describeValue,
  type Dataset,
  type NumericArray,
} from "../data/dataset.js";
import { withTrainingClasses } from "../data/classes.js";
import { quotedList } from "../data/csv.js";
import { applyPreprocessing, checkShape, type Preprocessing } from "../data/preprocessing.js";
import { defaultTestTime, type TestTime } from "../nn/binarization.js";
import { Network, validateNetwork, type NetworkConfig } from "../nn/network.js";
import { formatSummary, summarizeNetwork, type LayerSummary } from "../nn/summary.js";
import type { NamedArray } from "../train/checkpointFormat.js";
import type { TrainConfig } from "../train/config.js";
import type { LabeledSet } from "../train/dataset.js";
import { evaluate as evaluateSet } from "../train/evaluate.js";
import { NO_BEST, type Best, type EpochRecord, type PartialEpoch } from "../train/loop.js";
import { readModelState, writeModelState } from "../train/modelState.js";
import { fit, type FitOptions, type History } from "./fit.js";
import { modelToBytes, saveModel, type SaveOptions } from "./persist.js";
import { modelRun, toBcnet, type RunModel } from "../export/modelRun.js";
import { toOnnx } from "../export/onnx.js";
import { encodeBcnet } from "../format/encode.js";
import { decodeBcnet } from "../format/decode.js";

export interface ModelOptions {
  /** Compute backend (default "auto": webgpu on a hardware GPU, else wasm), or a backend you created. */
  backend?: BackendName | Backend;
  /** Threads of the wasm backend (default: the cores). */
  threads?: number;
  simd?: SimdChoice;
  /** Seed of the initial weights and of every random stream (shuffling, stochastic binarization, dropout). Default 1. */
  seed?: number;
}

/** The training state a model carries between `fit` calls and into saved files. */
export interface TrainingState {
  /** The settings of the run (epochs = its total so far). */
  config: TrainConfig;
  epochsDone: number;
  best: Best;
  /** Every epoch's metrics, from the first. */
  history: EpochRecord[];
  /** Epoch epochsDone + 1 so far, when an abort stopped it part way (the weights are at that step): fit continues it from there. */
  partial?: PartialEpoch;
}

export interface ModelSummary {
  rows: LayerSummary[];
  params: number;
  /** Parameters stored as 1 bit once deployed. */
  binaryParams: number;
  float32Bytes: number;
  /** Bytes with binary weights packed 1 bit each (the rest float32). */
  packedBytes: number;
  /** The table as text. */
  toString(): string;
}

export interface Prediction {
  count: number;
  classes: number;
  /** count x classes scores (the network's outputs), row-major. */
  scores: Float32Array;
  /** The class of each example (argmax of its scores). */
  labels: Int32Array;
}

export type TestTimeOption = "binary" | "real" | `ensemble:${number}` | TestTime;

/** Examples to predict: values (a Float32Array, another numeric typed array or numbers), { x, n }, or a Dataset. */
export type PredictInput = Dataset | NumericArray | { x: NumericArray; n?: number };

export class Model {
  /** The input preprocessing (fitted by `fit({ preprocess })`, or set); applied to every input that is not marked preprocessed. */
  preprocessing: Preprocessing | undefined;
  /** Set by `fit` (and by loading a trained model). */
  training: TrainingState | undefined;
  readonly seed: number;
  private engine: Network | undefined;
  /** Set by dispose: the weights are gone, so a later use is an error (not a model rebuilt from its seed). */
  private disposed = false;
  private backendInstance: Backend | undefined;
  private ownsBackend = false;
  /** Weights (and optimizer state) waiting for the engine: a loaded model builds it on first use. */
  private pendingState: { tensors: NamedArray[]; step: number; withOptimizer: boolean } | undefined;

  constructor(
    readonly network: NetworkConfig,
    readonly options: ModelOptions = {},
  ) {
    this.seed = options.seed ?? 1;
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff)
      throw new OptionError(
        `model: seed must be an integer from 0 to 4294967295 (32 bits), found ${options.seed}`,
        "a larger seed would silently equal its remainder modulo 2^32",
      );
    checkModelOptions(options);
    validateNetwork(network);
  }

  /** The shape of one input example. */
  get inputShape(): readonly number[] {
    return this.network.input;
  }

  /** Values per input example. */
  get inputSize(): number {
    return this.network.input.reduce((a, b) => a * b, 1);
  }

  /** The classes' names in label order, where the data `fit` trained on named them (kept in saved files); else undefined. */
  get classNames(): readonly string[] | undefined {
    return this.training?.config.classNames;
  }

  /** The names of an example's values where the training set had them (a CSV file's header columns; exported .bcnet files keep them). */
  get featureNames(): readonly string[] | undefined {
    return this.training?.config.featureNames;
  }

  /** The number of classes (the last dense layer's units). */
  get classes(): number {
    const dense = this.network.layers.filter((l) => l.kind === "dense");
    const last = dense[dense.length - 1];
    if (last?.kind !== "dense") throw new OptionError("model: the network has no dense layer (the classes)");
    return last.units;
  }

  /** Parameters and memory per layer: float32, and with binary weights at 1 bit. */
  summary(): ModelSummary {
    const rows = summarizeNetwork(this.network, true);
    const sum = (f: (r: LayerSummary) => number) => rows.reduce((s, r) => s + f(r), 0);
    const text = formatSummary(rows);
    return {
      rows,
      params: sum((r) => r.params),
      binaryParams: sum((r) => r.binary),
      float32Bytes: sum((r) => r.float32Bytes),
      packedBytes: sum((r) => r.packedBytes),
      toString: () => `input [${this.network.input.join(", ")}], ${this.classes} classes\n${text}`,
    };
  }

  /** The backend the model's weights live on (created on first use). */
  async backend(): Promise<Backend> {
    if (this.disposed)
      throw new UsageError(
        "model: this model was disposed (its weights were freed)",
        "load it again (bc.loadModel, bc.modelFromBytes) or build a new one; dispose a model after its last use",
      );
    if (!this.backendInstance) {
      const b = this.options.backend ?? "auto";
      if (typeof b === "string") {
        this.backendInstance = await createBackend(b, { threads: this.options.threads, simd: this.options.simd });
        this.ownsBackend = true;
      } else {
        this.backendInstance = b;
      }
    }
    return this.backendInstance;
  }

  /** The engine network with the model's weights (built on first use, from the seed or the loaded state). */
  async engineNetwork(): Promise<Network> {
    if (this.engine) return this.engine;
    const backend = await this.backend();
    const net = Network.create(backend, this.network, this.seed);
    if (this.pendingState) {
      writeModelState(net, this.pendingState.tensors, this.pendingState.withOptimizer, "the loaded model");
      net.optimizer.t = this.pendingState.step;
      this.pendingState = undefined;
    }
    this.engine = net;
    return net;
  }

  /** Sets the weights (and optionally the optimizer state) from named arrays, as read from a file. */
  setState(tensors: NamedArray[], step: number, withOptimizer: boolean): void {
    if (this.engine) {
      writeModelState(this.engine, tensors, withOptimizer, "the given state");
      this.engine.optimizer.t = step;
    } else {
      this.pendingState = { tensors, step, withOptimizer };
    }
  }

  /** The weights, batch-norm statistics and (withOptimizer) Adam's moments as named arrays. */
  async getState(withOptimizer: boolean): Promise<{ tensors: NamedArray[]; step: number }> {
    if (!this.engine && this.pendingState && (!withOptimizer || this.pendingState.withOptimizer)) {
      return { tensors: this.pendingState.tensors, step: this.pendingState.step };
    }
    const net = await this.engineNetwork();
    return { tensors: await readModelState(net, withOptimizer), step: net.step };
  }

  /** The test-time weights of this model unless told otherwise: binary for a det network, real otherwise (paper section 2.6). */
  defaultTestTime(): TestTime {
    return this.training?.config.testTime ?? defaultTestTime(this.network.binarization);
  }

  /**
   * The examples in the model's input space: the preprocessing applied unless the set is
   * marked preprocessed; the shape and classes checked against the model's.
   */
  async prepare(given: Dataset, what: string, training: TrainingNames = this): Promise<LabeledSet> {
    const data = byFeatureNames(
      byClassNames(checkDataset(given, what), training.classNames, what),
      training.featureNames,
      what,
    );
    if (!(data.n >= 1))
      throw new ShapeError(
        `${what}: the set is empty (${data.n} examples)`,
        "an error rate over no examples is not a number: give at least one example, or leave the set out",
      );
    const input = this.network.input;
    if (
      data.features !== this.inputSize ||
      (input.length === 3 && data.shape.length === 3 && `${data.shape}` !== `${input}`)
    ) {
      throw new ShapeError(
        `${what}: examples of shape [${data.shape}] (${data.features} values), the model takes [${this.network.input}] (${this.inputSize})`,
        "give data of the model's input shape (images as [height, width, channels]), or build the model for this data's shape",
      );
    }
    checkLabels(data, this.classes, what);
    // a lazily computed set (`example`: a pipeline's) is made one example at a time; its values are not scanned here
    if (!data.example) checkFinite(data.x, data.features, what);
    if (data.preprocessed || !this.preprocessing) return data;
    checkShape(
      this.preprocessing,
      data.shape.length === this.preprocessing.shape.length ? data.shape : this.preprocessing.shape,
    );
    const x = await applyPreprocessing(this.preprocessing, materialize(data), data.n);
    return { x, y: data.y, n: data.n, features: data.features };
  }

  /**
   * Trains the model (paper Algorithm 1): see FitOptions. Returns the run's history. Calling it
   * again with more epochs continues the run; with checkpointDir, a run interrupted at any
   * point continues exactly where its last epoch ended.
   */
  fit(train: Dataset, opts: FitOptions = {}): Promise<History> {
    return fit(this, train, opts);
  }

  /** Loss (square hinge) and error on a labelled set, with the model's test-time weights or those asked for. */
  async evaluate(
    data: Dataset,
    opts: { testTime?: TestTimeOption; batchSize?: number } = {},
  ): Promise<{ loss: number; error: number; accuracy: number }> {
    checkKnownKeys("evaluate", opts, ["testTime", "batchSize"]);
    const testTime = toTestTime(opts.testTime) ?? this.defaultTestTime();
    const batch = batchSizeOption(opts.batchSize ?? this.training?.config.evalBatchSize ?? 500, "evaluate");
    const set = await this.prepare(data, "evaluate");
    const net = await this.engineNetwork();
    const r = await evaluateSet(net, set, testTime, batch);
    return { loss: r.loss, error: r.error, accuracy: 1 - r.error };
  }

  /** The scores and classes of examples (raw inputs: the model's preprocessing is applied). */
  async predict(
    input: PredictInput,
    opts: { testTime?: "binary" | "real"; batchSize?: number } = {},
  ): Promise<Prediction> {
    checkKnownKeys("predict", opts, ["testTime", "batchSize"]);
    if (opts.testTime !== undefined && opts.testTime !== "binary" && opts.testTime !== "real")
      throw new OptionError(
        `predict: testTime must be "binary" or "real", found ${JSON.stringify(opts.testTime)}`,
        'an ensemble\'s error is measured by evaluate({ testTime: "ensemble:N" })',
      );
    const batch = batchSizeOption(opts.batchSize ?? 500, "predict");
    const { x, n, preprocessed } = predictInput(input, this.inputSize);
    checkFiniteInputs(x, "predict");
    const rows = preprocessed || !this.preprocessing ? x : await applyPreprocessing(this.preprocessing, x, n);
    const net = await this.engineNetwork();
    const be = net.backend;
    const weights = opts.testTime ?? (this.defaultTestTime().kind === "binary" ? "binary" : "real");
    const classes = this.classes,
      F = this.inputSize;
    const scores = new Float32Array(n * classes);
    for (let start = 0; start < n; start += batch) {
      const count = Math.min(batch, n - start);
      const t = be.alloc([count, F]);
      be.upload(t, rows.subarray(start * F, (start + count) * F));
      scores.set(await be.read(net.forward(t, weights)), start * classes);
      be.dispose(t);
    }
    const labels = new Int32Array(n);
    for (let m = 0; m < n; m++) {
      let best = 0;
      for (let k = 1; k < classes; k++) if (scores[m * classes + k] > scores[m * classes + best]) best = k;
      labels[m] = best;
    }
    return { count: n, classes, scores, labels };
  }

  /** Saves the model (weights, preprocessing, training state): "indexeddb://NAME", "downloads://NAME", or a file path in Node. */
  save(target: string | URL, opts: SaveOptions = {}): Promise<string> {
    return saveModel(this, target, opts);
  }

  /** The model file's bytes (what `save` writes; `bc.loadModel(bytes)` reads them). */
  toBytes(opts: SaveOptions = {}): Promise<Uint8Array> {
    return modelToBytes(this, opts);
  }

  /**
   * The model as a .bcnet file: 1 bit per weight, batch norm folded, its preprocessing included
   * (docs/FORMAT.md); run it with `binaryconnect/infer`. Every conv and dense layer must be binary.
   */
  async exportBcnet(): Promise<Uint8Array> {
    const bytes = encodeBcnet(toBcnet(await this.deployable()));
    // what a reader will see: checks the file before it is returned (the compute bounds guard against untrusted files, not ours)
    decodeBcnet(bytes, "the exported model", { allowLargeCompute: true });
    return bytes;
  }

  /** The model as ONNX (opset 13): binary layers as float weights +-H, real ones as trained, the preprocessing as the graph's first nodes. */
  async exportOnnx(): Promise<Uint8Array> {
    return toOnnx(await this.deployable());
  }

  private async deployable(): Promise<RunModel> {
    const { tensors } = await this.getState(false);
    return modelRun(this.network, tensors, this.preprocessing, "the model", this.training ?? {});
  }

  /** Frees the weights, and the backend when the model created it. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.engine?.dispose();
    this.engine = undefined;
    if (this.ownsBackend) await this.backendInstance?.close();
    this.backendInstance = undefined;
  }

  /** Internal: the training state after a fit. */
  setTraining(state: TrainingState): void {
    this.training = state;
  }

  /** The best validation epoch so far (NO_BEST before training). */
  get best(): Best {
    return this.training?.best ?? NO_BEST;
  }
}

/** The names a set is matched to: the training data's classes and features. */
export interface TrainingNames {
  readonly classNames?: readonly string[];
  readonly featureNames?: readonly string[];
}

/**
 * A set whose features are named otherwise than the model's (`names`: the training data's) with
 * its values in the model's order, where the names are the same ones in another order (a
 * DataFormatError where they are not). A set without names, or with the same ones, as it is.
 */
function byFeatureNames(data: Dataset, names: readonly string[] | undefined, what: string): Dataset {
  const own = data.featureNames;
  if (!names || !own || data.example || sameNames(own, names)) return data;
  const order = names.map((n) => own.indexOf(n));
  if (own.length !== names.length || order.includes(-1))
    throw new DataFormatError(
      `${what}: its features are named ${quotedList(own)}; the model's are ${quotedList(names)}`,
      "give the model's features (parseCsv / loadCsv read a file by them with columns: model.featureNames)",
    );
  const f = names.length,
    x = new Float32Array(data.n * f);
  for (let i = 0; i < data.n; i++) for (let k = 0; k < f; k++) x[i * f + k] = data.x[i * f + order[k]];
  return { ...data, x, featureNames: [...names] };
}

/**
 * A set whose class names differ from the model's (`names`: the training data's) numbered by the
 * model's names (it may hold some of them only; a name the model lacks is a DataFormatError).
 * A set without names, or with the same ones, as it is.
 */
function byClassNames(data: Dataset, names: readonly string[] | undefined, what: string): Dataset {
  if (!names || !data.classNames || data.example || sameNames(data.classNames, names)) return data;
  const renumbered = withTrainingClasses(data, { count: names.length, names }, what);
  return data.preprocessed ? { ...renumbered, preprocessed: true } : renumbered;
}

/** Whether two lists of names are the same, in the same order. */
function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** Every label an integer in 0..classes-1, else an OptionError naming the first bad one. */
export function checkLabels(data: { y: Float32Array; n: number }, classes: number, what: string): void {
  for (let i = 0; i < data.n; i++) {
    const label = data.y[i];
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
      throw new OptionError(
        `${what}: example ${i}'s label is ${label}, outside the model's ${classes} classes 0..${classes - 1}`,
        "build the model with as many output units as the data has classes, or fix the labels",
      );
    }
  }
}

function materialize(d: LabeledSet): Float32Array {
  if (!d.example) return d.x;
  const x = new Float32Array(d.n * d.features);
  for (let i = 0; i < d.n; i++) d.example(i, x, i * d.features);
  return x;
}

function predictInput(input: PredictInput, features: number): { x: Float32Array; n: number; preprocessed: boolean } {
  const isObject = typeof input === "object" && input !== null;
  if (!isObject || ArrayBuffer.isView(input) || Array.isArray(input)) {
    const x = asFloat32(input, "predict");
    if (x.length === 0 || x.length % features !== 0)
      throw new ShapeError(`predict: ${x.length} values are not a whole number of examples of ${features} values`);
    return { x, n: x.length / features, preprocessed: false };
  }
  if ("features" in input) {
    const set = checkDataset(input, "predict");
    if (set.features !== features)
      throw new ShapeError(`predict: examples of ${set.features} values, the model takes ${features}`);
    return { x: materialize(set), n: set.n, preprocessed: Boolean(set.preprocessed) };
  }
  if (!("x" in input))
    throw new ShapeError(
      `predict: expected examples (a Float32Array, { x, n } or a Dataset), found ${describeValue(input)}`,
    );
  const x = asFloat32(input.x, "predict: x");
  const n = input.n ?? x.length / features;
  if (!(Number.isInteger(n) && n >= 1) || x.length !== n * features)
    throw new ShapeError(`predict: ${n} examples of ${features} values need ${n * features} values, found ${x.length}`);
  return { x, n, preprocessed: false };
}

/** A DataFormatError at the first value that is NaN or infinite (its scores would be NaN). */
function checkFiniteInputs(x: Float32Array, what: string): void {
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i]))
      throw new DataFormatError(
        `${what}: value ${i} of the inputs is ${x[i]}; expected finite numbers`,
        "replace missing or infinite values before predicting",
      );
}

/** The backend, threads and simd options checked when the model is made, not at its first use. */
function checkModelOptions(o: ModelOptions): void {
  const b = o.backend;
  if (typeof b !== "object" && b !== undefined && !BACKEND_NAMES.includes(b))
    throw new OptionError(
      `model: backend must be one of ${BACKEND_NAMES.join(", ")} or a Backend, found ${JSON.stringify(b)}`,
    );
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1 && o.threads <= MAX_THREADS))
    throw new OptionError(
      `model: threads must be an integer from 1 to ${MAX_THREADS}, found ${JSON.stringify(o.threads)}`,
    );
  if (o.simd !== undefined && !SIMD_CHOICES.includes(o.simd))
    throw new OptionError(`model: simd must be one of ${SIMD_CHOICES.join(", ")}, found ${JSON.stringify(o.simd)}`);
}

/** A batch size: an integer >= 1, else an OptionError. */
export function batchSizeOption(batch: number, what: string): number {
  if (!(Number.isInteger(batch) && batch >= 1))
    throw new OptionError(`${what}: batchSize must be an integer >= 1, found ${batch}`);
  return batch;
}

/** A test-time option as the engine's TestTime. */
export function toTestTime(t: TestTimeOption | undefined): TestTime | undefined {
  if (t === undefined || typeof t === "object") return t;
  if (t === "binary" || t === "real") return { kind: t };
  const m = /^ensemble:(\d+)$/.exec(t);
  if (m && Number(m[1]) >= 1) return { kind: "ensemble", samples: Number(m[1]) };
  throw new OptionError(
    `testTime must be "binary", "real" or "ensemble:N", found ${JSON.stringify(t)}`,
    'e.g. "ensemble:5": the mean of the scores of 5 networks with weights sampled as in stochastic training',
  );
}

/** Throws unless the model has been trained or loaded with weights. */
export function requireWeights(model: Model, what: string): void {
  if (!model.training)
    throw new UsageError(`${what}: the model has not been trained`, "call fit first, or load a trained model");
}
