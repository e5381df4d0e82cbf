import type { Backend } from "../backends/backend.js";
import type { Sequential } from "../nn/sequential.js";
import type { TestTime } from "../nn/binarization.js";
import { gatherBatch, type LabeledSet } from "./dataset.js";
import { AbortCheck } from "./abortCheck.js";

export interface EvalResult {
  /** Mean square hinge loss (for ensembles: of the averaged outputs is not defined; NaN). */
  loss: number;
  /** Fraction of misclassified examples. */
  error: number;
}

/**
 * Key counters for ensemble samples, far from any training step's counters. The stream key takes
 * counter * slotsPerStep + slot modulo 2^32 (core/rng.ts streamKey), so the base times the
 * slots per step (16 for the MLP, 32 for the general network) must stay below 2^32:
 * 2^26 steps (a 0x40000000 base wrapped around to step 0's streams).
 */
const ENSEMBLE_COUNTER_BASE = 0x04000000;

/**
 * Test error of `model` on `set` with a test-time mode (paper section 2.6): deterministic
 * binary weights, real weights, or the average output of N stochastically binarized networks.
 * An aborted `signal` stops it before its next batch (with the signal's reason).
 */
export async function evaluate(
  model: Sequential,
  set: LabeledSet,
  testTime: TestTime,
  batchSize: number,
  signal?: AbortSignal,
): Promise<EvalResult> {
  const be = model.backend;
  const metrics = be.alloc([2]);
  const check = signal ? new AbortCheck(signal) : undefined;
  let errors = 0;
  try {
    for (let start = 0; start < set.n; start += batchSize) {
      if (check) {
        if (check.due()) await check.turn();
        check.throwIfAborted();
      }
      const rows = Math.min(batchSize, set.n - start);
      const { x, y } = uploadBatch(be, set, start, rows);
      try {
        if (testTime.kind === "ensemble") {
          errors += await ensembleErrors(model, x, set.y.subarray(start, start + rows), testTime.samples);
        } else {
          model.evaluateBatch(x, y, testTime.kind, metrics);
        }
      } finally {
        be.dispose(x);
        be.dispose(y);
      }
    }
    const [lossSum, metricErrors] = await be.read(metrics);
    if (testTime.kind === "ensemble") return { loss: Number.NaN, error: errors / set.n };
    return { loss: lossSum / set.n, error: metricErrors / set.n };
  } finally {
    be.dispose(metrics);
  }
}

function uploadBatch(be: Backend, set: LabeledSet, start: number, rows: number) {
  const xs = new Float32Array(rows * set.features),
    ys = new Float32Array(rows);
  gatherBatch(set, null, start, rows, xs, ys);
  const x = be.alloc([rows, set.features]),
    y = be.alloc([rows]);
  be.upload(x, xs);
  be.upload(y, ys);
  return { x, y };
}

async function ensembleErrors(
  model: Sequential,
  x: import("../core/tensor.js").Tensor,
  labels: Float32Array,
  samples: number,
): Promise<number> {
  const classes = model.classes;
  const sum = new Float64Array(labels.length * classes);
  for (let s = 0; s < samples; s++) {
    const logits = await model.backend.read(model.forward(x, "sample", ENSEMBLE_COUNTER_BASE + s));
    for (let i = 0; i < sum.length; i++) sum[i] += logits[i];
  }
  let errors = 0;
  for (let m = 0; m < labels.length; m++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (sum[m * classes + k] > sum[m * classes + best]) best = k;
    if (best !== labels[m]) errors++;
  }
  return errors;
}
