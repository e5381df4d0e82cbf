import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../backends/backend.js";
import { CheckpointError, NumericalError } from "../core/errors.js";
import type { Sequential } from "../nn/sequential.js";
import { exponentialLr } from "../optim/schedule.js";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import type { TrainConfig } from "./config.js";
import { epochOrder, gatherBatch, type LabeledSet } from "./dataset.js";
import { evaluate } from "./evaluate.js";
import { createModel } from "./model.js";
import { readModelState, writeModelState } from "./modelState.js";

/** One line of metrics.jsonl. Errors are fractions (0.0123 = 1.23 %). */
export interface EpochRecord {
  epoch: number;
  train_loss: number;
  train_error: number;
  val_loss: number;
  val_error: number;
  /** Test error at the best validation epoch so far. */
  test_error: number;
  best_epoch: number;
  lr: number;
  /** Wall time of the epoch (training + evaluation), seconds. */
  seconds: number;
  /** Training examples per second (training steps only). */
  examples_per_second: number;
}

/** What the checkpoint stores besides tensors. */
export interface CheckpointMeta {
  kind: "training";
  config: TrainConfig;
  epochsDone: number;
  step: number;
  best: { valError: number; testError: number; epoch: number };
}

export interface Splits {
  train: LabeledSet;
  validation: LabeledSet;
  test: LabeledSet;
}

export interface TrainCallbacks {
  onEpochStart?(epoch: number, batches: number): void;
  onBatch?(batch: number, batches: number, examplesPerSecond: number): void;
  onEpochEnd?(record: EpochRecord): void;
}

export interface TrainOptions {
  config: TrainConfig;
  backend: Backend;
  data: Splits;
  /** Run folder: metrics.jsonl, checkpoint.bin (every epoch), best.bin (best validation). */
  outDir?: string;
  /** Continue from outDir's checkpoint (the config is taken from the checkpoint). */
  resume?: boolean;
  callbacks?: TrainCallbacks;
  /** Stop after this many epochs of this call (tests of interrupted runs). */
  maxEpochsThisCall?: number;
}

export interface TrainResult {
  model: Sequential;
  records: EpochRecord[];
  best: CheckpointMeta["best"];
}

export const CHECKPOINT_FILE = "checkpoint.bin";
export const BEST_FILE = "best.bin";
export const METRICS_FILE = "metrics.jsonl";

/** Kept here for the callers that import it from the trainer. */
export { mlpConfigOf } from "./model.js";

/**
 * BinaryConnect training (paper Algorithm 1, the authors' training loop): shuffle every
 * epoch, train with the exponentially decayed learning rate, validate every epoch, and
 * measure the test error whenever the validation error is <= the best so far.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { backend, data, outDir, callbacks = {} } = opts;
  if (outDir) mkdirSync(outDir, { recursive: true });
  const start = opts.resume ? resumeState(opts) : null;
  const config = start?.meta.config ?? opts.config;
  const model = createModel(backend, config, data.train.features);
  let best = { valError: Infinity, testError: Number.NaN, epoch: 0 };
  let firstEpoch = 0;
  if (start) {
    writeModelState(model, start.tensors, true, join(outDir!, CHECKPOINT_FILE));
    model.optimizer.t = start.meta.step;
    best = start.meta.best;
    firstEpoch = start.meta.epochsDone;
    truncateMetrics(outDir!, firstEpoch);
  } else if (outDir) {
    writeFileSync(join(outDir, METRICS_FILE), "");
    writeFileSync(join(outDir, "config.json"), JSON.stringify(config, null, 2) + "\n");
  }
  const records: EpochRecord[] = [];
  const lastEpoch = Math.min(config.epochs, firstEpoch + (opts.maxEpochsThisCall ?? Infinity));
  for (let epoch = firstEpoch; epoch < lastEpoch; epoch++) {
    const started = performance.now();
    const record = await runEpoch(model, config, data, epoch, best, callbacks);
    if (record.val_error <= best.valError) {
      best = { valError: record.val_error, testError: (await evaluate(model, data.test, config.testTime, config.evalBatchSize)).error, epoch: epoch + 1 };
      if (outDir) await saveModel(model, config, epoch + 1, best, join(outDir, BEST_FILE), false);
    }
    record.test_error = best.testError;
    record.best_epoch = best.epoch;
    record.seconds = (performance.now() - started) / 1000;
    if (outDir) {
      await saveModel(model, config, epoch + 1, best, join(outDir, CHECKPOINT_FILE), true);
      appendFileSync(join(outDir, METRICS_FILE), JSON.stringify(record) + "\n");
    }
    records.push(record);
    callbacks.onEpochEnd?.(record);
  }
  return { model, records, best };
}

/**
 * Trains one epoch and validates. The caller completes the record: test_error and best_epoch
 * after its best-validation check, and seconds (which then include that test evaluation).
 */
async function runEpoch(model: Sequential, config: TrainConfig, data: Splits, epoch: number, best: CheckpointMeta["best"], cb: TrainCallbacks): Promise<EpochRecord> {
  const be = model.backend;
  const started = performance.now();
  const { train } = data;
  const batches = Math.floor(train.n / config.batchSize);
  const order = epochOrder(train.n, config.seed, epoch);
  const lr = exponentialLr(config.lrStart, config.lrEnd, config.epochs, epoch);
  const xs = new Float32Array(config.batchSize * train.features), ys = new Float32Array(config.batchSize);
  const x = be.alloc([config.batchSize, train.features]), y = be.alloc([config.batchSize]), metrics = be.alloc([2]);
  cb.onEpochStart?.(epoch + 1, batches);
  for (let b = 0; b < batches; b++) {
    gatherBatch(train, order, b * config.batchSize, config.batchSize, xs, ys);
    be.upload(x, xs);
    be.upload(y, ys);
    model.trainStep(x, y, lr, metrics);
    cb.onBatch?.(b + 1, batches, ((b + 1) * config.batchSize) / ((performance.now() - started) / 1000));
  }
  const [lossSum, errors] = await be.read(metrics);
  const trainSeconds = (performance.now() - started) / 1000;
  for (const t of [x, y, metrics]) be.dispose(t);
  const examples = batches * config.batchSize;
  if (!Number.isFinite(lossSum)) {
    throw new NumericalError(
      `training loss became ${lossSum} in epoch ${epoch + 1} (learning rate ${lr.toExponential(2)})`,
      "the last checkpoint holds the previous epoch; lower the learning rate and resume or restart",
    );
  }
  const val = await evaluate(model, data.validation, config.testTime, config.evalBatchSize);
  return {
    epoch: epoch + 1, train_loss: lossSum / examples, train_error: errors / examples, val_loss: val.loss, val_error: val.error,
    test_error: best.testError, best_epoch: best.epoch, lr, seconds: trainSeconds, examples_per_second: examples / trainSeconds,
  };
}

async function saveModel(model: Sequential, config: TrainConfig, epochsDone: number, best: CheckpointMeta["best"], path: string, withOptimizer: boolean): Promise<void> {
  const meta: CheckpointMeta = { kind: "training", config, epochsDone, step: model.step, best };
  saveCheckpoint(path, { meta, tensors: await readModelState(model, withOptimizer) });
}

function resumeState(opts: TrainOptions) {
  if (!opts.outDir) throw new CheckpointError("resume needs the run folder (--resume DIR)");
  const path = join(opts.outDir, CHECKPOINT_FILE);
  const ckpt = loadCheckpoint<CheckpointMeta>(path);
  if (ckpt.meta.kind !== "training") throw new CheckpointError(`${path} is not a training checkpoint`);
  return ckpt;
}

/** Keeps the metrics of epochs 1..epochs (lines written after the checkpoint are dropped). */
function truncateMetrics(outDir: string, epochs: number): void {
  const path = join(outDir, METRICS_FILE);
  if (!existsSync(path)) return;
  const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
  const kept = lines.filter((l) => (JSON.parse(l) as EpochRecord).epoch <= epochs);
  writeFileSync(path, kept.map((l) => l + "\n").join(""));
}
