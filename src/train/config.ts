import type { Binarization, TestTime } from "../nn/binarization.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import type { MeanFrom } from "../data/split.js";
import type { NetworkConfig } from "../nn/network.js";
import type { OwnDataKind, OwnDataSource } from "./ownData.js";

/** The datasets a run can train on (each with its paper preprocessing and split: src/train/data.ts). */
export type DatasetName = "mnist" | "cifar10" | "svhn" | "cifar100";
export const DATASET_NAMES: readonly DatasetName[] = ["mnist", "cifar10", "svhn", "cifar100"];

/** What a run trains on: a paper dataset, the user's own data read by the CLI (src/train/ownData.ts), or data given to the library ("custom"). */
export type RunDataset = DatasetName | OwnDataKind | "custom";

/** True for the paper's datasets (each with its own images, split and preprocessing). */
export function isPaperDataset(dataset: RunDataset): dataset is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(dataset);
}

/** The shape of one example, [H, W, C] (stored row-major as H W C features, NHWC). */
export const DATASET_IMAGE: Record<DatasetName, [number, number, number]> = {
  mnist: [28, 28, 1],
  cifar10: [32, 32, 3],
  svhn: [32, 32, 3],
  cifar100: [32, 32, 3],
};

/**
 * Everything that defines a training run. The CLI only parses flags into this object;
 * presets fill it; checkpoints store it so `--resume` continues the same run.
 */
export interface TrainConfig {
  /** The preset this configuration came from ("custom": a model built with the library). */
  preset: string;
  /** The paper's dataset the run trains on, the user's own data ("csv", "images"), or "custom" (data the library was given). */
  dataset: RunDataset;
  /** Own data ("csv", "images"): the files and how they are read and split. */
  source?: OwnDataSource;
  /** The names of the classes, in label order, where the training data has them. */
  classNames?: string[];
  /** The training set's feature names (a CSV file's header columns), where it had them: files with a header are read by them. */
  featureNames?: string[];
  /**
   * The network, layer by layer (runs of the library); absent: the MLP of `hidden` or the
   * network of `architecture` on the dataset's images (runs of the presets).
   */
  network?: NetworkConfig;
  /** Number of classes (absent: 10, every paper dataset). */
  classes?: number;
  /** The learning-rate schedule from lrStart to lrEnd (absent: "exponential", the authors'). */
  schedule?: LrScheduleName;
  /** Stop when the validation error has not improved for this many epochs (absent: never). */
  earlyStopping?: { patience: number };
  /** What the run trained on (checked on resume; eval and export read the same data by default). */
  data?: DataIdentity;
  /** Hidden layer widths of the MLP (used when `architecture` is absent). */
  hidden: number[];
  /**
   * The network in the paper's notation, e.g. "(2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10"
   * (src/nn/architecture.ts); absent: the MLP of `hidden` (configurations written before the CNNs).
   */
  architecture?: string;
  mode: Binarization;
  H: number;
  /** Dropout probabilities (both 0 unless the run asked for dropout). */
  dropout: { input: number; hidden: number };
  batchNorm: { variant: BatchNormVariant; eps: number; momentum: number };
  batchSize: number;
  epochs: number;
  /** Adam learning rate, decayed exponentially from lrStart to lrEnd over `epochs`. */
  lrStart: number;
  lrEnd: number;
  seed: number;
  /** How validation and test errors are measured (paper section 2.6). */
  testTime: TestTime;
  /** Examples per forward pass during evaluation (does not change results). */
  evalBatchSize: number;
  /** Use only the first n examples of each split (quick tests); undefined = all. */
  limit?: { train?: number; validation?: number; test?: number };
  /** MNIST: which images the per-pixel mean comes from (see data/split.ts). Unused by the other datasets. */
  meanFrom: MeanFrom;
}

export type LrScheduleName = "exponential" | "cosine";
export const LR_SCHEDULES: readonly LrScheduleName[] = ["exponential", "cosine"];

/**
 * The identity of a run's training data: where it came from (a folder given with --data, or a
 * description) and a fingerprint of its training split (CRC-32 of labels and values, with the
 * counts), so that a resumed run can tell whether it is given the same data.
 */
export interface DataIdentity {
  /** Absolute folder of `--data`, absent for the bundled MNIST or for in-memory data. */
  dir?: string;
  /** The training split: examples, values per example, fingerprint (hex). */
  train: { n: number; features: number; fingerprint: string };
}
