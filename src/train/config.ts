import type { Binarization, TestTime } from "../nn/binarization.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import type { MeanFrom } from "../data/split.js";

/** The datasets a run can train on (each with its paper preprocessing and split: src/train/data.ts). */
export type DatasetName = "mnist" | "cifar10" | "svhn";
export const DATASET_NAMES: readonly DatasetName[] = ["mnist", "cifar10", "svhn"];

/** The shape of one example, [H, W, C] (stored row-major as H W C features, NHWC). */
export const DATASET_IMAGE: Record<DatasetName, [number, number, number]> = {
  mnist: [28, 28, 1],
  cifar10: [32, 32, 3],
  svhn: [32, 32, 3],
};

/**
 * Everything that defines a training run. The CLI only parses flags into this object;
 * presets fill it; checkpoints store it so `--resume` continues the same run.
 */
export interface TrainConfig {
  /** The preset this configuration came from. */
  preset: string;
  dataset: DatasetName;
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
