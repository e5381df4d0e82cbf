import { OptionError } from "../core/errors.js";
import type { BatchNormVariant } from "../kernels/contract.js";
import type { AdamOptions } from "../optim/adam.js";
import type { LayerSpec } from "./architecture.js";
import type { Binarization } from "./binarization.js";
import type { NetworkConfig } from "./network.js";

/** The permutation-invariant MLP of the paper: (Dense -> BN -> ReLU) x hidden, then Dense -> BN. */
export interface MlpConfig {
  inputs: number;
  hidden: number[];
  classes: number;
  binarization: Binarization;
  /** Binary weight magnitude (1 in the authors' code). */
  H: number;
  /** Dropout probabilities on the input and on each hidden layer's output (0 = none). */
  dropout: { input: number; hidden: number };
  batchNorm: { variant: BatchNormVariant; eps: number; momentum: number };
  adam?: AdamOptions;
}

/** Random-stream slots of the MLP: dense layer d uses slot d; dropout k uses slot 8 + k (16 slots per step). */
const DROPOUT_SLOT = 8;
export const SLOTS_PER_STEP = 16;

/**
 * The MLP as a network description (one model class: src/nn/network.ts builds it). The random
 * slots are pinned as the MLP has always used them, so runs and checkpoints of earlier
 * versions give the same numbers: dense layer d slot d, dropout k slot 8 + k, 16 per step.
 */
export function mlpNetwork(config: MlpConfig): NetworkConfig {
  const sizes = [...config.hidden, config.classes];
  if (sizes.length > DROPOUT_SLOT)
    throw new OptionError(`at most ${DROPOUT_SLOT} dense layers are supported, found ${sizes.length}`);
  const layers: LayerSpec[] = [];
  let dropouts = 0;
  const addDropout = (p: number) => {
    if (p > 0) layers.push({ kind: "dropout", p, slot: DROPOUT_SLOT + dropouts++ });
  };
  addDropout(config.dropout.input);
  sizes.forEach((units, i) => {
    layers.push({ kind: "dense", units, slot: i }, { kind: "batchnorm" });
    if (i < sizes.length - 1) {
      layers.push({ kind: "relu" });
      addDropout(config.dropout.hidden);
    }
  });
  return {
    input: [config.inputs],
    layers,
    binarization: config.binarization,
    H: config.H,
    batchNorm: config.batchNorm,
    slotsPerStep: SLOTS_PER_STEP,
    ...(config.adam ? { adam: config.adam } : {}),
  };
}
