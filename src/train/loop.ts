/**
 * The BinaryConnect training loop (paper Algorithm 1, the authors' training loop), free of any
 * Node API so that it runs in web pages too: shuffle every epoch, train with the scheduled
 * learning rate, validate every epoch, measure the test error whenever the validation error is
 * <= the best so far, stop early or on an abort signal. What is kept between epochs (a run
 * folder, IndexedDB, nothing) is the caller's RunStore.
 */
import { NumericalError } from "../core/errors.js";
import type { Sequential } from "../nn/sequential.js";
import { scheduledLr } from "../optim/schedule.js";
import type { TrainConfig } from "./config.js";
import { epochOrder, gatherBatch, type LabeledSet } from "./dataset.js";
import { evaluate } from "./evaluate.js";

/** One line of metrics.jsonl. Errors are fractions (0.0123 = 1.23 %); NaN (null in JSON) where there is no such split. */
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

/** The best validation epoch so far (the paper reports the test error at it). */
export interface Best {
  valError: number;
  testError: number;
  epoch: number;
}

export interface Splits {
  train: LabeledSet;
  validation: LabeledSet;
  test: LabeledSet;
}

/** The sets a loop trains and measures on: validation and test may be absent. */
export interface LoopData {
  train: LabeledSet;
  validation?: LabeledSet;
  test?: LabeledSet;
}

export interface TrainCallbacks {
  onEpochStart?(epoch: number, batches: number): void;
  /** After each training step (no device read: the loss of a batch is not known here). */
  onBatch?(batch: number, batches: number, examplesPerSecond: number): void;
  onEpochEnd?(record: EpochRecord): void | Promise<void>;
}

/** Where a run's state goes after each epoch (a run folder in Node; nothing in memory-only training). */
export interface RunStore {
  /** The model at a new best validation epoch (no optimizer state needed). */
  saveBest(model: Sequential, config: TrainConfig, epochsDone: number, best: Best): Promise<void>;
  /** The full state after an epoch (exact resume), then the epoch's metrics. */
  saveEpoch(model: Sequential, config: TrainConfig, epochsDone: number, best: Best, record: EpochRecord): Promise<void>;
}

export interface LoopOptions {
  config: TrainConfig;
  model: Sequential;
  data: LoopData;
  /** Epochs already done (resume) and the best epoch among them. */
  epochsDone: number;
  best: Best;
  callbacks?: TrainCallbacks;
  store?: RunStore;
  /** Stop after this many epochs of this call (tests of interrupted runs). */
  maxEpochsThisCall?: number;
  /** Checked before every step: an aborted signal stops the loop with its reason. */
  signal?: AbortSignal;
}

export interface LoopResult {
  records: EpochRecord[];
  best: Best;
  epochsDone: number;
  /** Early stopping ended the run before its last epoch. */
  stoppedEarly: boolean;
}

export const NO_BEST: Best = { valError: Infinity, testError: Number.NaN, epoch: 0 };

/** Runs epochs epochsDone+1 .. config.epochs (or fewer: maxEpochsThisCall, early stopping, abort). */
export async function runEpochs(opts: LoopOptions): Promise<LoopResult> {
  const { config, model, data, store, callbacks = {} } = opts;
  let best = opts.best;
  const records: EpochRecord[] = [];
  const lastEpoch = Math.min(config.epochs, opts.epochsDone + (opts.maxEpochsThisCall ?? Infinity));
  let epoch = opts.epochsDone;
  let stoppedEarly = false;
  for (; epoch < lastEpoch; epoch++) {
    if (config.earlyStopping && best.epoch > 0 && epoch - best.epoch >= config.earlyStopping.patience) {
      stoppedEarly = true;
      break;
    }
    const started = performance.now();
    const record = await runEpoch(model, config, data, epoch, best, callbacks, opts.signal);
    if (!data.validation || record.val_error <= best.valError) {
      const testError = data.test ? (await evaluate(model, data.test, config.testTime, config.evalBatchSize)).error : Number.NaN;
      best = { valError: data.validation ? record.val_error : Number.NaN, testError, epoch: epoch + 1 };
      await store?.saveBest(model, config, epoch + 1, best);
    }
    record.test_error = best.testError;
    record.best_epoch = best.epoch;
    record.seconds = (performance.now() - started) / 1000;
    await store?.saveEpoch(model, config, epoch + 1, best, record);
    records.push(record);
    await callbacks.onEpochEnd?.(record);
  }
  return { records, best, epochsDone: epoch, stoppedEarly };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException("training was aborted", "AbortError");
}

/**
 * Trains one epoch and validates. The caller completes the record: test_error and best_epoch
 * after its best-validation check, and seconds (which then include that test evaluation).
 */
async function runEpoch(model: Sequential, config: TrainConfig, data: LoopData, epoch: number, best: Best, cb: TrainCallbacks, signal?: AbortSignal): Promise<EpochRecord> {
  const be = model.backend;
  const started = performance.now();
  const { train } = data;
  const batches = Math.floor(train.n / config.batchSize);
  const order = epochOrder(train.n, config.seed, epoch);
  const lr = scheduledLr(config.schedule ?? "exponential", config.lrStart, config.lrEnd, config.epochs, epoch);
  const xs = new Float32Array(config.batchSize * train.features), ys = new Float32Array(config.batchSize);
  const x = be.alloc([config.batchSize, train.features]), y = be.alloc([config.batchSize]), metrics = be.alloc([2]);
  cb.onEpochStart?.(epoch + 1, batches);
  try {
    for (let b = 0; b < batches; b++) {
      throwIfAborted(signal);
      gatherBatch(train, order, b * config.batchSize, config.batchSize, xs, ys);
      be.upload(x, xs);
      be.upload(y, ys);
      model.trainStep(x, y, lr, metrics);
      cb.onBatch?.(b + 1, batches, ((b + 1) * config.batchSize) / ((performance.now() - started) / 1000));
    }
  } catch (e) {
    for (const t of [x, y, metrics]) be.dispose(t);
    throw e;
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
  const val = data.validation ? await evaluate(model, data.validation, config.testTime, config.evalBatchSize) : { loss: Number.NaN, error: Number.NaN };
  return {
    epoch: epoch + 1, train_loss: lossSum / examples, train_error: errors / examples, val_loss: val.loss, val_error: val.error,
    test_error: best.testError, best_epoch: best.epoch, lr, seconds: trainSeconds, examples_per_second: examples / trainSeconds,
  };
}
