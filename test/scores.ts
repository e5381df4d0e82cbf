/**
 * Comparing two engines' class scores (rows of 10), as the deploy tests do: elementwise
 * |got - want| <= ATOL + RTOL |want|, and the same argmax on every row.
 */
import { join } from "node:path";
import type { Backend } from "../src/backends/backend.js";
import type { WeightMode } from "../src/nn/layer.js";
import type { Sequential } from "../src/nn/sequential.js";
import { loadCheckpoint } from "../src/train/checkpoint.js";
import { createModel } from "../src/train/model.js";
import { writeModelState } from "../src/train/modelState.js";
import { BEST_FILE, type CheckpointMeta } from "../src/train/trainer.js";

export const ATOL = 1e-4, RTOL = 1e-4;
const CLASSES = 10;

/** The class of row `m`: the first maximum. */
export function argmax(scores: Float32Array, m: number): number {
  let best = 0;
  for (let k = 1; k < CLASSES; k++) if (scores[m * CLASSES + k] > scores[m * CLASSES + best]) best = k;
  return best;
}

/** Largest |a - b| - (ATOL + RTOL |b|) (<= 0: within tolerance), the largest |a - b|, and how many rows' argmax differ. */
export function compareScores(got: Float32Array, want: Float32Array): { excess: number; maxAbs: number; classDiffs: number } {
  let excess = -Infinity, maxAbs = 0, classDiffs = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    excess = Math.max(excess, Number.isNaN(d) ? Infinity : d - (ATOL + RTOL * Math.abs(want[i])));
    maxAbs = Math.max(maxAbs, d);
  }
  for (let m = 0; m < want.length / CLASSES; m++) if (argmax(got, m) !== argmax(want, m)) classDiffs++;
  return { excess, maxAbs, classDiffs };
}

/** The training engine's scores for the first `n` rows of `x` with the model of a run folder's best.bin (MLP or CNN, as it was trained). */
export async function bestModelScores(backend: Backend, dir: string, x: Float32Array, features: number, n: number, batch: number, weights: WeightMode): Promise<Float32Array> {
  const path = join(dir, BEST_FILE);
  const ckpt = loadCheckpoint<CheckpointMeta>(path);
  const model = createModel(backend, ckpt.meta.config, features);
  try {
    writeModelState(model, ckpt.tensors, false, path);
    return await engineScores(backend, model, x, features, n, batch, weights);
  } finally {
    model.dispose();
  }
}

/** The training engine's scores for the first `n` rows of `x` (features per row: `features`), `batch` rows a pass. */
export async function engineScores(backend: Backend, model: Sequential, x: Float32Array, features: number, n: number, batch: number, weights: WeightMode): Promise<Float32Array> {
  const out = new Float32Array(n * CLASSES);
  for (let s = 0; s < n; s += batch) {
    const t = backend.alloc([batch, features]);
    backend.upload(t, x.subarray(s * features, (s + batch) * features));
    out.set(await backend.read(model.forward(t, weights)), s * CLASSES);
    backend.dispose(t);
  }
  return out;
}
