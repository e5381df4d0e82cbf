import { CheckpointError } from "../core/errors.js";
import { loadCheckpoint, type NamedArray } from "../train/checkpoint.js";
import type { CheckpointMeta } from "../train/trainer.js";
import type { PlotRun } from "./runs.js";

/** The real-valued weights of a run's first layer, as stored in its checkpoint. */
export interface FirstLayer {
  /** dense [inputs, units] (src/nn/dense.ts) or conv [kh, kw, Cin, Cout] (src/nn/conv2d.ts). */
  weights: NamedArray;
  /** The checkpoint it came from (best.bin, else checkpoint.bin). */
  source: string;
  /** Epochs trained when that checkpoint was written. */
  epoch: number;
}

/**
 * The first layer's weight tensor of a run: the first parameter named "*.W" in the
 * checkpoint (parameters are stored in layer order: src/train/modelState.ts), i.e. dense0.W
 * of an MLP or conv0.W of a CNN. Null when the run has no checkpoint yet.
 */
export function firstLayerWeights(run: PlotRun): FirstLayer | null {
  if (!run.checkpoint) return null;
  const ckpt = loadCheckpoint<CheckpointMeta>(run.checkpoint);
  const weights = ckpt.tensors.find((t) => t.name.endsWith(".W") && (t.shape.length === 2 || t.shape.length === 4));
  if (!weights) {
    throw new CheckpointError(
      `${run.checkpoint}: no dense or convolution weight tensor ("*.W") among ${ckpt.tensors.map((t) => t.name).join(", ")}`,
      "the file was not written by binaryconnect train",
    );
  }
  return { weights, source: run.checkpoint, epoch: ckpt.meta.epochsDone };
}
