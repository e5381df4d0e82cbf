/**
 * CIFAR-10 ready to train, as the authors prepared it (pylearn2's make_cifar10_gcn_whitened.py):
 * GCN with scale 55, then ZCA (filter_bias 0.1) fit on the 50,000 training images and applied to
 * both sets; split 45,000 / 5,000 (the last 5,000 training images) / 10,000 test. Computed once
 * (`binaryconnect data cifar10`) and cached as float32 NHWC rows in
 * <cache>/cifar10/gcn55-zca0.1/{train,test,zca}.bin (the checkpoint container: magic, version,
 * CRC-32, JSON metadata), written atomically.
 */
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../backends/backend.js";
import { DataFormatError } from "../core/errors.js";
import { encodeCheckpoint, loadCheckpoint, MAGIC } from "../train/checkpoint.js";
import type { NamedArray } from "../train/checkpointFormat.js";
import { prepareDir, writeFileAtomic } from "./cache.js";
import { CIFAR10_CLASSES, CIFAR10_MD5, loadCifar10Raw, planesToHwc } from "./cifar10.js";
import { fetchCifar10, type FetchCifar10Options } from "./cifar10Fetch.js";
import { applyZca, fitZca, globalContrastNormalize } from "./preprocess.js";
import type { Dataset } from "./dataset.js";
import type { SplitLimit } from "./split.js";

export const CIFAR10_GCN_SCALE = 55;
export const CIFAR10_ZCA_BIAS = 0.1;
export const CIFAR10_VALIDATION = 5000;
/** Bumped when the preprocessing changes: older caches are then rebuilt. */
export const CIFAR10_PREP_VERSION = 1;

interface PreparedMeta {
  kind: "cifar10-preprocessed";
  version: number;
  set: "train" | "test";
  gcnScale: number;
  zcaFilterBias: number;
  layout: "NHWC 32x32x3";
  /** md5 of the binary batches it was made from. */
  sources: Record<string, string>;
}

export function cifar10PreparedDir(cacheDir: string): string {
  return join(cacheDir, "cifar10", `gcn${CIFAR10_GCN_SCALE}-zca${CIFAR10_ZCA_BIAS}`);
}

export interface PrepareCifar10Options extends FetchCifar10Options {
  /** Runs the large products (covariance, whitening: ~1 TFLOP) - the wasm backend. */
  backend: Backend;
  /** Stage progress (covariance, eigendecomposition, whitening). */
  progress?: (stage: string, fraction: number) => void;
}

/** Fetches (unless cached) and preprocesses (unless cached); returns the prepared folder. */
export async function prepareCifar10(opts: PrepareCifar10Options): Promise<string> {
  const log = opts.log ?? (() => {});
  const md5 = opts.md5 ?? CIFAR10_MD5;
  const binDir = await fetchCifar10(opts);
  const dir = cifar10PreparedDir(opts.cacheDir);
  prepareDir(dir);
  if (preparedIsCurrent(dir, md5)) {
    log(`CIFAR-10: ${dir} already holds the preprocessed sets`);
    return dir;
  }
  log("CIFAR-10: reading the batches (md5 verified again)");
  const raw = loadCifar10Raw(binDir, md5);
  const train = planesToHwc(raw.train.images, raw.train.n, 32, 32, 3),
    test = planesToHwc(raw.test.images, raw.test.n, 32, 32, 3);
  log(`CIFAR-10: global contrast normalization (scale ${CIFAR10_GCN_SCALE})`);
  globalContrastNormalize(train, raw.train.n, 3072, { scale: CIFAR10_GCN_SCALE });
  globalContrastNormalize(test, raw.test.n, 3072, { scale: CIFAR10_GCN_SCALE });
  log(
    `CIFAR-10: fitting ZCA (filter_bias ${CIFAR10_ZCA_BIAS}) on the ${raw.train.n} training images: covariance, then a 3072x3072 eigendecomposition (minutes)`,
  );
  const zca = await fitZca(train, raw.train.n, 3072, {
    filterBias: CIFAR10_ZCA_BIAS,
    backend: opts.backend,
    progress: opts.progress,
  });
  log("CIFAR-10: whitening the training and test images");
  const trainW = await applyZca(zca, train, raw.train.n, { backend: opts.backend, progress: opts.progress });
  const testW = await applyZca(zca, test, raw.test.n, { backend: opts.backend, progress: opts.progress });
  const base = {
    kind: "cifar10-preprocessed",
    version: CIFAR10_PREP_VERSION,
    gcnScale: CIFAR10_GCN_SCALE,
    zcaFilterBias: CIFAR10_ZCA_BIAS,
    layout: "NHWC 32x32x3",
    sources: md5,
  } as const;
  /** A file of the prepared folder: the checkpoint container, with the preparation in its metadata. */
  const write = (file: string, set: PreparedMeta["set"], tensors: NamedArray[]) =>
    writeFileAtomic(join(dir, file), encodeCheckpoint({ meta: { ...base, set } satisfies PreparedMeta, tensors }));
  /** One set: its whitened images x [n, 3072] (NHWC rows) and labels y [n]. */
  const writeSet = (set: PreparedMeta["set"], x: Float32Array, split: { n: number; labels: Uint8Array }) =>
    write(`${set}.bin`, set, [
      { name: "x", shape: [split.n, 3072], data: x },
      { name: "y", shape: [split.n], data: Float32Array.from(split.labels) },
    ]);
  write("zca.bin", "train", [
    { name: "mean", shape: [3072], data: zca.mean },
    { name: "P", shape: [3072, 3072], data: zca.P },
  ]);
  writeSet("test", testW, raw.test);
  // train.bin last: its presence marks a complete preparation
  writeSet("train", trainW, raw.train);
  log(`CIFAR-10: wrote ${dir}/{train,test,zca}.bin`);
  return dir;
}

function preparedIsCurrent(dir: string, md5: Record<string, string>): boolean {
  if (!["train.bin", "test.bin", "zca.bin"].every((f) => existsSync(join(dir, f)))) return false;
  const meta = readMeta(join(dir, "train.bin"));
  return meta?.version === CIFAR10_PREP_VERSION && JSON.stringify(meta.sources) === JSON.stringify(md5);
}

/**
 * The JSON metadata of a prepared file, read from its header only (the checkpoint container:
 * "BCONNECT", version, header length, CRC, JSON), without loading its data; null when unreadable.
 */
function readMeta(path: string): PreparedMeta | null {
  const fd = openSync(path, "r");
  try {
    const prefix = new Uint8Array(20);
    if (readSync(fd, prefix, 0, 20, 0) !== 20 || new TextDecoder().decode(prefix.subarray(0, 8)) !== MAGIC) return null;
    const length = new DataView(prefix.buffer).getUint32(12, true);
    const header = new Uint8Array(length);
    if (readSync(fd, header, 0, length, 20) !== length) return null;
    return (JSON.parse(new TextDecoder().decode(header)) as { meta: PreparedMeta }).meta;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** What a prepared set is: 32 x 32 RGB images of the 10 classes, already preprocessed (GCN + ZCA). */
const PREPARED = { shape: [32, 32, 3], classes: 10, classNames: CIFAR10_CLASSES, preprocessed: true } as const;

/** The file of a prepared set in the cache folder; a DataFormatError naming the command that prepares it where it is missing. */
export function preparedCifar10File(cacheDir: string, set: "train" | "test"): string {
  const path = join(cifar10PreparedDir(cacheDir), `${set}.bin`);
  if (!existsSync(path))
    throw new DataFormatError(
      `CIFAR-10 is not prepared: ${path} is missing`,
      `run \`binaryconnect data cifar10\` first (it fetches and preprocesses once), or pass --data with the cache folder it used`,
    );
  return path;
}

/** One prepared set (train: 50,000; test: 10,000) as float32 NHWC rows (shape [32, 32, 3], preprocessed). */
export function loadPreparedCifar10(cacheDir: string, set: "train" | "test"): Dataset {
  const path = preparedCifar10File(cacheDir, set);
  const { meta, tensors } = loadCheckpoint<PreparedMeta>(path);
  if (meta.kind !== "cifar10-preprocessed" || meta.set !== set || meta.version !== CIFAR10_PREP_VERSION) {
    throw new DataFormatError(
      `${path}: not a prepared CIFAR-10 ${set} set of version ${CIFAR10_PREP_VERSION} (found ${meta.kind} ${meta.set} v${meta.version})`,
      "run `binaryconnect data cifar10` again",
    );
  }
  const x = tensors.find((t) => t.name === "x"),
    y = tensors.find((t) => t.name === "y");
  if (!x || !y || x.shape[1] !== 3072 || x.shape[0] !== y.shape[0])
    throw new DataFormatError(`${path}: expected tensors x [n, 3072] and y [n]`);
  return { x: x.data, y: y.data, n: y.shape[0], features: 3072, ...PREPARED };
}

/**
 * The paper's split: train = the first 45,000 training images, validation = the last 5,000
 * (`validation`), test = 10,000. `limit` keeps the first n of each split.
 */
export function cifar10Splits(
  cacheDir: string,
  limit: SplitLimit = {},
  validation = CIFAR10_VALIDATION,
): { train: Dataset; validation: Dataset; test: Dataset } {
  const all = loadPreparedCifar10(cacheDir, "train"),
    test = loadPreparedCifar10(cacheDir, "test");
  const nTrain = all.n - validation;
  if (nTrain <= 0)
    throw new DataFormatError(
      `CIFAR-10: ${all.n} training images, not more than the ${validation} of the validation split`,
    );
  const rows = (d: Dataset, start: number, n: number, keep: number | undefined, name: string): Dataset => {
    const k = keep ?? n;
    if (!Number.isInteger(k) || k < 0 || k > n)
      throw new DataFormatError(`CIFAR-10: the ${name} split has ${n} images, cannot keep ${k}`);
    return {
      x: d.x.subarray(start * 3072, (start + k) * 3072),
      y: d.y.subarray(start, start + k),
      n: k,
      features: 3072,
      ...PREPARED,
    };
  };
  return {
    train: rows(all, 0, nTrain, limit.train, "train"),
    validation: rows(all, nTrain, validation, limit.validation, "validation"),
    test: rows(test, 0, test.n, limit.test, "test"),
  };
}
