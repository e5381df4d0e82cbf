import type { Binarization, TestTime } from "../nn/binarization.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import type { MeanFrom } from "../data/split.js";

/**
 * Everything that defines a training run. The CLI only parses flags into this object;
 * presets fill it; checkpoints store it so `--resume` continues the same run.
 */
export interface TrainConfig {
  /** The preset this configuration came from. */
  preset: string;
  dataset: "mnist";
  /** Hidden layer widths of the MLP. */
  hidden: number[];
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
  /** Which images the per-pixel mean comes from (see data/split.ts). */
  meanFrom: MeanFrom;
}
