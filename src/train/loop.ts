/**
 * The BinaryConnect training loop (paper Algorithm 1, the authors' training loop), free of any
 * Node API so that it runs in web pages too: shuffle every epoch, train with the scheduled
 * learning rate, validate every epoch, measure the test error whenever the validation error is
 * <= the best so far, stop early or on an abort signal. What is kept between epochs (a run
 * folder, IndexedDB, nothing) is the caller's RunStore; an aborted epoch is kept there too (a
 * checkpoint at the batch it stopped after, from which it continues exactly). A loss or
 * parameter that is not finite stops the run before anything of its epoch is saved.
 */
import { NumericalError } from "../core/errors.js";
import type { Sequential } from "../nn/sequential.js";
import { scheduledLr } from "../optim/schedule.js";
import type { TrainConfig } from "./config.js";
import { epochOrder, gatherBatch, type LabeledSet } from "./dataset.js";
import { AbortCheck } from "./abortCheck.js";
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

/** What a checkpoint keeps of an epoch: its record without the timings (which depend on the machine, not on the run). */
export type EpochResult = Omit<EpochRecord, "seconds" | "examples_per_second">;

/** The record without its timings, its fields in the order of metrics.jsonl. */
export function epochResult(r: EpochRecord): EpochResult {
  return {
    epoch: r.epoch,
    train_loss: r.train_loss,
    train_error: r.train_error,
    val_loss: r.val_loss,
    val_error: r.val_error,
    test_error: r.test_error,
    best_epoch: r.best_epoch,
    lr: r.lr,
  };
}

/**
 * An epoch stopped part way (an aborted run, e.g. on SIGTERM): the checkpoint holds the state
 * after `batch` steps of epoch `epoch`, and what those steps measured, so that the epoch
 * continues at the next step as if it had not stopped.
 */
export interface PartialEpoch {
  /** The epoch in progress (from 1: epochsDone + 1). */
  epoch: number;
  /** Steps of it taken (1..batches; batches: its training was done, its evaluation was not). */
  batch: number;
  /** The steps' loss sum and error count, as the device accumulated them (float32 values). */
  lossSum: number;
  errors: number;
  /** Seconds of the steps, and of the epoch so far. */
  trainSeconds: number;
  seconds: number;
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
  /** Whether what it saves outlives the process, as a run folder's checkpoints (default true): error messages say what is kept. */
  readonly persistent?: boolean;
  /** The model at a new best validation epoch (no optimizer state needed). */
  saveBest(model: Sequential, config: TrainConfig, epochsDone: number, best: Best): Promise<void>;
  /** The full state after an epoch (exact resume), then the epoch's metrics. */
  saveEpoch(model: Sequential, config: TrainConfig, epochsDone: number, best: Best, record: EpochRecord): Promise<void>;
  /** The full state in the middle of epoch epochsDone + 1, when the run is aborted there. */
  savePartial?(
    model: Sequential,
    config: TrainConfig,
    epochsDone: number,
    best: Best,
    partial: PartialEpoch,
  ): Promise<void>;
}

export interface LoopOptions {
  config: TrainConfig;
  model: Sequential;
  data: LoopData;
  /** Epochs already done (resume) and the best epoch among them. */
  epochsDone: number;
  best: Best;
  /** Continue epoch epochsDone + 1 part way (a checkpoint of an aborted run). */
  partial?: PartialEpoch;
  /** The store already holds the state the loop starts from (a resumed checkpoint): error messages say so. */
  stored?: boolean;
  callbacks?: TrainCallbacks;
  store?: RunStore;
  /** Stop after this many epochs of this call (tests of interrupted runs). */
  maxEpochsThisCall?: number;
  /**
   * Early stopping's count starts at the first epoch that reached the best validation error
   * (default: best.epoch). A later epoch that only ties it is the best epoch (the authors' rule:
   * its test error is the result) but is no improvement: the patience keeps counting.
   */
  improvedAt?: number;
  /**
   * Told the epoch so far (and the best epoch before it) when an abort stops the loop part way
   * through an epoch (after the store, if any, has saved it), so that the caller can continue it
   * from that step in memory, as a run folder's checkpoint would.
   */
  keepPartial?(partial: PartialEpoch, best: Best): void;
  /**
   * Checked before every step (and every evaluation batch): an aborted signal stops the loop
   * with its reason, after the store (if any) has saved the epoch so far. With a signal, the
   * loop yields to the event loop every few milliseconds, so that signal handlers run.
   */
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

/**
 * A best epoch as saved in a file's JSON metadata, with the numbers JSON wrote as null: NaN (no
 * validation or test set), or before the first best epoch (epoch 0: a checkpoint part way
 * through epoch 1) a validation error of Infinity.
 */
export function bestFromJson(saved: Best): Best {
  const best = saved as { valError: number | null; testError: number | null; epoch: number };
  return {
    valError: best.valError ?? (best.epoch === 0 ? Infinity : Number.NaN),
    testError: best.testError ?? Number.NaN,
    epoch: best.epoch,
  };
}

/** Runs epochs epochsDone+1 .. config.epochs (or fewer: maxEpochsThisCall, early stopping, abort). */
export async function runEpochs(opts: LoopOptions): Promise<LoopResult> {
  const { config, model, data, store, callbacks = {} } = opts;
  let best = opts.best;
  let improvedAt = opts.improvedAt ?? best.epoch;
  const records: EpochRecord[] = [];
  const lastEpoch = Math.min(config.epochs, opts.epochsDone + (opts.maxEpochsThisCall ?? Infinity));
  let epoch = opts.epochsDone;
  let stoppedEarly = false;
  // what the store holds, for the messages of a diverged run
  const keeps = store !== undefined && store.persistent !== false;
  let kept =
    keeps && opts.stored
      ? opts.partial
        ? `epoch ${opts.partial.epoch} at step ${opts.partial.batch}`
        : `after epoch ${opts.epochsDone}`
      : undefined;
  const diverged = (what: string, epochNumber: number): NumericalError => {
    const hint = !keeps
      ? "the last checkpoint holds the previous epoch where a run keeps checkpoints (this one has no run folder); lower the learning rate and start again"
      : kept
        ? `the run's last checkpoint (${kept}) is kept: nothing of epoch ${epochNumber} was saved. Resuming would repeat the same steps; start a new run with a lower learning rate`
        : "no checkpoint was written; start again with a lower learning rate";
    return new NumericalError(what, hint);
  };
  const saving = async (epochNumber: number, save: () => Promise<void> | undefined): Promise<void> => {
    try {
      await save();
    } catch (e) {
      if (e instanceof NumericalError)
        throw diverged(
          `the parameters became non-finite in epoch ${epochNumber}: ${e.message.split("\n")[0]}`,
          epochNumber,
        );
      throw e;
    }
  };
  // one clock for the whole call: epochs shorter than its period still give signal handlers their turn
  const check = opts.signal ? new AbortCheck(opts.signal) : undefined;
  for (; epoch < lastEpoch; epoch++) {
    if (config.earlyStopping && improvedAt > 0 && epoch - improvedAt >= config.earlyStopping.patience) {
      stoppedEarly = true;
      break;
    }
    const partial = opts.partial?.epoch === epoch + 1 ? opts.partial : undefined;
    const started = performance.now() - 1000 * (partial?.seconds ?? 0);
    const result = await runEpoch({
      model,
      config,
      data,
      epoch,
      best,
      cb: callbacks,
      signal: opts.signal,
      check,
      partial,
      diverged,
      savePartial:
        keeps && store.savePartial
          ? async (p) => {
              await saving(epoch + 1, () => store.savePartial!(model, config, epoch, best, p));
              kept = `epoch ${p.epoch} at step ${p.batch}`;
              opts.keepPartial?.(p, best);
            }
          : opts.keepPartial
            ? async (p) => opts.keepPartial!(p, best)
            : undefined,
    });
    const { record } = result;
    if (result.best) {
      if (!(result.best.valError >= best.valError)) improvedAt = result.best.epoch;
      best = result.best;
      await saving(epoch + 1, () => store?.saveBest(model, config, epoch + 1, best));
    }
    record.test_error = best.testError;
    record.best_epoch = best.epoch;
    record.seconds = (performance.now() - started) / 1000;
    await saving(epoch + 1, () => store?.saveEpoch(model, config, epoch + 1, best, record));
    kept = `after epoch ${epoch + 1}`;
    records.push(record);
    await callbacks.onEpochEnd?.(record);
  }
  return { records, best, epochsDone: epoch, stoppedEarly };
}

interface EpochContext {
  model: Sequential;
  config: TrainConfig;
  data: LoopData;
  /** Epochs done before this one. */
  epoch: number;
  best: Best;
  cb: TrainCallbacks;
  signal?: AbortSignal;
  /** The signal's check, kept across the epochs of a call. */
  check?: AbortCheck;
  partial?: PartialEpoch;
  diverged(what: string, epochNumber: number): NumericalError;
  /** Saves the epoch so far when it is aborted. */
  savePartial?(partial: PartialEpoch): Promise<void>;
}

/**
 * Trains one epoch (from the step after `partial`'s, if given), validates, and measures the
 * test error at a new best validation error. The caller completes the record: test_error and
 * best_epoch after its best-validation check, and seconds (which then include the saves).
 */
async function runEpoch(c: EpochContext): Promise<{ record: EpochRecord; best: Best | null }> {
  const { model, config, data, epoch, partial } = c;
  const be = model.backend;
  const started = performance.now();
  const { train } = data;
  const batches = Math.floor(train.n / config.batchSize);
  const order = epochOrder(train.n, config.seed, epoch);
  const lr = scheduledLr(config.schedule ?? "exponential", config.lrStart, config.lrEnd, config.epochs, epoch);
  const xs = new Float32Array(config.batchSize * train.features),
    ys = new Float32Array(config.batchSize);
  const x = be.alloc([config.batchSize, train.features]),
    y = be.alloc([config.batchSize]),
    metrics = be.alloc([2]);
  const first = partial?.batch ?? 0;
  if (partial) be.upload(metrics, Float32Array.of(partial.lossSum, partial.errors));
  const check = c.check;
  let done = first;
  let trainSeconds: number | undefined;
  c.cb.onEpochStart?.(epoch + 1, batches);
  try {
    for (let b = first; b < batches; b++) {
      if (check) {
        if (check.due()) await check.turn();
        check.throwIfAborted();
      }
      gatherBatch(train, order, b * config.batchSize, config.batchSize, xs, ys);
      be.upload(x, xs);
      be.upload(y, ys);
      model.trainStep(x, y, lr, metrics);
      done = b + 1;
      c.cb.onBatch?.(b + 1, batches, ((b + 1 - first) * config.batchSize) / ((performance.now() - started) / 1000));
    }
    const [lossSum, errors] = await be.read(metrics);
    trainSeconds = (partial?.trainSeconds ?? 0) + (performance.now() - started) / 1000;
    if (!Number.isFinite(lossSum))
      throw c.diverged(
        `training loss became ${lossSum} in epoch ${epoch + 1} (learning rate ${lr.toExponential(2)})`,
        epoch + 1,
      );
    const examples = batches * config.batchSize;
    const val = data.validation
      ? await evaluate(model, data.validation, config.testTime, config.evalBatchSize, c.signal)
      : { loss: Number.NaN, error: Number.NaN };
    // an ensemble's loss is not defined (NaN): its parameters are checked when they are saved
    if (data.validation && config.testTime.kind !== "ensemble" && !Number.isFinite(val.loss)) {
      throw c.diverged(
        `validation loss became ${val.loss} in epoch ${epoch + 1} (learning rate ${lr.toExponential(2)}; training loss ${(lossSum / examples).toFixed(4)})`,
        epoch + 1,
      );
    }
    const record: EpochRecord = {
      epoch: epoch + 1,
      train_loss: lossSum / examples,
      train_error: errors / examples,
      val_loss: val.loss,
      val_error: val.error,
      test_error: c.best.testError,
      best_epoch: c.best.epoch,
      lr,
      seconds: trainSeconds,
      examples_per_second: examples / trainSeconds,
    };
    let best: Best | null = null;
    if (!data.validation || record.val_error <= c.best.valError) {
      const testError = data.test
        ? (await evaluate(model, data.test, config.testTime, config.evalBatchSize, c.signal)).error
        : Number.NaN;
      best = { valError: data.validation ? record.val_error : Number.NaN, testError, epoch: epoch + 1 };
    }
    return { record, best };
  } catch (e) {
    // aborted after steps the store does not have: save the epoch so far, then stop
    if (c.signal?.aborted && e === c.signal.reason && c.savePartial && done > first) {
      const [lossSum, errors] = await be.read(metrics);
      if (!Number.isFinite(lossSum))
        throw c.diverged(
          `training loss became ${lossSum} in epoch ${epoch + 1} (learning rate ${lr.toExponential(2)}), before it was aborted`,
          epoch + 1,
        );
      const now = performance.now();
      await c.savePartial({
        epoch: epoch + 1,
        batch: done,
        lossSum,
        errors,
        trainSeconds: trainSeconds ?? (partial?.trainSeconds ?? 0) + (now - started) / 1000,
        seconds: (partial?.seconds ?? 0) + (now - started) / 1000,
      });
    }
    throw e;
  } finally {
    for (const t of [x, y, metrics]) be.dispose(t);
  }
}
