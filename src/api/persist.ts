/**
 * Saving and loading models (browser-safe). A model file is the checkpoint container
 * (train/checkpointFormat.ts: magic "BCONNECT", version, CRC-32, JSON header, float32 tensors)
 * with meta { kind: "model", network, seed, preprocessing?, training? } and the weights, batch
 * norm statistics, Adam's moments (unless left out) and preprocessing arrays as tensors.
 * Training checkpoints (checkpoint.bin, best.bin of a run folder, of this and earlier versions)
 * load as models too.
 *
 * Where: `model.save("indexeddb://name")` and `"downloads://name"` in a browser, a file path in
 * Node (registered by src/index.ts); `model.toBytes()` anywhere.
 */
import { BinaryConnectError, CheckpointError, OptionError, UsageError } from "../core/errors.js";
import { describeValue } from "../data/dataset.js";
import { checkKnownKeys } from "./knownKeys.js";
import type { NetworkConfig } from "../nn/network.js";
import { decodeCheckpoint, encodeCheckpoint, type NamedArray } from "../train/checkpointFormat.js";
import type { TrainConfig } from "../train/config.js";
import { bestFromJson, type Best, type EpochRecord, type PartialEpoch } from "../train/loop.js";
import { networkOf } from "../train/model.js";
import { preprocessingFromState, preprocessingToState, type PreprocessingMeta } from "../train/preprocessingState.js";
import type { CheckpointMeta } from "../train/runFolder.js";
import { Model, type ModelOptions } from "./model.js";

/** The JSON metadata of a model file. */
export interface ModelFileMeta {
  kind: "model";
  /** The version of this layout (1). */
  format: 1;
  network: NetworkConfig;
  seed: number;
  preprocessing?: PreprocessingMeta;
  training?: {
    config: TrainConfig;
    epochsDone: number;
    step: number;
    best: Best;
    history: EpochRecord[];
    /** The epoch an abort stopped part way (the weights are at that step). */
    partial?: PartialEpoch;
  };
  /** Whether Adam's moments are in the file (exact continuation of training). */
  optimizer: boolean;
}

export interface SaveOptions {
  /** Keep Adam's moments so that training continues exactly (default true; false: about a third of the size). */
  includeOptimizer?: boolean;
}

/** The model as the bytes of a model file. */
export async function modelToBytes(model: Model, opts: SaveOptions = {}): Promise<Uint8Array> {
  checkKnownKeys("save", opts, ["includeOptimizer"]);
  const withOptimizer = opts.includeOptimizer ?? true;
  const { tensors, step } = await model.getState(withOptimizer);
  const meta: ModelFileMeta = {
    kind: "model",
    format: 1,
    network: model.network,
    seed: model.seed,
    optimizer: withOptimizer,
  };
  const all = [...tensors];
  if (model.preprocessing) {
    const p = preprocessingToState(model.preprocessing);
    meta.preprocessing = p.meta;
    all.push(...p.tensors);
  }
  if (model.training) {
    const { config, epochsDone, best, history, partial } = model.training;
    meta.training = { config, epochsDone, step, best, history, ...(partial ? { partial } : {}) };
  }
  return encodeCheckpoint({ meta, tensors: all });
}

/**
 * A model from the bytes of a model file or of a training checkpoint (run folders of the CLI and
 * of fit, this version's and earlier ones'). `options` choose its backend (the seed is the file's).
 */
export function modelFromBytes(bytes: Uint8Array, source: string, options: ModelOptions = {}): Model {
  const { meta, tensors } = decodeCheckpoint<ModelFileMeta | CheckpointMeta | { kind?: unknown }>(bytes, source);
  try {
    if (meta.kind === "model") return fromModelFile(meta as ModelFileMeta, tensors, source, options);
    if (meta.kind === "training") return fromCheckpoint(meta as CheckpointMeta, tensors, source, options);
  } catch (e) {
    // the checksum held, so the file was written as it is: contents no binaryconnect writes
    if (e instanceof BinaryConnectError) throw e;
    throw new CheckpointError(
      `${source}: its contents do not describe a model (${(e as Error).message.split("\n")[0]})`,
      "the file was written by another program or edited; load a model file that binaryconnect wrote",
    );
  }
  throw new CheckpointError(
    `${source}: a binaryconnect file, but not a model or a training checkpoint (kind ${JSON.stringify(meta.kind)})`,
    "prepared data sets and other files cannot be loaded as models",
  );
}

function fromModelFile(meta: ModelFileMeta, tensors: NamedArray[], source: string, options: ModelOptions): Model {
  if (meta.format !== 1)
    throw new CheckpointError(
      `${source}: model file layout ${meta.format}, this binaryconnect reads layout 1`,
      "use the binaryconnect version that wrote it",
    );
  if (meta.training !== undefined) checkTrainingFields(meta.training, source);
  const model = new Model(meta.network, { ...options, seed: meta.seed });
  model.setState(tensors, meta.training?.step ?? 0, meta.optimizer);
  if (meta.preprocessing) model.preprocessing = preprocessingFromState(meta.preprocessing, tensors, source);
  if (meta.training) {
    const { config, epochsDone, best, history, partial } = meta.training;
    model.setTraining({ config, epochsDone, best: bestFromJson(best), history, ...(partial ? { partial } : {}) });
  }
  return model;
}

/** The training state's fields have their types (they are used later: test-time mode, history, continuing). */
function checkTrainingFields(training: unknown, source: string): void {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  const t = isObject(training) ? training : undefined;
  const checks: [boolean, string][] = [
    [t !== undefined, "training is not an object"],
    [isObject(t?.config), "training.config is not an object"],
    [isCount(t?.epochsDone), "training.epochsDone is not a count"],
    [isCount(t?.step), "training.step is not a count"],
    [Array.isArray(t?.history) && t.history.every(isObject), "training.history is not a list of epoch records"],
    [isObject(t?.best), "training.best is not an object"],
    [t?.partial === undefined || isObject(t.partial), "training.partial is not an object"],
  ];
  const failed = checks.find(([ok]) => !ok);
  if (failed)
    throw new CheckpointError(
      `${source}: ${failed[1]}`,
      "the file was written by another program or edited; load a model file that binaryconnect wrote",
    );
}

function fromCheckpoint(meta: CheckpointMeta, tensors: NamedArray[], source: string, options: ModelOptions): Model {
  const { config } = meta;
  const first = tensors.find((t) => t.name === "dense0.W" || t.name === "conv0.W");
  const features = config.network ? 0 : first?.name === "dense0.W" ? first.shape[0] : 0;
  let network: NetworkConfig;
  try {
    network = networkOf(config, features);
  } catch (e) {
    throw new CheckpointError(
      `${source}: cannot rebuild the network of this checkpoint: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const model = new Model(network, { ...options, seed: config.seed });
  const withOptimizer = tensors.some((t) => t.name.endsWith("#m"));
  model.setState(tensors, meta.step, withOptimizer);
  if (meta.preprocessing) model.preprocessing = preprocessingFromState(meta.preprocessing, tensors, source);
  model.setTraining({
    config,
    epochsDone: meta.epochsDone,
    best: bestFromJson(meta.best),
    history: [],
    ...(meta.partial ? { partial: meta.partial } : {}),
  });
  return model;
}

type Saver = (target: string, bytes: Uint8Array) => Promise<string>;
type Loader = (source: string) => Promise<Uint8Array>;

const savers: { scheme: string; save: Saver }[] = [];
const loaders: { scheme: string; load: Loader }[] = [];
let fileSaver: Saver | undefined;
let fileLoader: Loader | undefined;

/** Node: plain paths (and file://) read and write files (src/index.ts registers them). */
export function registerFileStorage(save: Saver, load: Loader): void {
  fileSaver = save;
  fileLoader = load;
}

/**
 * Saves the model: "indexeddb://NAME" (browser storage), "downloads://NAME" (the browser
 * downloads NAME.bcmodel), or a file path / "file://PATH" (Node, written atomically). Returns
 * where it went.
 */
export async function saveModel(model: Model, given: string | URL, opts: SaveOptions = {}): Promise<string> {
  const target = destination(given, "save");
  const scheme = savers.find((s) => hasScheme(target, s.scheme));
  if (scheme) checkName(target, scheme.scheme, "save");
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target) && !hasScheme(target, "file://"))
    throw new OptionError(
      `save: unknown destination "${target}"`,
      "use indexeddb://NAME or downloads://NAME in a browser, a file path in Node",
    );
  const bytes = await modelToBytes(model, opts);
  if (scheme) return scheme.save(target.slice(scheme.scheme.length), bytes);
  if (!fileSaver)
    throw new UsageError(
      `save: "${target}" is a file path, which needs Node.js`,
      "in a browser use indexeddb://NAME or downloads://NAME, or model.toBytes()",
    );
  return fileSaver(filePath(target), bytes);
}

/** A save or load target as a string: a URL object as its address; anything else but a string an OptionError. */
function destination(target: unknown, what: "save" | "load"): string {
  if (typeof target === "string") return target;
  if (target instanceof URL) return target.href;
  throw new OptionError(
    `${what}: expected a file path, a file:// URL, "indexeddb://NAME"${what === "save" ? ' or "downloads://NAME"' : ""}, found ${describeValue(target)}`,
  );
}

/** Whether `target` starts with `scheme` ("indexeddb://"), in any case (as URLs' schemes are). */
function hasScheme(target: string, scheme: string): boolean {
  return target.slice(0, scheme.length).toLowerCase() === scheme;
}

/** An OptionError for a scheme's target without a name ("indexeddb://"). */
function checkName(target: string, scheme: string, what: "save" | "load"): void {
  if (target.length === scheme.length)
    throw new OptionError(`${what}: "${target}" has no name`, `name the model, e.g. "${scheme}mnist-mlp"`);
}

/** A file path, or the path of a file:// URL (its %-escapes decoded). */
function filePath(target: string): string {
  return hasScheme(target, "file://") ? decodeURIComponent(new URL(target).pathname) : target;
}

/** Loads a model saved by `save`, or a training checkpoint: "indexeddb://NAME", a file path (Node), or the bytes. */
export async function loadModel(
  given: string | URL | Uint8Array | ArrayBuffer,
  options: ModelOptions = {},
): Promise<Model> {
  // the seed is the file's (its random streams continue)
  checkKnownKeys("load", options, ["backend", "threads", "simd"]);
  if (given instanceof Uint8Array || given instanceof ArrayBuffer)
    return modelFromBytes(given instanceof Uint8Array ? given : new Uint8Array(given), "the given bytes", options);
  const source = destination(given, "load");
  const scheme = loaders.find((s) => hasScheme(source, s.scheme));
  if (scheme) {
    checkName(source, scheme.scheme, "load");
    return modelFromBytes(await scheme.load(source.slice(scheme.scheme.length)), source, options);
  }
  if (hasScheme(source, "downloads://"))
    throw new OptionError(
      `load: "${source}": downloads:// is where save puts a file for the user; it cannot be read back`,
      "load the downloaded file's bytes instead: bc.loadModel(await file.arrayBuffer()) (e.g. from an <input type=file>)",
    );
  if (/^https?:\/\//i.test(source))
    throw new OptionError(
      `load: "${source}" is a URL; loadModel reads files (Node.js), indexeddb:// and bytes`,
      "fetch it and pass the bytes: bc.loadModel(await (await fetch(url)).arrayBuffer())",
    );
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !hasScheme(source, "file://"))
    throw new OptionError(
      `load: unknown source "${source}"`,
      "use indexeddb://NAME in a browser, a file path in Node, or the bytes",
    );
  if (!fileLoader)
    throw new UsageError(
      `load: "${source}" is a file path, which needs Node.js`,
      "in a browser load from indexeddb://NAME, or pass the bytes (e.g. of a fetch)",
    );
  return modelFromBytes(await fileLoader(filePath(source)), source, options);
}

const DB_NAME = "binaryconnect",
  STORE = "models";

function openDb(): Promise<IDBDatabase> {
  if (typeof indexedDB === "undefined")
    return Promise.reject(new UsageError("indexeddb:// needs a browser with IndexedDB"));
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function idb<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const req = op(db.transaction(STORE, mode).objectStore(STORE));
        req.onsuccess = () => {
          db.close();
          resolve(req.result);
        };
        req.onerror = () => {
          db.close();
          reject(req.error);
        };
      }),
  );
}

savers.push(
  {
    scheme: "indexeddb://",
    save: async (name, bytes) => {
      await idb("readwrite", (s) => s.put(bytes, name));
      return `indexeddb://${name}`;
    },
  },
  {
    scheme: "downloads://",
    save: async (name, bytes) => {
      if (typeof document === "undefined") throw new UsageError("downloads:// needs a web page");
      const url = URL.createObjectURL(new Blob([bytes.slice().buffer], { type: "application/octet-stream" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = name.endsWith(".bcmodel") ? name : `${name}.bcmodel`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      return `downloads://${a.download}`;
    },
  },
);
loaders.push({
  scheme: "indexeddb://",
  load: async (name) => {
    const value = await idb<unknown>("readonly", (s) => s.get(name));
    if (!(value instanceof Uint8Array))
      throw new CheckpointError(
        `indexeddb://${name}: no model saved under that name`,
        'save it first with model.save("indexeddb://NAME")',
      );
    return value;
  },
});
